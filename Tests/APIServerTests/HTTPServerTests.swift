@testable import APIMachinery
@testable import APIRegistry
@testable import APIServer
import APITestSupport
import Foundation
import KubeAPI
import ServerTestSupport
import Testing

let podJSON = """
{"apiVersion":"v1","kind":"Pod","metadata":{"name":"web","labels":{"app":"web"}},
 "spec":{"containers":[{"name":"web","image":"busybox","command":["sleep","3600"]}]}}
"""

@Suite struct HTTPServerTests {
    @Test func versionAndHealthEndpoints() async throws {
        try await withTestServer { server in
            let version = try await server.client.send("GET", "/version?timeout=5s")
            #expect(version.status == 200)
            let body = try version.json()
            #expect(body["gitVersion"]?.stringValue == "v1.32.0+swiftlet.1")
            #expect(body["major"]?.stringValue == "1")
            #expect(body["minor"]?.stringValue == "32")
            for path in ["/healthz", "/livez", "/readyz", "/readyz/etcd", "/healthz/ping"] {
                let health = try await server.client.send("GET", path)
                #expect(health.status == 200)
                #expect(health.text == "ok")
            }
            // kube-apiserver's verbose form, one line a check.
            let verbose = try await server.client.send("GET", "/readyz?verbose")
            #expect(verbose.text == "[+]ping ok\n[+]etcd ok\nreadyz check passed\n")
            for path in ["/readyz/no-such-check", "/readyz/etcd/more"] {
                #expect(try await server.client.send("GET", path).status == 404, "\(path)")
            }
        }
    }

    @Test func discoveryListsResourcesWithShortNamesAndCategories() async throws {
        try await withTestServer { server in
            let core = try await server.client.send("GET", "/api").json()
            #expect(core["versions"] == .array([.string("v1")]))
            let v1 = try await server.client.send("GET", "/api/v1").json()
            let resources = try #require(v1["resources"]?.arrayValue)
            let pods = try #require(resources.first { $0["name"]?.stringValue == "pods" })
            #expect(pods["shortNames"] == .array([.string("po")]))
            #expect(pods["categories"] == .array([.string("all")]))
            #expect(pods["namespaced"] == .bool(true))
            #expect(resources.contains { $0["name"]?.stringValue == "pods/status" })
            let groups = try await server.client.send("GET", "/apis").json()
            let names = (groups["groups"]?.arrayValue ?? []).compactMap { $0["name"]?.stringValue }
            #expect(names == ["apps", "events.k8s.io", "batch", "networking.k8s.io", "policy", "storage.k8s.io", "scheduling.k8s.io", "coordination.k8s.io", "discovery.k8s.io", "authentication.k8s.io"])
            let discovery = try await server.client.send("GET", "/apis/discovery.k8s.io/v1").json()
            let slices = try #require(discovery["resources"]?.arrayValue?.first)
            #expect(slices["name"] == .string("endpointslices") && slices["kind"] == .string("EndpointSlice") && slices["namespaced"] == .bool(true))
            let openAPI = try await server.client.send("GET", "/openapi/v3").json()
            #expect(openAPI["paths"]?["apis/discovery.k8s.io/v1"] != nil)
            let apps = try await server.client.send("GET", "/apis/apps/v1").json()
            let scale = try #require(apps["resources"]?.arrayValue?.first { $0["name"]?.stringValue == "deployments/scale" })
            #expect(scale["kind"]?.stringValue == "Scale")
            #expect(scale["group"]?.stringValue == "autoscaling")
            let deployments = try #require(apps["resources"]?.arrayValue?.first { $0["name"]?.stringValue == "deployments" })
            #expect(deployments["shortNames"] == .array([.string("deploy")]))
        }
    }

    @Test func unknownPathsAnswerANotFoundStatus() async throws {
        try await withTestServer { server in
            for path in ["/nothing", "/api/v1/widgets", "/apis/nope/v1", "/apis/apps/v1/namespaces/default/widgets/x"] {
                let response = try await server.client.send("GET", path)
                #expect(response.status == 404, "\(path)")
                let status = try response.json()
                #expect(status["kind"]?.stringValue == "Status")
                #expect(status["message"]?.stringValue == "the server could not find the requested resource")
            }
        }
    }

