@testable import APIMachinery
@testable import APIRegistry
@testable import APIServer
import APITestSupport
import Foundation
import KubeAPI
import ServerTestSupport
import Testing

/// Bodies recorded from kubectl 1.32 (`kubectl create deployment pb --image=nginx --replicas=2
/// --port=80`, `create service clusterip pbsvc --tcp=80:8080`, `create secret generic pbsec
/// --from-literal=x=y`, `create namespace pbns`).
@Suite struct ProtobufDecoderTests {
    static let deployment = "azhzAAoVCgdhcHBzL3YxEgpEZXBsb3ltZW50ErQBCh0KAnBiEgAaACIAKgAyADgAQgBaCQoDYXBwEgJwYhKEAQgCEgsKCQoDYXBwEgJwYhprChsKABIAGgAiACoAMgA4AEIAWgkKA2FwcBICcGISTBIuCgVuZ2lueBIFbmdpbngqADIKCgAQABhQIgAqAEIAagByAIABAIgBAJABAKIBABoAMgBCAEoAUgBYAGAAaACCAQCKAQCaAQDCAQAiAgoAKAA4ABoMCAAQABgAIAAoADgAGgAiAA=="
    static let service = "azhzAAoNCgJ2MRIHU2VydmljZRJvCiMKBXBic3ZjEgAaACIAKgAyADgAQgBaDAoDYXBwEgVwYnN2YxJEChsKBzgwLTgwODASA1RDUBhQIgcIABCQPxoAKAASDAoDYXBwEgVwYnN2YxoAIglDbHVzdGVySVA6AEIAUgBaAGAAaAAaAgoAGgAiAA=="
    static let secret = "azhzAAoMCgJ2MRIGU2VjcmV0EiEKFQoFcGJzZWMSABoAIgAqADIAOABCABIGCgF4EgF5GgAaACIA"
    static let namespace = "azhzAAoPCgJ2MRIJTmFtZXNwYWNlEhwKFAoEcGJucxIAGgAiACoAMgA4AEIAEgAaAgoAGgAiAA=="

    func decode(_ base64: String) throws -> JSONValue {
        try ProtobufDecoder.decodeObject(Array(try #require(Data(base64Encoded: base64))))
    }

    @Test func deploymentFromKubectlCreate() throws {
        let object = try decode(Self.deployment)
        #expect(object["apiVersion"] == .string("apps/v1"))
        #expect(object["kind"] == .string("Deployment"))
        #expect(object["metadata"] == .object(["name": .string("pb"), "labels": .object(["app": .string("pb")])]))
        let spec = try #require(object["spec"])
        #expect(spec["replicas"] == .int(2))
        #expect(spec["selector"] == .object(["matchLabels": .object(["app": .string("pb")])]))
        #expect(spec["strategy"] == .object([:]))
        let container = try #require(spec["template"]?["spec"]?["containers"]?.arrayValue?.first)
        #expect(container == .object(["name": .string("nginx"), "image": .string("nginx"), "resources": .object([:]),
                                      "ports": .array([.object(["containerPort": .int(80)])])]))
    }

    @Test func serviceKeepsIntOrStringTargetPorts() throws {
        let object = try decode(Self.service)
        let port = try #require(object["spec"]?["ports"]?.arrayValue?.first)
        #expect(port == .object(["name": .string("80-8080"), "protocol": .string("TCP"), "port": .int(80), "targetPort": .int(8080)]))
        #expect(object["spec"]?["type"] == .string("ClusterIP"))
        #expect(object["spec"]?["selector"] == .object(["app": .string("pbsvc")]))
    }

    @Test func secretBytesBecomeBase64() throws {
        let object = try decode(Self.secret)
        #expect(object["data"] == .object(["x": .string("eQ==")]))
    }

    @Test func namespace() throws {
        let object = try decode(Self.namespace)
        #expect(object["metadata"]?["name"] == .string("pbns"))
        #expect(object["kind"] == .string("Namespace"))
    }

    @Test func badBodiesAreBadRequests() throws {
        #expect(throws: APIError.self) { try ProtobufDecoder.decodeObject(Array("{}".utf8)) }
        var truncated = Array(try #require(Data(base64Encoded: Self.deployment)))
        truncated.removeLast(20)
        #expect(throws: APIError.self) { try ProtobufDecoder.decodeObject(truncated) }
        // An envelope naming a kind this server has no schema for.
        let unknownKind: [UInt8] = ProtobufDecoder.magic + [0x0A, 0x0A, 0x0A, 0x02] + Array("v1".utf8) + [0x12, 0x04] + Array("Nope".utf8)
        #expect(throws: APIError.self) { try ProtobufDecoder.decodeObject(unknownKind) }
    }

    @Test func timesDecodeToRFC3339() throws {
        // ObjectMeta{creationTimestamp: {seconds: 1700000000}} inside a ConfigMap.
        var seconds = ProtobufWriter()
        seconds.varint(0x08)
        seconds.varint(1_700_000_000)
        let time = seconds.bytes
        let meta: [UInt8] = [0x0A, 0x01, 0x63, 0x42, UInt8(time.count)] + time
        let raw: [UInt8] = [0x0A, UInt8(meta.count)] + meta
        let typeMeta: [UInt8] = [0x0A, 0x02] + Array("v1".utf8) + [0x12, 0x09] + Array("ConfigMap".utf8)
        let body = ProtobufDecoder.magic + [0x0A, UInt8(typeMeta.count)] + typeMeta + [0x12, UInt8(raw.count)] + raw
        let object = try ProtobufDecoder.decodeObject(body)
        #expect(object["metadata"]?["creationTimestamp"] == .string("2023-11-14T22:13:20Z"))
    }
}
