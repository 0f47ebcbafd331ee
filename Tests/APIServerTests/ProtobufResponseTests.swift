@testable import APIMachinery
@testable import APIServer
import APITestSupport
import Foundation
import KubeAPI
import ServerTestSupport
import TestSupport
import Testing

/// Protobuf responses (`Accept: application/vnd.kubernetes.protobuf`, client-go's default for
/// built-in kinds): objects, lists, Status errors and watch frames, read back by protoc (with
/// .proto files made from the server's tables, and raw against upstream's field numbers), by
/// this server's decoder, and by real kubectl.
@Suite struct ProtobufResponseTests {
    static let protobuf = "application/vnd.kubernetes.protobuf"
    static let clientGo = "application/vnd.kubernetes.protobuf, application/json"

    static let pod = """
        {"apiVersion":"v1","kind":"Pod","metadata":{"name":"web","labels":{"app":"web","tier":"front"},
          "annotations":{"note":"ünïcode ✓"}},
         "spec":{"containers":[{"name":"web","image":"nginx:1.25","command":["nginx","-g","daemon off;"],
           "ports":[{"name":"http","containerPort":8080}],
           "env":[{"name":"MODE","value":"prod"},{"name":"POD","valueFrom":{"fieldRef":{"fieldPath":"metadata.name"}}}],
           "resources":{"limits":{"cpu":"500m","memory":"128Mi"},"requests":{"cpu":"250m","memory":"64Mi"}},
           "livenessProbe":{"httpGet":{"path":"/healthz","port":8080},"initialDelaySeconds":3,"periodSeconds":10},
           "readinessProbe":{"httpGet":{"path":"/ready","port":"http"}},
           "securityContext":{"runAsUser":0,"allowPrivilegeEscalation":false}}],
          "volumes":[{"name":"data","emptyDir":{}},{"name":"cfg","configMap":{"name":"cfg","defaultMode":420}}],
          "terminationGracePeriodSeconds":0}}
        """

    /// The envelope of a whole protobuf body: apiVersion, kind and the raw message.
    static func unwrap(_ body: [UInt8]) throws -> (apiVersion: String, kind: String, raw: [UInt8]) {
        guard body.count > 4, Array(body.prefix(4)) == [0x6B, 0x38, 0x73, 0x00] else { throw TestFailure("no k8s\\0 magic") }
        let unknown = try ProtobufFields(Array(body.dropFirst(4)))
        let typeMeta = try ProtobufFields(try #require(unknown.messages(1).first))
        // contentEncoding and contentType: written, empty, as kube-apiserver writes them.
        #expect(unknown.strings(3) == [""] && unknown.strings(4) == [""])
        return (typeMeta.strings(1).first ?? "", typeMeta.strings(2).first ?? "", unknown.messages(2).first ?? [])
    }

    /// Asserts that protoc reads `raw` as `type` with the same values as `json`.
    static func expectProtocAgrees(_ type: String, _ raw: [UInt8], _ json: JSONValue, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let text = try await ProtocText.decode(type, raw)
        // Fields protoc does not know (a wrong number or wire type) print as bare numbers.
        #expect(!text.split(separator: "\n").contains { $0.trimmingCharacters(in: .whitespaces).first?.isNumber == true },
                "unknown fields in \(type):\n\(text)", sourceLocation: sourceLocation)
        let differences = ProtocText.differences(json, try ProtocText.parse(text))
        #expect(differences.isEmpty, "\(type): \(differences.joined(separator: "; "))\n\(text)", sourceLocation: sourceLocation)
    }

    // MARK: - Negotiation