    @Test func podLifecycleOverHTTP() async throws {
        try await withTestServer { server in
            let created = try await server.client.send("POST", "/api/v1/namespaces/default/pods", json: try json(podJSON))
            #expect(created.status == 201)
            let pod = try created.json()
            let version = try #require(pod["metadata"]?["resourceVersion"]?.stringValue)
            #expect(Int64(version) ?? 0 > 0)
            #expect(pod["metadata"]?["uid"]?.stringValue?.count == 36)
            #expect(pod["metadata"]?["creationTimestamp"]?.stringValue != nil)
            #expect(pod["status"]?["phase"]?.stringValue == "Pending")
            #expect(pod["spec"]?["restartPolicy"]?.stringValue == "Always")
            // What the default admission plugins add.
            #expect(pod["spec"]?["serviceAccountName"]?.stringValue == "default")
            #expect(pod["spec"]?["priority"] == .int(0))
            #expect(pod["spec"]?["tolerations"]?.arrayValue?.compactMap { $0["key"]?.stringValue }
                    == ["node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"])
            #expect(pod["spec"]?["tolerations"]?.arrayValue?.first?["tolerationSeconds"] == .int(300))

            let fetched = try await server.client.send("GET", "/api/v1/namespaces/default/pods/web").json()
            #expect(fetched["metadata"]?["resourceVersion"]?.stringValue == version)

            let list = try await server.client.send("GET", "/api/v1/namespaces/default/pods").json()
            #expect(list["kind"]?.stringValue == "PodList")
            #expect(list["items"]?.arrayValue?.count == 1)
            #expect(Int64(list["metadata"]?["resourceVersion"]?.stringValue ?? "") ?? 0 >= Int64(version) ?? 0)
            let everywhere = try await server.client.send("GET", "/api/v1/pods").json()
            #expect(everywhere["items"]?.arrayValue?.count == 1)

            let deleted = try await server.client.send("DELETE", "/api/v1/namespaces/default/pods/web",
                                                       json: try json(#"{"propagationPolicy":"Background"}"#))
            #expect(deleted.status == 200)
            #expect(try deleted.json()["kind"]?.stringValue == "Pod")
            let gone = try await server.client.send("GET", "/api/v1/namespaces/default/pods/web")
            #expect(gone.status == 404)
            #expect(try gone.json()["message"]?.stringValue == #"pods "web" not found"#)
        }
    }

    @Test func errorsAreStatusObjectsWithKubernetesReasons() async throws {
        try await withTestServer { server in
            let client = server.client
            _ = try await client.send("POST", "/api/v1/namespaces/default/pods", json: try json(podJSON))
            let duplicate = try await client.send("POST", "/api/v1/namespaces/default/pods", json: try json(podJSON))
            #expect(duplicate.status == 409)
            #expect(try duplicate.json()["reason"]?.stringValue == "AlreadyExists")
            #expect(try duplicate.json()["message"]?.stringValue == #"pods "web" already exists"#)

            let invalid = try await client.send("POST", "/api/v1/namespaces/default/pods", json: try json("""
                {"metadata":{"name":"Bad_Name"},"spec":{"containers":[{"name":"c"}]}}
                """))
            #expect(invalid.status == 422)
            let status = try invalid.json()
            #expect(status["reason"]?.stringValue == "Invalid")
            #expect(status["message"]?.stringValue?.hasPrefix(#"Pod "Bad_Name" is invalid: [metadata.name: Invalid value: "Bad_Name""#) == true)
            let causes = status["details"]?["causes"]?.arrayValue ?? []
            #expect(causes.contains { $0["field"]?.stringValue == "spec.containers[0].image" && $0["reason"]?.stringValue == "FieldValueRequired" })

            let malformed = try await client.send("POST", "/api/v1/namespaces/default/pods",
                                                  headers: ["Content-Type": "application/json"], body: Array("{\"metadata\": x}".utf8))
            #expect(malformed.status == 400)
            #expect(try malformed.json()["message"]?.stringValue?.contains("invalid character 'x' looking for beginning of value") == true)

            let unknownField = try await client.send("POST", "/api/v1/namespaces/default/pods?fieldValidation=Strict", json: try json("""
                {"metadata":{"name":"u"},"spec":{"foo":1,"containers":[{"name":"c","image":"busybox"}]}}
                """))
            #expect(unknownField.status == 400)
            #expect(try unknownField.json()["message"]?.stringValue == #"Pod in version "v1" cannot be handled as a Pod: strict decoding error: unknown field "spec.foo""#)

            let wrongKind = try await client.send("POST", "/api/v1/namespaces/default/pods", json: try json(#"{"kind":"Service","apiVersion":"v1","metadata":{"name":"s"}}"#))
            #expect(wrongKind.status == 400)

            let noNamespace = try await client.send("POST", "/api/v1/namespaces/nope/configmaps", json: try json(#"{"metadata":{"name":"c"}}"#))
            #expect(noNamespace.status == 404)
            #expect(try noNamespace.json()["message"]?.stringValue == #"namespaces "nope" not found"#)

            let protobuf = try await client.send("POST", "/api/v1/namespaces/default/pods",
                                                 headers: ["Content-Type": "application/vnd.kubernetes.protobuf"], body: [0x6b, 0x38, 0x73, 0, 0x0A, 0x7F])
            #expect(protobuf.status == 400)
            #expect(try protobuf.json()["message"]?.stringValue?.hasPrefix("the request body is not valid protobuf") == true)
            let cbor = try await client.send("POST", "/api/v1/namespaces/default/pods",
                                             headers: ["Content-Type": "application/cbor"], body: [0xA0])
            #expect(cbor.status == 415)
            #expect(try cbor.json()["reason"]?.stringValue == "UnsupportedMediaType")

            let huge = try await client.send("POST", "/api/v1/namespaces/default/configmaps",
                                             headers: ["Content-Type": "application/json"], body: [UInt8](repeating: 0x20, count: 4 * 1024 * 1024))
            #expect(huge.status == 413)
            #expect(try huge.json()["reason"]?.stringValue == "RequestEntityTooLarge")

            // Still serving after all that.
            #expect(try await client.send("GET", "/api/v1/namespaces/default/pods/web").status == 200)
        }
    }

    @Test func yamlBodiesAreAccepted() async throws {
        try await withTestServer { server in
            let yaml = """
                apiVersion: v1
                kind: ConfigMap
                metadata:
                  name: settings
                data:
                  mode: fast
                  retries: "3"
                """
            let created = try await server.client.send("POST", "/api/v1/namespaces/default/configmaps",
                                                       headers: ["Content-Type": "application/yaml"], body: Array(yaml.utf8))
            #expect(created.status == 201)
            #expect(try created.json()["data"]?["retries"]?.stringValue == "3")
        }
    }

    @Test func updateWithAStaleResourceVersionConflicts() async throws {
        try await withTestServer { server in
            let client = server.client
            let created = try await client.send("POST", "/api/v1/namespaces/default/configmaps",
                                                json: try json(#"{"metadata":{"name":"c"},"data":{"a":"1"}}"#)).json()
            var object = KubeObject(fields: created.objectValue ?? [:])
            object.set(.string("2"), at: ["data", "a"])
            let first = try await client.send("PUT", "/api/v1/namespaces/default/configmaps/c", json: object.json)
            #expect(first.status == 200)
            #expect(try first.json()["metadata"]?["resourceVersion"] != created["metadata"]?["resourceVersion"])
            object.set(.string("3"), at: ["data", "a"])
            let stale = try await client.send("PUT", "/api/v1/namespaces/default/configmaps/c", json: object.json)
            #expect(stale.status == 409)
            #expect(try stale.json()["message"]?.stringValue == #"Operation cannot be fulfilled on configmaps "c": the object has been modified; please apply your changes to the latest version and try again"#)
            let current = try await client.send("GET", "/api/v1/namespaces/default/configmaps/c").json()
            #expect(current["data"]?["a"]?.stringValue == "2")
        }
    }

    @Test func mergeAndJSONPatches() async throws {
        try await withTestServer { server in
            let client = server.client
            _ = try await client.send("POST", "/api/v1/namespaces/default/pods", json: try json(podJSON))
            let merged = try await client.send("PATCH", "/api/v1/namespaces/default/pods/web",
                                               json: try json(#"{"metadata":{"labels":{"tier":"front","app":null}}}"#),
                                               contentType: "application/merge-patch+json")
            #expect(merged.status == 200)
            #expect(try merged.json()["metadata"]?["labels"] == .object(["tier": .string("front")]))
            let patched = try await client.send("PATCH", "/api/v1/namespaces/default/pods/web",
                                                json: try json(#"[{"op":"replace","path":"/spec/containers/0/image","value":"busybox:1.36"}]"#),
                                                contentType: "application/json-patch+json")
            #expect(patched.status == 200)
            #expect(try patched.json()["spec"]?["containers"]?.arrayValue?.first?["image"]?.stringValue == "busybox:1.36")
            let forbidden = try await client.send("PATCH", "/api/v1/namespaces/default/pods/web",
                                                  json: try json(#"{"spec":{"restartPolicy":"Never"}}"#),
                                                  contentType: "application/merge-patch+json")
            #expect(forbidden.status == 422)
            #expect(try forbidden.json()["message"]?.stringValue?.contains("pod updates may not change fields other than") == true)
        }
    }

    @Test func generateNameAndDryRun() async throws {
        try await withTestServer { server in
            let client = server.client
            let generated = try await client.send("POST", "/api/v1/namespaces/default/configmaps",
                                                  json: try json(#"{"metadata":{"generateName":"cfg-"}}"#)).json()
            let name = try #require(generated["metadata"]?["name"]?.stringValue)
            #expect(name.hasPrefix("cfg-") && name.count == 9)
            let dry = try await client.send("POST", "/api/v1/namespaces/default/configmaps?dryRun=All",
                                            json: try json(#"{"metadata":{"name":"dry"}}"#))
            #expect(dry.status == 201)
            #expect(try await client.send("GET", "/api/v1/namespaces/default/configmaps/dry").status == 404)
        }
    }

    @Test func tablesCarryKubectlColumnsAndRowObjects() async throws {
        try await withTestServer { server in
            let client = server.client
            _ = try await client.send("POST", "/api/v1/namespaces/default/pods", json: try json(podJSON))
            let accept = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json"
            let table = try await client.send("GET", "/api/v1/namespaces/default/pods?limit=500", headers: ["Accept": accept]).json()
            #expect(table["kind"]?.stringValue == "Table")
            #expect(table["apiVersion"]?.stringValue == "meta.k8s.io/v1")
            let columns = (table["columnDefinitions"]?.arrayValue ?? []).compactMap { $0["name"]?.stringValue }
            #expect(columns == ["Name", "Ready", "Status", "Restarts", "Age", "IP", "Node", "Nominated Node", "Readiness Gates"])
            let row = try #require(table["rows"]?.arrayValue?.first)
            let cells = row["cells"]?.arrayValue ?? []
            #expect(cells.prefix(4) == [.string("web"), .string("0/1"), .string("Pending"), .string("0")])
            #expect(cells.suffix(4) == [.string("<none>"), .string("<none>"), .string("<none>"), .string("<none>")])
            #expect(row["object"]?["kind"]?.stringValue == "PartialObjectMetadata")
            #expect(row["object"]?["metadata"]?["name"]?.stringValue == "web")
            let nodes = try await client.send("GET", "/api/v1/nodes", headers: ["Accept": accept]).json()
            let nodeColumns = (nodes["columnDefinitions"]?.arrayValue ?? []).compactMap { $0["name"]?.stringValue }
            #expect(nodeColumns == ["Name", "Status", "Roles", "Age", "Version", "Internal-IP", "External-IP", "OS-Image", "Kernel-Version", "Container-Runtime"])
        }
    }

    /// `spec.nodeName` selections (every agent's pod list) skip other nodes' pods by a byte
    /// scan of the stored entries (`StoredJSON.mayHave`): the answers must be the same as
    /// parsing each pod, for a name that is a prefix of another's, for `!=`, and for `=` with
    /// no value (the unscheduled pods).
    @Test(arguments: TestBackend.allCases)
    func podsSelectedByNodeName(_ backend: TestBackend) async throws {
        try await withTestServer(backend: backend) { server in
            let client = server.client
            for (name, node) in [("on-n1", "n1"), ("on-n10", "n10"), ("on-xn1", "xn1"), ("unbound", "")] {
                let spec = node.isEmpty ? "" : #""nodeName":"\#(node)","#
                let created = try await client.send("POST", "/api/v1/namespaces/default/pods",
                                                    json: try json(#"{"metadata":{"name":"\#(name)"},"spec":{\#(spec)"containers":[{"name":"c","image":"busybox"}]}}"#))
                #expect(created.status == 201, "\(created.text)")
            }
            func names(_ selector: String) async throws -> [String] {
                let list = try await client.send("GET", "/api/v1/pods?fieldSelector=\(selector)").json()
                return (list["items"]?.arrayValue ?? []).compactMap { $0["metadata"]?["name"]?.stringValue }.sorted()
            }
            #expect(try await names("spec.nodeName%3Dn1") == ["on-n1"])
            #expect(try await names("spec.nodeName%3Dn10") == ["on-n10"])
            #expect(try await names("spec.nodeName%21%3Dn1") == ["on-n10", "on-xn1", "unbound"])
            #expect(try await names("spec.nodeName%3D") == ["unbound"])
            #expect(try await names("spec.nodeName%3Dn1,metadata.name%3Don-n10") == [])
            #expect(try await names("spec.nodeName%3Dn2") == [])
        }
    }

    @Test(arguments: TestBackend.allCases)
    func selectorsAndPagination(_ backend: TestBackend) async throws {
        try await withTestServer(backend: backend) { server in
            let client = server.client
            for index in 0..<5 {
                let phaseLabel = index % 2 == 0 ? "even" : "odd"
                _ = try await client.send("POST", "/api/v1/namespaces/default/configmaps",
                                          json: try json(#"{"metadata":{"name":"c\#(index)","labels":{"parity":"\#(phaseLabel)"}}}"#))
            }
            let even = try await client.send("GET", "/api/v1/namespaces/default/configmaps?labelSelector=parity%3Deven").json()
            #expect(even["items"]?.arrayValue?.count == 3)
            let notIn = try await client.send("GET", "/api/v1/namespaces/default/configmaps?labelSelector=parity+notin+(even)").json()
            #expect(notIn["items"]?.arrayValue?.count == 2)
            let byName = try await client.send("GET", "/api/v1/namespaces/default/configmaps?fieldSelector=metadata.name%3Dc3").json()
            #expect(byName["items"]?.arrayValue?.compactMap { $0["metadata"]?["name"]?.stringValue } == ["c3"])
            let unsupported = try await client.send("GET", "/api/v1/namespaces/default/configmaps?fieldSelector=data.x%3D1")
            #expect(unsupported.status == 400)
            #expect(try unsupported.json()["message"]?.stringValue == "field label not supported: data.x")

            var names: [String] = []
            var path = "/api/v1/namespaces/default/configmaps?limit=2"
            var pages = 0
            while true {
                let page = try await client.send("GET", path).json()
                pages += 1
                names += (page["items"]?.arrayValue ?? []).compactMap { $0["metadata"]?["name"]?.stringValue }
                guard let token = page["metadata"]?["continue"]?.stringValue else { break }
                // A write between pages must not show up: pages are one consistent snapshot.
                if pages == 1 {
                    _ = try await client.send("POST", "/api/v1/namespaces/default/configmaps", json: try json(#"{"metadata":{"name":"c9"}}"#))
                }
                path = "/api/v1/namespaces/default/configmaps?limit=2&continue=\(token)"
            }
            #expect(pages == 3)
            #expect(names == ["c0", "c1", "c2", "c3", "c4"] || names == ["c0", "c1", "c2", "c3", "c4", "kube-root-ca.crt"])
        }
    }
}
