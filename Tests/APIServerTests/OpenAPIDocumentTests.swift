@testable import APIMachinery
@testable import APIRegistry
@testable import APIServer
import APITestSupport
import Foundation
import KubeAPI
import ServerTestSupport
import TestSupport
import Testing

/// The OpenAPI documents (`OpenAPIV2`, `OpenAPIV3`, `OpenAPIProtobuf`) against the shapes of
/// kube-apiserver 1.32's api/openapi-spec, and how `/openapi/...` is served (ETags, hashes,
/// hostile requests).
@Suite struct OpenAPIDocumentTests {
    static let registry = ResourceRegistry()

    /// Every `$ref` in `value`.
    static func references(_ value: JSONValue) -> [String] {
        switch value {
        case .object(let members):
            var found: [String] = []
            if case .string(let reference)? = members["$ref"] { found.append(reference) }
            for member in members.values { found += references(member) }
            return found
        case .array(let items):
            return items.flatMap(references)
        default:
            return []
        }
    }

    /// The definition whose `x-kubernetes-group-version-kind` names the kind.
    static func schema(_ definitions: JSONValue?, group: String, version: String, kind: String) -> JSONValue? {
        guard case .object(let all)? = definitions else { return nil }
        return all.values.first { schema in
            schema["x-kubernetes-group-version-kind"]?.arrayValue?.contains {
                $0["group"] == .string(group) && $0["version"] == .string(version) && $0["kind"] == .string(kind)
            } == true
        }
    }