    @Test func negotiationFollowsKubeOrder() throws {
        func negotiate(_ accept: String?, protobuf: Bool = true) throws -> MediaTypes.Negotiated {
            try MediaTypes.negotiate(accept: accept, protobufAvailable: protobuf)
        }
        let json = MediaTypes.Negotiated(representation: .object, encoding: .json)
        let proto = MediaTypes.Negotiated(representation: .object, encoding: .protobuf)
        #expect(try negotiate(nil) == json)
        #expect(try negotiate("*/*") == json)
        #expect(try negotiate("application/*") == json)
        #expect(try negotiate(Self.clientGo) == proto)
        #expect(try negotiate("application/json, application/vnd.kubernetes.protobuf") == json)
        // q-values first, then specificity (goautoneg).
        #expect(try negotiate("application/json;q=0.5, application/vnd.kubernetes.protobuf") == proto)
        // goautoneg's Less puts a concrete type before `*/*` whatever their q, and Go's insertion
        // sort acts on it: kube-apiserver answers protobuf here.
        #expect(try negotiate("*/*, application/vnd.kubernetes.protobuf;q=0.9") == proto)
        #expect(try negotiate("application/json;q=0.9, application/vnd.kubernetes.protobuf;q=0.8") == json)
        #expect(try negotiate("*/*;q=1, application/vnd.kubernetes.protobuf") == proto)
        #expect(try negotiate("APPLICATION/VND.KUBERNETES.PROTOBUF") == proto)
        // A Table or metadata-only form in protobuf is not served: the next clause is.
        #expect(try negotiate("application/vnd.kubernetes.protobuf;as=Table;v=v1;g=meta.k8s.io, application/json;as=Table;v=v1;g=meta.k8s.io")
            == MediaTypes.Negotiated(representation: .table(version: "v1"), encoding: .json))
        #expect(try negotiate("application/vnd.kubernetes.protobuf;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json")
            == json)
        // Kinds without a protobuf schema fall back to the next clause, or 406.
        #expect(try negotiate(Self.clientGo, protobuf: false) == json)
        do {
            _ = try negotiate(Self.protobuf, protobuf: false)
            Issue.record("protobuf-only for a kind without a schema was served")
        } catch let error as APIError {
            #expect(error.code == 406)
            #expect(error.message == "only the following media types are accepted: application/json, application/yaml, application/vnd.kubernetes.protobuf")
        }
        #expect(throws: APIError.self) { try negotiate("application/vnd.kubernetes.protobuf;as=Table;v=v1;g=meta.k8s.io") }
        #expect(throws: APIError.self) { try negotiate("application/vnd.kubernetes.protobuf;stream=other") }
        #expect(try negotiate("application/vnd.kubernetes.protobuf;stream=watch") == proto)
        // Errors: conversions are skipped, and nothing acceptable is JSON, not a second 406.
        #expect(MediaTypes.statusEncoding(accept: Self.clientGo) == .protobuf)
        #expect(MediaTypes.statusEncoding(accept: "application/json;as=Table;v=v1;g=meta.k8s.io,application/json") == .json)
        #expect(MediaTypes.statusEncoding(accept: "text/html") == .json)
    }

    @Test func hostileAcceptHeaders() throws {
        for accept in [",,,", ";;;", "/", "application/", "a/b/c", "*/*;q=", ";q=1", "application/vnd.kubernetes.protobuf;q=abc",
                       String(repeating: "x", count: 100_000), String(repeating: "a/b;q=0.1,", count: 20_000)] {
            // Either a representation or 406; never a crash, never slow.
            let start = Date()
            _ = try? MediaTypes.negotiate(accept: accept, protobufAvailable: true)
            _ = MediaTypes.statusEncoding(accept: accept)
            #expect(Date().timeIntervalSince(start) < 1, "\(accept.prefix(40))")
        }
        // Only the first clauses are read.
        let many = String(repeating: "text/plain;q=0.5,", count: 1000) + Self.protobuf
        #expect(AcceptClause.parse(many).count == AcceptClause.maximumClauses)
        // An unparsable q is 0, which sorts last (goautoneg), but the clause is still a candidate.
        #expect(try MediaTypes.negotiate(accept: "application/vnd.kubernetes.protobuf;q=abc", protobufAvailable: true).encoding == .protobuf)
        #expect(AcceptClause.parse("application/json;q=abc, application/vnd.kubernetes.protobuf;q=0.1").map(\.subType)
            == ["vnd.kubernetes.protobuf", "json"])
    }

    @Test func hostileAcceptHeadersOverHTTP() async throws {
        try await withTestServer { server in
            let client = server.client
            let path = "/api/v1/namespaces/default/configmaps"
            #expect(try await client.send("POST", path, json: try json(#"{"metadata":{"name":"a"}}"#)).status == 201)
            let headers = [",,,", "application/vnd.kubernetes.protobuf;;;q", "application/vnd.kubernetes.protobuf;as=;g=;v=",
                           "application/vnd.kubernetes.protobuf;q=-1", "application/vnd.kubernetes.protobuf;q=1e309, application/json;q=nan",
                           String(repeating: "application/vnd.kubernetes.protobuf;q=0.1,", count: 1500),
                           String(repeating: "text/plain;q=0.9,", count: 1500) + "application/json"]
            for accept in headers {
                for target in [path, path + "/a", path + "/missing", path + "?watch=1&timeoutSeconds=1"] {
                    let response = try await client.send("GET", target, headers: ["Accept": accept])
                    #expect([200, 404, 406].contains(response.status), "\(accept.prefix(60)) \(target): \(response.status)")
                    if response.headers["content-type"] == Self.protobuf {
                        // The envelope names the kind; the decoder reads the request kinds (not lists or Status).
                        let kind = try Self.unwrap(response.body).kind
                        #expect(kind == (response.status == 404 ? "Status" : target == path ? "ConfigMapList" : "ConfigMap"))
                        if kind == "ConfigMap" { _ = try ProtobufDecoder.decodeObject(response.body) }
                    }
                }
            }
            // Still serving.
            #expect(try await client.send("GET", path + "/a").status == 200)
        }
    }

    @Test func oddValuesEncodeWithoutTrapping() throws {
        // Values of the wrong JSON type (the store holds validated objects, but the encoder must
        // not trap on anything): numbers as strings, objects as scalars, huge numbers, bad times.
        let odd = try json("""
            {"apiVersion":"v1","kind":"Pod","metadata":{"name":7,"labels":"x","creationTimestamp":"not a time",
              "deletionGracePeriodSeconds":1e300,"annotations":{"a":null}},
             "spec":{"containers":[null,{"name":"c","ports":[{"containerPort":"80"}],"livenessProbe":{"httpGet":{"port":1e12}}}],
               "activeDeadlineSeconds":-9223372036854775808,"volumes":"nope"}}
            """)
        let body = try ProtobufEncoder.encodeObject(odd)
        let decoded = try ProtobufDecoder.decodeObject(body)
        #expect(decoded["metadata"]?["name"] == .string("7"))
        #expect(decoded["spec"]?["activeDeadlineSeconds"] == .int(Int64.min))
        var deep: JSONValue = .object([:])
        for _ in 0..<200 { deep = .object(["matchExpressions": .array([.object(["key": .string("k")])]), "x": deep]) }
        _ = try? ProtobufEncoder.encodeObject(.object(["apiVersion": .string("v1"), "kind": .string("Pod"), "metadata": deep]))
        #expect(throws: APIError.self) { try ProtobufEncoder.encodeObject(.object(["apiVersion": .string("v1"), "kind": .string("Nope")])) }
    }

    // MARK: - Encoder, read back

    @Test func encoderRoundTripsThroughTheDecoder() throws {
        let pod = try json(Self.pod)
        let body = try ProtobufEncoder.encodeObject(pod)
        let decoded = try ProtobufDecoder.decodeObject(body)
        #expect(decoded["spec"]?["containers"] == pod["spec"]?["containers"])
        #expect(decoded["spec"]?["volumes"] == pod["spec"]?["volumes"])
        #expect(decoded["metadata"] == pod["metadata"])
        #expect(decoded["spec"]?["terminationGracePeriodSeconds"] == .int(0))
        // The recorded kubectl bodies decode and encode back to the same values.
        for base64 in [ProtobufDecoderTests.deployment, ProtobufDecoderTests.service, ProtobufDecoderTests.secret] {
            let object = try ProtobufDecoder.decodeObject(Array(try #require(Data(base64Encoded: base64))))
            #expect(try ProtobufDecoder.decodeObject(try ProtobufEncoder.encodeObject(object)) == object)
        }
        #expect(GoDuration.nanoseconds("1h2m3.5s") == 3_723_500_000_000)
        #expect(GoDuration.nanoseconds("300ms") == 300_000_000)
        #expect(GoDuration.nanoseconds("-1.5s") == -1_500_000_000)
        #expect(GoDuration.nanoseconds("x") == nil)
        #expect(ProtobufEncoder.timestamp("2026-12-03T10:00:00.123456Z")! == (1_796_292_000, 123_456_000))
    }

    /// The field numbers, checked against upstream's: `protoc --decode_raw` and numbers copied
    /// by hand from Kubernetes' generated.proto (k8s.io/api and k8s.io/apimachinery v0.32).
    /// The protoc tests below read with .proto files made from the server's own tables
    /// (`ProtoSchemaFile`), so this is what ties those tables to upstream. Pod: metadata 1,
    /// spec 2; PodSpec.containers 2; Container: name 1, image 2, resources 8, livenessProbe 10,
    /// readinessProbe 11; ResourceRequirements.limits 1; Probe.handler 1; ProbeHandler.httpGet 2;
    /// HTTPGetAction: path 1, port 2; IntOrString: type 1, intVal 2, strVal 3; Quantity.string 1;
    /// ObjectMeta: name 1, resourceVersion 6, creationTimestamp 8, labels 11; Time.seconds 1;
    /// Deployment.spec 2; DeploymentSpec: replicas 1, template 3; PodTemplateSpec.spec 2;
    /// Service.spec 2; ServiceSpec.ports 1; ServicePort: name 1, port 3, targetPort 4;
    /// PodList: metadata 1, items 2; ListMeta: resourceVersion 2, continue 3; Status: status 2,
    /// message 3, reason 4, details 5, code 6; StatusDetails: name 1, kind 3. (WatchEvent's
    /// type 1 and object 2, RawExtension.raw 1: `watchFramesAreLengthDelimitedWatchEvents`.)
    @Test(.requires(ProtocText.isInstalled, "needs protoc (Debian's protobuf-compiler)"))
    func protocRawReadsUpstreamFieldNumbers() async throws {
        var podJSON = try json(Self.pod)
        podJSON.set(.string("2026-12-03T10:00:00Z"), at: ["metadata", "creationTimestamp"])
        podJSON.set(.string("42"), at: ["metadata", "resourceVersion"])
        let pod = try await ProtocText.decodeRaw(try Self.unwrap(try ProtobufEncoder.encodeObject(podJSON)).raw)
        #expect(pod["1"]?["1"]?.text == "web")
        #expect(pod["1"]?["6"]?.text == "42" && pod["1"]?["8"]?["1"]?.text == "1796292000")
        let labels = pod["1"]?.all("11").map { ($0["1"]?.text ?? "", $0["2"]?.text ?? "") }
        #expect(labels?.map(\.0) == ["app", "tier"] && labels?.map(\.1) == ["web", "front"])
        let container = try #require(pod["2"]?["2"])
        #expect(container["1"]?.text == "web" && container["2"]?.text == "nginx:1.25")
        let limits = container["8"]?.all("1").map { ($0["1"]?.text ?? "", $0["2"]?["1"]?.text ?? "") }
        #expect(limits?.map(\.0) == ["cpu", "memory"] && limits?.map(\.1) == ["500m", "128Mi"])
        let liveness = try #require(container["10"]?["1"]?["2"])
        #expect(liveness["1"]?.text == "/healthz" && liveness["2"]?["1"]?.text == "0" && liveness["2"]?["2"]?.text == "8080")
        let readiness = try #require(container["11"]?["1"]?["2"])
        #expect(readiness["2"]?["1"]?.text == "1" && readiness["2"]?["3"]?.text == "http")

        let deployment = try await ProtocText.decodeRaw(try Self.unwrap(try ProtobufEncoder.encodeObject(try json(deploymentJSON("web", replicas: 3)))).raw)
        #expect(deployment["2"]?["1"]?.text == "3")
        #expect(deployment["2"]?["3"]?["2"]?["2"]?["1"]?.text == "c" && deployment["2"]?["3"]?["2"]?["2"]?["2"]?.text == "nginx:1.25")

        let service = try json(#"{"apiVersion":"v1","kind":"Service","metadata":{"name":"svc"},"spec":{"ports":[{"name":"a","port":80,"targetPort":8080},{"name":"b","port":81,"targetPort":"http"}]}}"#)
        let ports = try await ProtocText.decodeRaw(try Self.unwrap(try ProtobufEncoder.encodeObject(service)).raw)["2"]?.all("1") ?? []
        #expect(ports.map { $0["1"]?.text } == ["a", "b"] && ports.map { $0["3"]?.text } == ["80", "81"])
        #expect(ports.first?["4"]?["2"]?.text == "8080" && ports.last?["4"]?["3"]?.text == "http")

        let listBody = try ProtobufEncoder.encodeList(apiVersion: "v1", kind: "PodList", metadata: try json(#"{"resourceVersion":"7","continue":"next"}"#),
                                                      items: [JSONSerializer.serialize(podJSON)])
        let list = try await ProtocText.decodeRaw(try Self.unwrap(listBody).raw)
        #expect(list["1"]?["2"]?.text == "7" && list["1"]?["3"]?.text == "next" && list.all("2").first?["1"]?["1"]?.text == "web")

        let status = try json(#"{"apiVersion":"v1","kind":"Status","status":"Failure","message":"pods \"nope\" not found","reason":"NotFound","details":{"name":"nope","kind":"pods"},"code":404}"#)
        let read = try await ProtocText.decodeRaw(try Self.unwrap(try ProtobufEncoder.encodeObject(status)).raw)
        #expect(read["2"]?.text == "Failure" && read["3"]?.text == #"pods "nope" not found"# && read["4"]?.text == "NotFound")
        #expect(read["5"]?["1"]?.text == "nope" && read["5"]?["3"]?.text == "pods" && read["6"]?.text == "404")
    }

    @Test(.requires(ProtocText.isInstalled, "needs protoc (Debian's protobuf-compiler)"))
    func protocReadsObjectsListsAndStatus() async throws {
        try await withTestServer { server in
            let client = server.client
            let pods = "/api/v1/namespaces/default/pods"
            #expect(try await client.send("POST", pods, json: try json(Self.pod)).status == 201)
            let asJSON = try await client.send("GET", pods + "/web").json()
            let got = try await client.send("GET", pods + "/web", headers: ["Accept": Self.clientGo])
            #expect(got.status == 200 && got.headers["content-type"] == Self.protobuf)
            let envelope = try Self.unwrap(got.body)
            #expect(envelope.apiVersion == "v1" && envelope.kind == "Pod")
            try await Self.expectProtocAgrees("k8s.io.api.core.v1.Pod", envelope.raw, asJSON)
            #expect(asJSON["metadata"]?["creationTimestamp"] != nil && asJSON["spec"]?["containers"]?.arrayValue?.first?["livenessProbe"] != nil)

            // A Deployment and a Service, created in protobuf's company (JSON), read in protobuf.
            let deployments = "/apis/apps/v1/namespaces/default/deployments"
            #expect(try await client.send("POST", deployments, json: try json(deploymentJSON("web", replicas: 0))).status == 201)
            let deployment = try await client.send("GET", deployments + "/web", headers: ["Accept": Self.protobuf])
            let deploymentJSON = try await client.send("GET", deployments + "/web").json()
            let unwrapped = try Self.unwrap(deployment.body)
            #expect(unwrapped.apiVersion == "apps/v1" && unwrapped.kind == "Deployment")
            try await Self.expectProtocAgrees("k8s.io.api.apps.v1.Deployment", unwrapped.raw, deploymentJSON)
            // replicas: 0 is a value (a pointer in Go), so it is written.
            #expect(deploymentJSON["spec"]?["replicas"] == .int(0))

            let services = "/api/v1/namespaces/default/services"
            let service = #"{"metadata":{"name":"svc"},"spec":{"selector":{"app":"web"},"ports":[{"name":"a","port":80,"targetPort":8080},{"name":"b","port":81,"targetPort":"http"}]}}"#
            #expect(try await client.send("POST", services, json: try json(service)).status == 201)
            let svc = try await client.send("GET", services + "/svc", headers: ["Accept": Self.protobuf])
            try await Self.expectProtocAgrees("k8s.io.api.core.v1.Service", try Self.unwrap(svc.body).raw,
                                              try await client.send("GET", services + "/svc").json())

            // A list (served from stored bytes in JSON, item by item in protobuf).
            #expect(try await client.send("POST", pods, json: try json(#"{"metadata":{"name":"two"},"spec":{"containers":[{"name":"c","image":"busybox"}]}}"#)).status == 201)
            let list = try await client.send("GET", pods, headers: ["Accept": Self.clientGo])
            let listed = try Self.unwrap(list.body)
            #expect(listed.apiVersion == "v1" && listed.kind == "PodList")
            let listJSON = try await client.send("GET", pods).json()
            try await Self.expectProtocAgrees("k8s.io.api.core.v1.PodList", listed.raw, listJSON)
            #expect(listJSON["items"]?.arrayValue?.count == 2)

            // A Status: 404, in protobuf, for a client that prefers it.
            let missing = try await client.send("GET", pods + "/nope", headers: ["Accept": Self.clientGo])
            #expect(missing.status == 404 && missing.headers["content-type"] == Self.protobuf)
            let status = try Self.unwrap(missing.body)
            #expect(status.apiVersion == "v1" && status.kind == "Status")
            let statusJSON = try await client.send("GET", pods + "/nope").json()
            try await Self.expectProtocAgrees("k8s.io.apimachinery.pkg.apis.meta.v1.Status", status.raw, statusJSON)
            #expect(statusJSON["code"] == .int(404) && statusJSON["details"]?["name"] == .string("nope"))

            // Writes answer in protobuf too: create, delete.
            let created = try await client.send("POST", "/api/v1/namespaces/default/configmaps",
                                                headers: ["Accept": Self.protobuf, "Content-Type": "application/json"],
                                                body: Array(#"{"metadata":{"name":"cm"},"data":{"a":"b"},"binaryData":{"z":"AAEC"}}"#.utf8))
            #expect(created.status == 201 && created.headers["content-type"] == Self.protobuf)
            let configMap = try ProtobufDecoder.decodeObject(created.body)
            #expect(configMap["data"] == .object(["a": .string("b")]) && configMap["binaryData"] == .object(["z": .string("AAEC")]))
            let deleted = try await client.send("DELETE", "/api/v1/namespaces/default/configmaps/cm", headers: ["Accept": Self.clientGo])
            let deletedKind = try Self.unwrap(deleted.body).kind
            #expect(deleted.status == 200 && deletedKind == "Status")

            // Tables stay JSON, as kube-apiserver serves them.
            let table = try await client.send("GET", pods, headers: ["Accept": "application/vnd.kubernetes.protobuf;as=Table;v=v1;g=meta.k8s.io, application/json;as=Table;v=v1;g=meta.k8s.io, application/json"])
            let tableKind = try table.json()["kind"]
            #expect(table.headers["content-type"] == "application/json" && tableKind == .string("Table"))
            let onlyProtobufTable = try await client.send("GET", pods, headers: ["Accept": "application/vnd.kubernetes.protobuf;as=Table;v=v1;g=meta.k8s.io"])
            #expect(onlyProtobufTable.status == 406 && onlyProtobufTable.headers["content-type"] == "application/json")
            #expect(try onlyProtobufTable.json()["message"]
                == .string("only the following media types are accepted: application/json, application/yaml, application/vnd.kubernetes.protobuf"))
        }
    }

    @Test(.requires(ProtocText.isInstalled, "needs protoc (Debian's protobuf-compiler)"))
    func watchFramesAreLengthDelimitedWatchEvents() async throws {
        try await withTestServer { server in
            let client = server.client
            let pods = "/api/v1/namespaces/default/pods"
            #expect(try await client.send("POST", pods, json: try json(Self.pod)).status == 201)
            let podJSON = try await client.send("GET", pods + "/web").json()
            let watch = try await client.send("GET", pods + "?watch=1&timeoutSeconds=1", headers: ["Accept": Self.clientGo])
            #expect(watch.status == 200)
            #expect(watch.headers["content-type"] == "application/vnd.kubernetes.protobuf;stream=watch")
            var frames: [[UInt8]] = []
            var index = 0
            while index + 4 <= watch.body.count {
                let length = watch.body[index..<index + 4].reduce(0) { $0 << 8 | Int($1) }
                index += 4
                guard index + length <= watch.body.count else { Issue.record("truncated frame"); break }
                frames.append(Array(watch.body[index..<index + length]))
                index += length
            }
            #expect(index == watch.body.count)
            let frame = try #require(frames.first)
            // Upstream's numbers (generated.proto): WatchEvent type 1, object 2; RawExtension.raw 1.
            let rawEvent = try await ProtocText.decodeRaw(frame)
            #expect(rawEvent["1"]?.text == "ADDED" && rawEvent["2"]?["1"]?.text?.hasPrefix("k8s") == true, "\(rawEvent)")
            let text = try await ProtocText.decode("k8s.io.apimachinery.pkg.apis.meta.v1.WatchEvent", frame)
            let event = try ProtocText.parse(text)
            #expect(event["type"]?.text == "ADDED")
            // The object is a whole protobuf body inside RawExtension.raw.
            let eventFields = try ProtobufFields(frame)
            let rawExtension = try #require(eventFields.messages(2).first)
            let raw = try #require(try ProtobufFields(rawExtension).messages(1).first)
            let object = try Self.unwrap(raw)
            #expect(object.kind == "Pod" && object.apiVersion == "v1")
            try await Self.expectProtocAgrees("k8s.io.api.core.v1.Pod", object.raw, podJSON)

            // The initial-events-end BOOKMARK: a Pod of only metadata, in the same framing.
            let listed = try await client.send("GET", pods + "?watch=1&timeoutSeconds=1&sendInitialEvents=true"
                                               + "&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true", headers: ["Accept": Self.protobuf])
            var types: [String] = []
            var offset = 0
            while offset + 4 <= listed.body.count {
                let length = listed.body[offset..<offset + 4].reduce(0) { $0 << 8 | Int($1) }
                let frame = Array(listed.body[offset + 4..<min(listed.body.count, offset + 4 + length)])
                offset += 4 + length
                let event = try ProtocText.parse(try await ProtocText.decode("k8s.io.apimachinery.pkg.apis.meta.v1.WatchEvent", frame))
                types.append(event["type"]?.text ?? "")
                if event["type"]?.text == "BOOKMARK" {
                    let extensionBytes = try #require(try ProtobufFields(frame).messages(2).first)
                    let raw = try #require(try ProtobufFields(extensionBytes).messages(1).first)
                    let bookmark = try ProtocText.parse(try await ProtocText.decode("k8s.io.api.core.v1.Pod", try Self.unwrap(raw).raw))
                    #expect(bookmark["metadata"]?["annotations"]?["key"]?.text == "k8s.io/initial-events-end")
                    #expect(bookmark["metadata"]?["resourceVersion"]?.text?.isEmpty == false)
                }
            }
            #expect(types == ["ADDED", "BOOKMARK"], "\(types)")
        }
    }

    /// `kubectl describe node`: kubectl 1.32 reads the node in protobuf; the output is the
    /// one kubectl 1.27 prints.
    @Test(.requires(Kubectl.isInstalled && FileManager.default.isExecutableFile(atPath: Kubectl.binary127), "needs kubectl 1.32 and 1.27"))
    func kubectlDescribeNodeReadsProtobuf() async throws {
        try await withTestServer { server in
            let kubectl = try Kubectl(port: server.port, directory: server.directory)
            let node = """
                {"apiVersion":"v1","kind":"Node","metadata":{"name":"node-1","labels":{"node-role.kubernetes.io/control-plane":""}},
                 "spec":{"podCIDR":"10.42.0.0/24","taints":[{"key":"dedicated","value":"db","effect":"NoSchedule"}]},
                 "status":{"conditions":[{"type":"Ready","status":"True","lastHeartbeatTime":"2026-12-03T10:00:00Z",
                     "lastTransitionTime":"2026-12-03T09:00:00Z","reason":"KubeletReady","message":"kubelet is posting ready status"}],
                   "capacity":{"cpu":"2","memory":"4026Mi","pods":"110"},"allocatable":{"cpu":"1800m","memory":"3900Mi","pods":"110"},
                   "addresses":[{"type":"InternalIP","address":"10.0.0.5"},{"type":"Hostname","address":"node-1"}],
                   "nodeInfo":{"kubeletVersion":"v1.32.0+swiftlet.1","osImage":"Debian GNU/Linux 12 (bookworm)","kernelVersion":"6.1.0",
                     "containerRuntimeVersion":"swiftlet://0.1.0","machineID":"m","systemUUID":"s","bootID":"b","kubeProxyVersion":"",
                     "operatingSystem":"linux","architecture":"amd64"}}}
                """
            // Status is a subresource: written after the create.
            #expect(try await server.client.send("POST", "/api/v1/nodes", json: try json(node)).status == 201)
            let status = try await server.client.send("PUT", "/api/v1/nodes/node-1/status", json: try json(node))
            #expect(status.status == 200, "\(status.text)")
            let verbose = try await kubectl("describe", "node", "node-1", "-v=8")
            #expect(verbose.status == 0, "\(verbose.stderr)")
            #expect(verbose.stderr.contains("Content-Type: application/vnd.kubernetes.protobuf"), "\(verbose.stderr.suffix(3000))")
            let described = try await kubectl("describe", "node", "node-1")
            for line in ["Name:               node-1", "Taints:             dedicated=db:NoSchedule", "PodCIDR:                      10.42.0.0/24",
                         "  cpu:     1800m", "  Ready   True", "kubelet is posting ready status", "  InternalIP:  10.0.0.5"] {
                #expect(described.stdout.contains(line), "\(line)\n\(described.stdout)")
            }
            let old = Kubectl(binary: Kubectl.binary127, kubeconfig: kubectl.kubeconfig, cacheDirectory: kubectl.cacheDirectory + "-127")
            #expect(try await old("describe", "node", "node-1").stdout == described.stdout)
        }
    }

    /// kubectl 1.32 asks protobuf for `describe` (`-v=8` shows the Accept and the answer) and
    /// prints what it printed from JSON: the same output as kubectl 1.27, which asks JSON.
    @Test(.requires(Kubectl.isInstalled && FileManager.default.isExecutableFile(atPath: Kubectl.binary127), "needs kubectl 1.32 and 1.27"))
    func kubectlDescribeReadsProtobuf() async throws {
        try await withTestServer { server in
            let kubectl = try Kubectl(port: server.port, directory: server.directory)
            #expect(try await server.client.send("POST", "/api/v1/namespaces/default/pods", json: try json(Self.pod)).status == 201)
            let verbose = try await kubectl("describe", "pod", "web", "-v=8")
            #expect(verbose.status == 0, "\(verbose.stderr)")
            #expect(verbose.stderr.contains("Response Headers:") && verbose.stderr.contains("Content-Type: application/vnd.kubernetes.protobuf"),
                    "\(verbose.stderr.suffix(3000))")
            let described = try await kubectl("describe", "pod", "web")
            for line in ["Name:             web", "tier=front", "Image:      nginx:1.25", "cpu:     500m", "memory:  128Mi",
                         "Liveness:   http-get http://:8080/healthz delay=3s timeout=1s period=10s #success=1 #failure=3",
                         "Readiness:  http-get http://:http/ready delay=0s", "MODE:  prod", "POD:   web (v1:metadata.name)",
                         "Annotations:      note: ünïcode ✓", "Tolerations:                 node.kubernetes.io/not-ready:NoExecute op=Exists for 300s"] {
                #expect(described.stdout.contains(line), "\(line)\n\(described.stdout)")
            }
            // kubectl 1.27 reads the pod as JSON and prints the same.
            let old = Kubectl(binary: Kubectl.binary127, kubeconfig: kubectl.kubeconfig, cacheDirectory: kubectl.cacheDirectory + "-127")
            let oldVerbose = try await old("describe", "pod", "web", "-v=8")
            let accepts = oldVerbose.stderr.split(separator: "\n").filter { $0.contains("Accept:") }
            #expect(!accepts.isEmpty && !accepts.contains { $0.contains("protobuf") }, "\(accepts)")
            let oldDescribed = try await old("describe", "pod", "web")
            #expect(oldDescribed.stdout == described.stdout)
        }
    }
}
