@testable import APIMachinery
@testable import APIRegistry
@testable import APIServer
import APITestSupport
import Foundation
import KubeAPI
import ServerTestSupport
import TestSupport
import Testing

/// Issue 10, items 1-4 and "Also": the hostile and careless requests that lost the server its
/// store, each sent to a real server over HTTPS. Every one must be refused with a 4xx Status
/// that says what is wrong, and leave a store that reads back.
@Suite struct HostileInputTests {
    static let yaml = "application/yaml"

    // MARK: - 1. Non-finite numbers

    @Test func yamlInfinityAndNaNAreRefusedNamingTheField() async throws {
        try await withHostileCluster { api in
            let bodies: [(path: String, yaml: (String) -> String, field: String)] = [
                ("/api/v1/namespaces/default/configmaps", { "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata: {l: \($0)}\n" }, "data.l"),
                ("/api/v1/namespaces/default/secrets", { "apiVersion: v1\nkind: Secret\nmetadata: {name: x}\nfoo: {bar: \($0)}\n" }, "foo.bar"),
                ("/api/v1/namespaces/default/services", {
                    "apiVersion: v1\nkind: Service\nmetadata: {name: x}\nspec:\n  ports: [{port: 80}]\n  weight: \($0)\n"
                }, "spec.weight"),
                ("/apis/apps/v1/namespaces/default/deployments", {
                    "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\nspec:\n  selector: {matchLabels: {a: b}}\n  template:\n    metadata: {labels: {a: b}}\n    spec:\n      containers: [{name: c, image: i, extra: [1, \($0)]}]\n"
                }, "spec.template.spec.containers[0].extra[1]"),
                ("/api/v1/namespaces/default/events", {
                    "apiVersion: v1\nkind: Event\nmetadata: {name: x}\ninvolvedObject: {kind: Node, name: n}\ncount: \($0)\n"
                }, "count"),
                ("/api/v1/nodes", { "apiVersion: v1\nkind: Node\nmetadata: {name: x}\nstatus: {capacity: {cpu: \($0)}}\n" }, "status.capacity.cpu"),
            ]
            for (path, yaml, field) in bodies {
                for (value, shown) in [(".inf", "+Inf"), ("-.inf", "-Inf"), (".nan", "NaN")] {
                    let response = try await api.admin("POST", path, yaml(value), contentType: Self.yaml)
                    #expect(response.status == 400, "\(path) \(value): \(response.text)")
                    #expect(isStatus(response, code: 400))
                    #expect(message(response).hasSuffix("\(field): \(value) is not a number JSON can represent (json: unsupported value: \(shown))"),
                            "\(path) \(value): \(message(response))")
                }
            }
            // Nothing was stored; everything still reads.
            #expect(try await api.admin("GET", "/api/v1/namespaces/default/configmaps/x").status == 404)
            try await api.expectStoreReadable()
        }
    }

    @Test func aNodeCannotPoisonItsOwnNodeAndTheClusterKeepsScheduling() async throws {
        let directory = try TemporaryDirectory()
        try await withHostileCluster(directory: directory.path) { api in
            let token = try await api.join("node-a")
            let node = "apiVersion: v1\nkind: Node\nmetadata: {name: node-a}\nstatus:\n  capacity: {cpu: '2', pods: '110'}\n"
            #expect(try await api.client.call(token, "POST", "/api/v1/nodes", node, contentType: Self.yaml).status == 201)
            let current = try await api.client.call(token, "GET", "/api/v1/nodes/node-a").json()
            let version = current["metadata"]?["resourceVersion"]?.stringValue ?? ""
            let poisoned = "apiVersion: v1\nkind: Node\nmetadata: {name: node-a, resourceVersion: '\(version)'}\n"
                + "status:\n  capacity: {cpu: '2'}\n  conditions: [{type: Ready, status: 'True', weight: .nan}]\n"
            for path in ["/api/v1/nodes/node-a", "/api/v1/nodes/node-a/status"] {
                let response = try await api.client.call(token, "PUT", path, poisoned, contentType: Self.yaml)
                #expect(response.status == 400, "\(path): \(response.text)")
                #expect(message(response).contains("status.conditions[0].weight: .nan is not a number JSON can represent"))
            }
            let kubectl = try api.cluster.kubectl()
            let nodes = try await kubectl("get", "nodes")
            #expect(nodes.status == 0, "\(nodes.stderr)")
            #expect(nodes.stdout.contains("node-a"))
            try await api.expectStoreReadable()
        }
        // Restarted on the same files: nothing unreadable was persisted.
        try await withHostileCluster(directory: directory.path) { api in
            try await api.expectStoreReadable()
            #expect(try await api.admin("GET", "/api/v1/nodes/node-a").status == 200)
        }
    }

    // MARK: - 2. Alias expansion

    @Test func aliasBombsAreRefusedBeforeExpansion() async throws {
        try await withHostileCluster { api in
            for levels in [9, 7, 4] {
                let body = HostileBodies.aliasBomb(levels: levels)
                let response = try await api.admin("POST", "/api/v1/namespaces/default/configmaps", body, contentType: Self.yaml)
                #expect(response.status == 400, "\(levels) levels: \(response.text.prefix(300))")
                #expect(message(response).hasPrefix("error converting YAML to JSON: line "))
                #expect(message(response).hasSuffix("yaml: document contains excessive aliasing"), "\(message(response))")
            }
            // Anchors used as people use them are fine (and expanded).
            let reuse = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: reuse, labels: &l {app: web}}\ndata: {a: x}\n"
            #expect(try await api.admin("POST", "/api/v1/namespaces/default/configmaps", reuse, contentType: Self.yaml).status == 201)
            #expect(try await api.admin("GET", "/api/v1/namespaces/default/configmaps/bomb").status == 404)
            try await api.expectStoreReadable()
        }
    }

    // MARK: - 3. Field validation

    static let unknownFieldBodies: [(path: String, kind: String, json: String, unknown: String)] = [
        ("/api/v1/namespaces/default/configmaps", "ConfigMap",
         #"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"v"},"data":{"a":"b"},"foo":1}"#, "foo"),
        ("/api/v1/namespaces/default/secrets", "Secret",
         #"{"apiVersion":"v1","kind":"Secret","metadata":{"name":"v"},"stringData":{"a":"b"},"spec":{"x":1}}"#, "spec"),
        ("/api/v1/namespaces/default/services", "Service",
         #"{"apiVersion":"v1","kind":"Service","metadata":{"name":"v"},"spec":{"ports":[{"port":80,"weight":1}],"selector":{"a":"b"}}}"#,
         "spec.ports[0].weight"),
        ("/apis/apps/v1/namespaces/default/deployments", "Deployment",
         #"{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"v"},"spec":{"foo":"bar","selector":{"matchLabels":{"a":"b"}},"template":{"metadata":{"labels":{"a":"b"}},"spec":{"containers":[{"name":"c","image":"i"}]}}}}"#,
         "spec.foo"),
        ("/apis/apps/v1/namespaces/default/statefulsets", "StatefulSet",
         #"{"apiVersion":"apps/v1","kind":"StatefulSet","metadata":{"name":"v"},"spec":{"serviceName":"v","ordinalz":{"start":1},"selector":{"matchLabels":{"a":"b"}},"template":{"metadata":{"labels":{"a":"b"}},"spec":{"containers":[{"name":"c","image":"i"}]}}}}"#,
         "spec.ordinalz"),
    ]

    @Test func strictFieldValidationRefusesUnknownFields() async throws {
        try await withHostileCluster { api in
            for body in Self.unknownFieldBodies {
                let strict = try await api.admin("POST", body.path + "?fieldValidation=Strict", body.json)
                #expect(strict.status == 400, "\(body.kind): \(strict.text)")
                #expect(message(strict) == "\(body.kind) in version \"v1\" cannot be handled as a \(body.kind): strict decoding error: unknown field \"\(body.unknown)\"")
                #expect(try await api.admin("GET", body.path + "/v").status == 404, "\(body.kind) was stored")

                // Warn (the default): stored without the field, and said so.
                let warned = try await api.admin("POST", body.path, body.json)
                #expect(warned.status == 201, "\(body.kind): \(warned.text)")
                #expect(warned.headers["warning"] == "299 - \"unknown field \\\"\(body.unknown)\\\"\"", "\(warned.headers)")
                let member = body.unknown.split(separator: ".").last.map { String($0.split(separator: "[").first ?? $0) } ?? body.unknown
                let stored = try await api.admin("GET", body.path + "/v")
                #expect(stored.status == 200)
                #expect(!stored.text.contains("\"\(member)\":"), "\(body.kind) stored \(member): \(stored.text)")
                #expect(try await api.admin("DELETE", body.path + "/v").status == 200)

                // Ignore: stored without the field, silently.
                let ignored = try await api.admin("POST", body.path + "?fieldValidation=Ignore", body.json)
                #expect(ignored.status == 201)
                #expect(ignored.headers["warning"] == nil)
                #expect(try await api.admin("DELETE", body.path + "/v").status == 200)
            }
            // Patches are checked too.
            #expect(try await api.admin("POST", "/api/v1/namespaces/default/configmaps",
                                        #"{"metadata":{"name":"p"},"data":{"a":"b"}}"#).status == 201)
            let patch = try await api.admin("PATCH", "/api/v1/namespaces/default/configmaps/p?fieldValidation=Strict",
                                            #"{"dataa":{"x":"y"}}"#, contentType: "application/merge-patch+json")
            #expect(patch.status == 400)
            #expect(message(patch).hasSuffix(#"strict decoding error: unknown field "dataa""#))
            try await api.expectStoreReadable()
        }
    }

    @Test func unknownFieldsAreNeverStoredAndDataMustBeStrings() async throws {
        try await withHostileCluster { api in
            let configMaps = "/api/v1/namespaces/default/configmaps"
            for validation in ["Strict", "Warn", "Ignore"] {
                for (body, found) in [(#"{"metadata":{"name":"n"},"data":{"a":1}}"#, "number 1"),
                                      (#"{"metadata":{"name":"n"},"data":{"a":true}}"#, "bool"),
                                      (#"{"metadata":{"name":"n"},"data":{"a":{"b":"c"}}}"#, "object")] {
                    let response = try await api.admin("POST", configMaps + "?fieldValidation=\(validation)", body)
                    #expect(response.status == 400)
                    #expect(message(response) == "ConfigMap in version \"v1\" cannot be handled as a ConfigMap: json: cannot unmarshal \(found) into Go struct field ConfigMap.data of type string")
                }
            }
            let yaml = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: n}\ndata:\n  port: 8080\n"
            let fromYAML = try await api.admin("POST", configMaps, yaml, contentType: Self.yaml)
            #expect(message(fromYAML).hasSuffix("json: cannot unmarshal number 8080 into Go struct field ConfigMap.data of type string"))
            // Case matters, as in Kubernetes' JSON decoding: `Data` is not `data`.
            let cased = try await api.admin("POST", configMaps, #"{"metadata":{"name":"n"},"Data":{"a":"b"}}"#)
            #expect(cased.status == 201)
            #expect(try await api.admin("GET", configMaps + "/n").json()["Data"] == nil)
            try await api.expectStoreReadable()
        }
    }

    @Test(.requires(Kubectl.isInstalled, "needs kubectl"))
    func kubectlApplyWithStrictValidationIsRefused() async throws {
        try await withHostileCluster { api in
            let kubectl = try api.cluster.kubectl()
            let manifest = """
                apiVersion: apps/v1
                kind: Deployment
                metadata:
                  name: web
                spec:
                  replicas: 1
                  replicaz: 3
                  selector:
                    matchLabels: {app: web}
                  template:
                    metadata:
                      labels: {app: web}
                    spec:
                      containers:
                      - name: web
                        image: busybox
                        imagePullPolicy: IfNotPresent
                        portz: [80]
                """
            let strict = try await kubectl("apply", "--validate=strict", "-f", "-", input: manifest)
            #expect(strict.status != 0)
            #expect(strict.stderr.contains(#"strict decoding error: unknown field "spec.replicaz""#), "\(strict.stderr)")
            #expect(try await api.admin("GET", "/apis/apps/v1/namespaces/default/deployments/web").status == 404)

            let warned = try await kubectl("apply", "--validate=warn", "-f", "-", input: manifest)
            #expect(warned.status == 0, "\(warned.stderr)")
            #expect(warned.stderr.contains(#"unknown field "spec.replicaz""#), "\(warned.stderr)")
            let stored = try await api.admin("GET", "/apis/apps/v1/namespaces/default/deployments/web").json()
            #expect(stored["spec"]?["replicaz"] == nil)
            #expect(stored["spec"]?["template"]?["spec"]?["containers"]?.arrayValue?.first?["portz"] == nil)

            // A second apply is a strategic merge patch, checked the same way.
            let again = try await kubectl("apply", "--validate=strict", "-f", "-", input: manifest.replacingOccurrences(of: "replicaz: 3", with: "replicaz: 4"))
            #expect(again.status != 0)
            #expect(again.stderr.contains("strict decoding error"), "\(again.stderr)")
            let clean = manifest.split(separator: "\n").filter { !$0.contains("replicaz") && !$0.contains("portz") }.joined(separator: "\n")
            let fixed = try await kubectl("apply", "--validate=strict", "-f", "-", input: clean.replacingOccurrences(of: "replicas: 1", with: "replicas: 2"))
            #expect(fixed.status == 0, "\(fixed.stdout) \(fixed.stderr)")
            try await api.expectStoreReadable()
        }
    }

    // MARK: - 4. Sizes

    @Test func objectAndBodySizesAreBoundedAsInKubernetes() async throws {
        try await withHostileCluster { api in
            let configMaps = "/api/v1/namespaces/default/configmaps"
            let threeMB = String(repeating: "x", count: 3_000_000)
            let big = try await api.admin("POST", configMaps, #"{"metadata":{"name":"big"},"data":{"a":"\#(threeMB)"}}"#)
            #expect(big.status == 422)
            #expect(message(big) == #"ConfigMap "big" is invalid: []: Too long: may not be more than 1048576 bytes"#)
            let exact = String(repeating: "y", count: 1_048_576)
            #expect(try await api.admin("POST", configMaps, #"{"metadata":{"name":"exact"},"data":{"a":"\#(exact)"}}"#).status == 201)
            let secret = Data(repeating: 7, count: 1_048_577).base64EncodedString()
            let bigSecret = try await api.admin("POST", "/api/v1/namespaces/default/secrets", #"{"metadata":{"name":"s"},"data":{"a":"\#(secret)"}}"#)
            #expect(bigSecret.status == 422)
            #expect(message(bigSecret) == #"Secret "s" is invalid: data: Too long: may not be more than 1048576 bytes"#)

            // A body over 3 MiB is refused before it is parsed.
            let huge = try await api.admin("POST", configMaps, bytes: Array(repeating: UInt8(ascii: " "), count: 3 * 1024 * 1024 + 1))
            #expect(huge.status == 413)
            #expect(message(huge) == "Request entity too large: limit is 3145728")
            #expect(isStatus(huge, code: 413))

            // Anything else is bounded by what the store takes (etcd's 1.5 MiB).
            let note = String(repeating: "z", count: 1_600_000)
            let event = try await api.admin("POST", "/api/v1/namespaces/default/events",
                                            #"{"metadata":{"name":"e"},"involvedObject":{"kind":"Node","name":"n"},"message":"\#(note)"}"#)
            #expect(event.status == 413)
            #expect(message(event).hasPrefix(#"Request entity too large: events "e" would be stored as "#))
            try await api.expectStoreReadable()
        }
    }

    @Test func jsonPatchesAreBoundedInOperationsCopiesAndDepth() async throws {
        try await withHostileCluster { api in
            let path = "/api/v1/namespaces/default/configmaps/p"
            #expect(try await api.admin("POST", "/api/v1/namespaces/default/configmaps",
                                        #"{"metadata":{"name":"p","annotations":{"a":"0123456789"}}}"#).status == 201)
            let jsonPatch = "application/json-patch+json"
            let many = "[" + Array(repeating: #"{"op":"test","path":"/metadata/name","value":"p"}"#, count: 10_001).joined(separator: ",") + "]"
            let tooMany = try await api.admin("PATCH", path, many, contentType: jsonPatch)
            #expect(tooMany.status == 413)
            #expect(message(tooMany) == "Request entity too large: The allowed maximum operations in a JSON patch is 10000, got 10001")

            // Each copy of the object into itself doubles it: 64 of them would be exabytes.
            var operations = [#"{"op":"add","path":"/metadata/labels","value":{}}"#, #"{"op":"add","path":"/x","value":{"m":"0123456789abcdef"}}"#]
            for index in 0..<64 {
                operations.append(#"{"op":"copy","from":"/x","path":"/x/c\#(index)"}"#)
            }
            let doubling = try await api.admin("PATCH", path, "[" + operations.joined(separator: ",") + "]", contentType: jsonPatch)
            #expect(doubling.status == 422)
            #expect(message(doubling).contains("Unable to complete the copy, the accumulated size increase of copy is more than the limit 3145728"))

            // Adding nested values again and again would nest the object without end.
            var deep = "{}"
            for _ in 0..<150 { deep = #"{"a":\#(deep)}"# }
            var nesting = [#"{"op":"add","path":"/x","value":\#(deep)}"#]
            nesting.append(#"{"op":"add","path":"/x\#(String(repeating: "/a", count: 140))/b","value":\#(deep)}"#)
            let nested = try await api.admin("PATCH", path, "[" + nesting.joined(separator: ",") + "]", contentType: jsonPatch)
            #expect(nested.status == 422)
            #expect(message(nested).contains("would nest the object deeper than 200 levels"))
            try await api.expectStoreReadable()
        }
    }

    // MARK: - Also: bounded parsing of every body

    @Test func everyBodyIsBoundedBeforeItIsParsed() async throws {
        try await withHostileCluster { api in
            let configMaps = "/api/v1/namespaces/default/configmaps"
            let deepJSON = String(repeating: "[", count: 100_000)
            let json = try await api.admin("POST", configMaps, deepJSON)
            #expect(json.status == 400)
            #expect(message(json).hasPrefix("the object provided is unrecognized (must be of type ConfigMap): couldn't get version/kind; "
                                            + "json parse error: exceeded max depth of 200 nested objects or arrays"), "\(message(json))")
            // A YAML manifest sent as JSON, as kube-apiserver words it (issue 17).
            let yamlAsJSON = try await api.admin("POST", "/api/v1/namespaces", "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: x\n")
            #expect(yamlAsJSON.status == 400)
            #expect(message(yamlAsJSON).hasPrefix("the object provided is unrecognized (must be of type Namespace): couldn't get version/kind; json parse error: "),
                    "\(message(yamlAsJSON))")
            for yaml in [String(repeating: "[", count: 100_000), String(repeating: "- ", count: 500) + "x"] {
                let response = try await api.admin("POST", configMaps, yaml, contentType: Self.yaml)
                #expect(response.status == 400)
                #expect(message(response).contains("nest"), "\(message(response))")
            }
            // Protobuf: a length running past the body, a varint that never ends, a time
            // beyond year 9999.
            let envelope: ([UInt8]) -> [UInt8] = { raw in
                var unknown = ProtobufWriter()
                unknown.message(1) { typeMeta in
                    typeMeta.string(1, "v1")
                    typeMeta.string(2, "ConfigMap")
                }
                unknown.message(2, raw)
                return ProtobufDecoder.magic + unknown.bytes
            }
            let protobuf = "application/vnd.kubernetes.protobuf"
            for raw: [UInt8] in [[0x0A, 0xFF, 0xFF, 0x03], [0x08] + Array(repeating: 0xFF, count: 12),
                                 [0x0A, 0x0E, 0x42, 0x0C, 0x08, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F, 0x10, 0x00]] {
                let response = try await api.admin("POST", configMaps, bytes: envelope(raw), contentType: protobuf)
                #expect(response.status == 400, "\(raw): \(response.text)")
                #expect(isStatus(response, code: 400))
            }
            // A map of many entries decodes in linear time (it was quadratic).
            var configMap = ProtobufWriter()
            configMap.message(1) { $0.string(1, "many") }
            for index in 0..<50_000 {
                configMap.message(2) { entry in
                    entry.string(1, "k\(index)")
                    entry.string(2, "v")
                }
            }
            let many = try await api.admin("POST", configMaps, bytes: envelope(configMap.bytes), contentType: protobuf)
            #expect(many.status == 201, "\(many.text.prefix(300))")
            #expect(try await api.admin("GET", configMaps + "/many").json()["data"]?.objectValue?.count == 50_000)
            try await api.expectStoreReadable()
        }
    }

    // MARK: - Also: an entry that cannot be decoded does not block its neighbours

    @Test func anUndecodableEntryIsReportedNotFatal() async throws {
        try await withHostileCluster { api in
            let configMaps = "/api/v1/namespaces/default/configmaps"
            #expect(try await api.admin("POST", configMaps, #"{"metadata":{"name":"a"},"data":{"k":"v"}}"#).status == 201)
            #expect(try await api.admin("POST", configMaps, #"{"metadata":{"name":"c"},"data":{"k":"v"}}"#).status == 201)
            // What the old YAML path stored: text that is not JSON. Written to the real store.
            let key = "/registry/configmaps/default/b"
            _ = try await api.cluster.handle.storage.create(key, value: Array(#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"b","namespace":"default"},"data":{"l":inf}}"#.utf8))
            _ = try await api.cluster.handle.storage.create("/registry/minions/broken", value: Array("{\"metadata\":{\"name\":".utf8))
            // The same in the layout lists serve without parsing (member order, no resourceVersion).
            let memberOrderKey = "/registry/configmaps/default/d"
            _ = try await api.cluster.handle.storage.create(memberOrderKey, value: Array(#"{"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":"d","namespace":"default"},"data":{"l":inf}}"#.utf8))

            let list = try await api.admin("GET", configMaps)
            #expect(list.status == 200)
            let names = try list.json()["items"]?.arrayValue?.compactMap { $0["metadata"]?["name"]?.stringValue }
            #expect(names == ["a", "c"])
            #expect(list.headers["warning"]?.contains(key) == true && list.headers["warning"]?.contains(memberOrderKey) == true, "\(list.headers)")
            let table = try await api.admin("GET", configMaps, headers: ["Accept": "application/json;as=Table;v=v1;g=meta.k8s.io"])
            #expect(table.status == 200)

            let broken = try await api.admin("GET", configMaps + "/b")
            #expect(broken.status == 500)
            #expect(try broken.json()["reason"]?.stringValue == "StorageReadError")
            #expect(message(broken).contains("the stored configmap at \(key) cannot be decoded: invalid character 'i' looking for beginning of value"))
            #expect(try await api.admin("GET", configMaps + "/a").status == 200)

            // Watches and kubectl go on around it.
            let watch = try await api.admin("GET", configMaps + "?watch=1&timeoutSeconds=1")
            #expect(watch.status == 200)
            #expect(watch.text.contains(#""name":"a""#) && watch.text.contains(#""name":"c""#))
            #expect(!watch.text.contains(#""name":"d""#))
            for line in watch.text.split(separator: "\n") {
                #expect((try? JSONParser.parse(Array(line.utf8))) != nil, "every event is JSON: \(line)")
            }
            let nodes = try await api.cluster.kubectl()("get", "nodes")
            #expect(nodes.status == 0, "\(nodes.stderr)")

            // A plain delete cannot read it; the unsafe delete of KEP-3926 removes it.
            #expect(try await api.admin("DELETE", configMaps + "/b").status == 500)
            let unsafe = try await api.admin("DELETE", configMaps + "/b?ignoreStoreReadErrorWithClusterBreakingPotential=true")
            #expect(unsafe.status == 200, "\(unsafe.text)")
            #expect(try await api.admin("DELETE", configMaps + "/d?ignoreStoreReadErrorWithClusterBreakingPotential=true").status == 200)
            let body = try await api.admin("DELETE", "/api/v1/nodes/broken",
                                           #"{"kind":"DeleteOptions","apiVersion":"v1","ignoreStoreReadErrorWithClusterBreakingPotential":true}"#)
            #expect(body.status == 200, "\(body.text)")
            // On a readable object the option changes nothing: a normal, graceful delete.
            #expect(try await api.admin("DELETE", configMaps + "/a?ignoreStoreReadErrorWithClusterBreakingPotential=true").status == 200)
            try await api.expectStoreReadable()
        }
    }
}