    @Test func v2DescribesEveryServedKindAndEveryReferenceResolves() throws {
        let document = OpenAPIV2.document(registry: Self.registry, gitVersion: "v1.32.0+swiftlet.1")
        let definitions = try #require(document["definitions"])
        for reference in Self.references(document) {
            #expect(reference.hasPrefix("#/definitions/"), "\(reference)")
            #expect(definitions[String(reference.dropFirst("#/definitions/".count))] != nil, "\(reference) does not resolve")
        }
        for resource in Self.registry.resources {
            let schema = Self.schema(definitions, group: resource.group, version: resource.version, kind: resource.kind)
            #expect(schema != nil, "no schema for \(resource.groupVersion) \(resource.kind)")
            if resource.verbs.contains("list") {
                #expect(Self.schema(definitions, group: resource.group, version: resource.version, kind: resource.kind + "List") != nil,
                        "no schema for \(resource.kind)List")
            }
        }
        // The meta types every group-version carries, with a kind in each.
        let status = try #require(definitions["io.k8s.apimachinery.pkg.apis.meta.v1.Status"])
        #expect(status["x-kubernetes-group-version-kind"]?.arrayValue?.count == Self.registry.groupVersions.count)
        #expect(definitions["io.k8s.apimachinery.pkg.apis.meta.v1.WatchEvent"] != nil)
        #expect(definitions["io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions"] != nil)
    }

    @Test func v2SchemasCarryUpstreamsTypesAndExtensions() throws {
        let document = OpenAPIV2.document(registry: Self.registry, gitVersion: "v1.32.0+swiftlet.1")
        let definitions = try #require(document["definitions"])
        let pod = try #require(definitions["io.k8s.api.core.v1.Pod"])
        #expect(pod["type"] == .string("object"))
        #expect(pod["x-kubernetes-group-version-kind"] == .array([.object(["group": .string(""), "kind": .string("Pod"), "version": .string("v1")])]))
        #expect(pod["properties"]?["metadata"]?["$ref"] == .string("#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"))
        #expect(pod["properties"]?["metadata"]?["description"]?.stringValue?.hasPrefix("Standard object's metadata.") == true)
        #expect(pod["properties"]?["kind"]?["type"] == .string("string"))

        let container = try #require(definitions["io.k8s.api.core.v1.Container"])
        #expect(container["required"] == .array([.string("name")]))
        let ports = try #require(container["properties"]?["ports"])
        #expect(ports["type"] == .string("array"))
        #expect(ports["items"]?["$ref"] == .string("#/definitions/io.k8s.api.core.v1.ContainerPort"))
        #expect(ports["x-kubernetes-list-type"] == .string("map"))
        #expect(ports["x-kubernetes-list-map-keys"] == .array([.string("containerPort"), .string("protocol")]))
        #expect(ports["x-kubernetes-patch-merge-key"] == .string("containerPort"))
        #expect(ports["x-kubernetes-patch-strategy"] == .string("merge"))
        #expect(container["properties"]?["command"]?["items"]?["type"] == .string("string"))
        #expect(container["properties"]?["stdin"]?["type"] == .string("boolean"))

        let port = try #require(definitions["io.k8s.api.core.v1.ContainerPort"])
        #expect(port["properties"]?["containerPort"]?["format"] == .string("int32"))
        #expect(port["properties"]?["protocol"]?["default"] == .string("TCP"))
        #expect(definitions["io.k8s.api.core.v1.PodSpec"]?["properties"]?["activeDeadlineSeconds"]?["format"] == .string("int64"))

        let requirements = try #require(definitions["io.k8s.api.core.v1.ResourceRequirements"])
        #expect(requirements["properties"]?["limits"]?["additionalProperties"]?["$ref"]
            == .string("#/definitions/io.k8s.apimachinery.pkg.api.resource.Quantity"))
        #expect(definitions["io.k8s.api.core.v1.LocalObjectReference"]?["x-kubernetes-map-type"] == .string("atomic"))
        #expect(definitions["io.k8s.api.apps.v1.DeploymentStrategy"]?["properties"]?["type"]?["enum"]
            == .array([.string("Recreate"), .string("RollingUpdate")]))
        #expect(definitions["io.k8s.api.core.v1.Secret"]?["properties"]?["data"]?["additionalProperties"]?["format"] == .string("byte"))

        // apimachinery's own JSON forms.
        let time = try #require(definitions["io.k8s.apimachinery.pkg.apis.meta.v1.Time"])
        #expect(time["type"] == .string("string") && time["format"] == .string("date-time"))
        let intOrString = try #require(definitions["io.k8s.apimachinery.pkg.util.intstr.IntOrString"])
        #expect(intOrString["type"] == .string("string") && intOrString["format"] == .string("int-or-string"))
        #expect(definitions["io.k8s.apimachinery.pkg.api.resource.Quantity"]?["type"] == .string("string"))
        #expect(definitions["io.k8s.apimachinery.pkg.runtime.RawExtension"]?["type"] == .string("object"))
        #expect(definitions["io.k8s.apimachinery.pkg.apis.meta.v1.FieldsV1"]?["type"] == .string("object"))
        // A Go slice type (authentication's ExtraValue) is written inline as its array.
        #expect(definitions["io.k8s.api.authentication.v1.ExtraValue"] == nil)
        let extra = try #require(definitions["io.k8s.api.authentication.v1.UserInfo"]?["properties"]?["extra"])
        #expect(extra["additionalProperties"]?["type"] == .string("array"))
    }

    @Test func v2KeepsThePatchOperationsKubectlChecksForFieldValidation() throws {
        let document = OpenAPIV2.document(registry: Self.registry, gitVersion: "v1.32.0+swiftlet.1")
        let patch = try #require(document["paths"]?["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]?["patch"])
        #expect(patch["operationId"] == .string("patchAppsV1NamespacedDeployment"))
        #expect(patch["x-kubernetes-group-version-kind"] == .object(["group": .string("apps"), "kind": .string("Deployment"), "version": .string("v1")]))
        let names = patch["parameters"]?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? []
        #expect(names.contains("fieldValidation") && names.contains("body") && names.contains("name") && names.contains("namespace"))
        #expect(patch["consumes"]?.arrayValue?.contains(.string("application/strategic-merge-patch+json")) == true)
        #expect(patch["responses"]?["200"]?["schema"]?["$ref"] == .string("#/definitions/io.k8s.api.apps.v1.Deployment"))
        let list = try #require(document["paths"]?["/api/v1/pods"]?["get"])
        #expect(list["operationId"] == .string("listCoreV1PodForAllNamespaces"))
        #expect(list["responses"]?["200"]?["schema"]?["$ref"] == .string("#/definitions/io.k8s.api.core.v1.PodList"))
        let scale = try #require(document["paths"]?["/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale"]?["put"])
        #expect(scale["x-kubernetes-group-version-kind"]?["group"] == .string("autoscaling"))
    }

    @Test func v3DocumentsWrapDescribedReferencesAndResolveThemselves() throws {
        for (group, version) in Self.registry.groupVersions {
            let document = try #require(OpenAPIV3.document(registry: Self.registry, group: group, version: version, gitVersion: "v"))
            let schemas = try #require(document["components"]?["schemas"])
            for reference in Self.references(document) {
                #expect(reference.hasPrefix("#/components/schemas/"), "\(reference)")
                #expect(schemas[String(reference.dropFirst("#/components/schemas/".count))] != nil, "\(group)/\(version): \(reference)")
            }
            for resource in Self.registry.resources where resource.group == group && resource.version == version {
                #expect(Self.schema(schemas, group: group, version: version, kind: resource.kind) != nil, "\(resource.kind)")
                let patch = document["paths"]?[(group.isEmpty ? "/api/" : "/apis/\(group)/") + version
                    + (resource.namespaced ? "/namespaces/{namespace}/" : "/") + resource.name + "/{name}"]?["patch"]
                if resource.verbs.contains("patch") {
                    #expect(patch?["parameters"]?.arrayValue?.contains { $0["name"] == .string("fieldValidation") } == true, "\(resource.name)")
                }
            }
        }
        let core = try #require(OpenAPIV3.document(registry: Self.registry, group: "", version: "v1", gitVersion: "v"))
        let schemas = try #require(core["components"]?["schemas"])
        let metadata = try #require(schemas["io.k8s.api.core.v1.Pod"]?["properties"]?["metadata"])
        #expect(metadata["$ref"] == nil)
        #expect(metadata["allOf"] == .array([.object(["$ref": .string("#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta")])]))
        #expect(metadata["description"] != nil && metadata["default"] == .object([:]))
        #expect(schemas["io.k8s.apimachinery.pkg.api.resource.Quantity"]?["oneOf"]
            == .array([.object(["type": .string("string")]), .object(["type": .string("number")])]))
        #expect(schemas["io.k8s.apimachinery.pkg.util.intstr.IntOrString"]?["format"] == .string("int-or-string"))
        let create = try #require(core["paths"]?["/api/v1/namespaces/{namespace}/pods"]?["post"])
        #expect(create["requestBody"]?["content"]?["*/*"]?["schema"]?["$ref"] == .string("#/components/schemas/io.k8s.api.core.v1.Pod"))
        #expect(create["responses"]?["201"]?["content"]?["application/json"]?["schema"]?["$ref"]
            == .string("#/components/schemas/io.k8s.api.core.v1.Pod"))
        #expect(OpenAPIV3.document(registry: Self.registry, group: "nope.example.com", version: "v1", gitVersion: "v") == nil)
    }

    @Test func theProtobufDocumentHoldsWhatTheJSONOneDoes() async throws {
        let document = OpenAPIV2.document(registry: Self.registry, gitVersion: "v1.32.0+swiftlet.1")
        let bytes = OpenAPIProtobuf.v2(document)
        let top = try ProtobufFields(bytes)
        #expect(top.strings(1) == ["2.0"])
        let definitions = try ProtobufFields(try #require(top.messages(9).first))
        var named: [String: [UInt8]] = [:]
        for entry in definitions.messages(1) {
            let fields = try ProtobufFields(entry)
            named[try #require(fields.strings(1).first)] = fields.messages(2).first
        }
        guard case .object(let json)? = document["definitions"] else { Issue.record("no definitions"); return }
        #expect(Set(named.keys) == Set(json.keys))
        // Pod: properties (25) hold metadata with its $ref (1); the GVK extension (31) holds YAML.
        let pod = try ProtobufFields(try #require(named["io.k8s.api.core.v1.Pod"]))
        #expect(try ProtobufFields(try #require(pod.messages(22).first)).strings(1) == ["object"])
        let properties = try ProtobufFields(try #require(pod.messages(25).first))
        var propertyNames: [String] = []
        for entry in properties.messages(1) {
            let fields = try ProtobufFields(entry)
            let name = try #require(fields.strings(1).first)
            propertyNames.append(name)
            if name == "metadata" {
                let schema = try ProtobufFields(try #require(fields.messages(2).first))
                #expect(schema.strings(1) == ["#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"])
            }
        }
        #expect(propertyNames == ["apiVersion", "kind", "metadata", "spec", "status"])
        let extensions = try pod.messages(31).map { try ProtobufFields($0) }
        let gvk = try #require(extensions.first { $0.strings(1) == ["x-kubernetes-group-version-kind"] })
        let yaml = try ProtobufFields(try #require(gvk.messages(2).first)).strings(2).first ?? ""
        #expect(yaml.contains(#""kind":"Pod""#))
        // protoc, when installed, decodes it too.
        if FileManager.default.isExecutableFile(atPath: "/usr/bin/protoc") {
            let result = try await blocking {
                try TestChild.launch(["/usr/bin/protoc", "--decode_raw"], stdin: .bytes(bytes), stdout: .capture, stderr: .capture).finish()
            }
            #expect(result.status == 0, "\(String(decoding: result.stderr, as: UTF8.self))")
            #expect(String(decoding: result.stdout, as: UTF8.self).contains("io.k8s.api.apps.v1.Deployment"))
        }
    }

    @Test func documentsAreServedWithETagsHashesAndNotModified() async throws {
        try await withTestServer { server in
            let v2 = try await server.client.send("GET", "/openapi/v2")
            #expect(v2.status == 200)
            let etag = try #require(v2.headers["etag"])
            #expect(etag.count == 130 && etag.hasPrefix("\""))
            #expect(try v2.json()["definitions"]?["io.k8s.api.core.v1.Pod"] != nil)
            let again = try await server.client.send("GET", "/openapi/v2", headers: ["If-None-Match": etag])
            #expect(again.status == 304 && again.body.isEmpty)
            let head = try await server.client.send("HEAD", "/openapi/v2")
            #expect(head.status == 200 && head.body.isEmpty && head.headers["etag"] == etag)

            let protobuf = try await server.client.send("GET", "/openapi/v2", headers: ["Accept": OpenAPIProtobuf.v2MediaType])
            #expect(protobuf.status == 200 && protobuf.headers["content-type"] == "application/octet-stream")
            #expect(protobuf.headers["etag"] != etag)

            let index = try await server.client.send("GET", "/openapi/v3").json()
            let url = try #require(index["paths"]?["apis/apps/v1"]?["serverRelativeURL"]?.stringValue)
            let hash = try #require(url.split(separator: "=").last.map(String.init))
            #expect(url == "/openapi/v3/apis/apps/v1?hash=\(hash)" && hash.count == 128)
            let document = try await server.client.send("GET", url)
            #expect(document.status == 200)
            #expect(document.headers["etag"] == "\"\(hash)\"")
            #expect(document.headers["cache-control"] == "public, immutable")
            // The hash is the document's: a SHA-512 of exactly the bytes served.
            #expect(OpenAPI.hash(document.body) == hash)
            #expect(try document.json()["components"]?["schemas"]?["io.k8s.api.apps.v1.Deployment"] != nil)
            let stale = try await server.client.send("GET", "/openapi/v3/apis/apps/v1?hash=0123ABCD")
            #expect(stale.status == 301 && stale.headers["location"] == url)
            let plain = try await server.client.send("GET", "/openapi/v3/apis/apps/v1")
            #expect(plain.status == 200 && plain.headers["cache-control"] == nil && plain.body == document.body)
            let cached = try await server.client.send("GET", "/openapi/v3/apis/apps/v1", headers: ["If-None-Match": "\"\(hash)\""])
            #expect(cached.status == 304)
        }
    }

    @Test func hostileOpenAPIRequestsGetClearAnswers() async throws {
        try await withTestServer { server in
            for path in ["/openapi/v3/apis/nope.example.com/v1", "/openapi/v3/apis/apps", "/openapi/v3/api/v2", "/openapi/v3/apis/apps/v1/extra",
                         "/openapi/v4", "/openapi", "/openapi/v3/apis/apps/v1/../../api/v1", "/openapi/v3/%00"] {
                let response = try await server.client.send("GET", path)
                #expect(response.status == 404, "\(path)")
                #expect(try response.json()["kind"] == .string("Status"), "\(path)")
            }
            let protobufOnly = try await server.client.send("GET", "/openapi/v3/api/v1", headers: ["Accept": "application/vnd.kubernetes.protobuf"])
            #expect(protobufOnly.status == 406)
            #expect(try protobufOnly.json()["reason"] == .string("NotAcceptable"))
            let write = try await server.client.send("POST", "/openapi/v2", body: Array("{}".utf8))
            #expect(write.status == 404)
            // A garbage If-None-Match is just not a match.
            let garbage = try await server.client.send("GET", "/openapi/v3", headers: ["If-None-Match": "\"abc\", W/, ,,"])
            #expect(garbage.status == 200)
            let empty = try await server.client.send("GET", "/openapi/v3/api/v1?hash=")
            #expect(empty.status == 200)
        }
    }
}

/// A protobuf message's fields by number (enough to walk gnostic's documents in tests).
struct ProtobufFields {
    private(set) var lengthDelimited: [Int: [[UInt8]]] = [:]

    init(_ bytes: [UInt8]) throws {
        var index = 0
        func varint() throws -> UInt64 {
            var value: UInt64 = 0, shift: UInt64 = 0
            while true {
                guard index < bytes.count, shift < 64 else { throw TestFailure("truncated varint") }
                let byte = bytes[index]
                index += 1
                value |= UInt64(byte & 0x7F) << shift
                if byte & 0x80 == 0 { return value }
                shift += 7
            }
        }
        while index < bytes.count {
            let key = try varint()
            switch key & 7 {
            case 0: _ = try varint()
            case 2:
                let length = Int(try varint())
                guard length >= 0, index + length <= bytes.count else { throw TestFailure("field \(key >> 3) overruns the message") }
                lengthDelimited[Int(key >> 3), default: []].append(Array(bytes[index..<index + length]))
                index += length
            default: throw TestFailure("unexpected wire type \(key & 7)")
            }
        }
    }

    func messages(_ field: Int) -> [[UInt8]] { lengthDelimited[field] ?? [] }
    func strings(_ field: Int) -> [String] { messages(field).map { String(decoding: $0, as: UTF8.self) } }
}
