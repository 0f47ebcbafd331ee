@testable import APIMachinery
@testable import APIRegistry
@testable import APIServer
import APITestSupport
import Foundation
import KubeAPI
import ServerTestSupport
import Testing
import TestSupport

/// pods/ephemeralcontainers (issue 17): what `kubectl debug POD --image=...` writes, with
/// kube-apiserver's rules (podEphemeralContainersStrategy, ValidatePodEphemeralContainersUpdate):
/// only `spec.ephemeralContainers` changes there, existing ones are never removed or changed,
/// and a debugging aid has no ports, probes, lifecycle or resources.
@Suite struct EphemeralContainerAPITests {
    static let pods = "/api/v1/namespaces/default/pods"
    static let strategic = ["Content-Type": "application/strategic-merge-patch+json"]

    static func add(_ container: String) -> [UInt8] {
        Array(#"{"spec":{"ephemeralContainers":[\#(container)]}}"#.utf8)
    }

    static func created(_ server: TestServerHandle, mirror: Bool = false) async throws {
        let created = try await server.client.send("POST", pods, json: try JSONParser.parse(Array(pod("web", node: "n1", mirror: mirror).utf8)))
        #expect(created.status == 201, "\(created.text)")
    }

    @Test func discoveryListsTheSubresourceOfKindPod() async throws {
        try await withTestServer { server in
            let core = try await server.client.send("GET", "/api/v1").json()
            let entry = core["resources"]?.arrayValue?.first { $0["name"]?.stringValue == "pods/ephemeralcontainers" }
            #expect(entry?["kind"]?.stringValue == "Pod" && entry?["verbs"] == .array(["get", "patch", "update"].map { .string($0) }),
                    "\(String(describing: entry))")
        }
    }

    @Test func anEphemeralContainerIsAddedDefaultedAndNeverRemovedOrChanged() async throws {
        try await withTestServer { server in
            try await Self.created(server)
            let path = Self.pods + "/web/ephemeralcontainers"
            let added = try await server.client.send("PATCH", path, headers: Self.strategic,
                                                    body: Self.add(#"{"name":"dbg","image":"busybox:1.36","targetContainerName":"c","command":["sh"],"stdin":true,"tty":true}"#))
            #expect(added.status == 200, "\(added.text)")
            let ephemeral = try added.json()["spec"]?["ephemeralContainers"]?.arrayValue ?? []
            #expect(ephemeral.count == 1)
            #expect(ephemeral.first?["targetContainerName"]?.stringValue == "c")
            #expect(ephemeral.first?["terminationMessagePolicy"]?.stringValue == "File"
                    && ephemeral.first?["terminationMessagePath"]?.stringValue == "/dev/termination-log"
                    && ephemeral.first?["imagePullPolicy"]?.stringValue == "IfNotPresent", "\(ephemeral)")
            // GET of the subresource is the pod, as since Kubernetes 1.22.
            let read = try await server.client.send("GET", path).json()
            #expect(read["kind"]?.stringValue == "Pod" && read["spec"]?["ephemeralContainers"]?.arrayValue?.count == 1)

            // A second one is added beside the first (strategic merge by name).
            let second = try await server.client.send("PATCH", path, headers: Self.strategic,
                                                     body: Self.add(#"{"name":"dbg2","image":"busybox:1.36"}"#))
            #expect(try second.json()["spec"]?["ephemeralContainers"]?.arrayValue?.compactMap { $0["name"]?.stringValue } == ["dbg", "dbg2"])

            let removed = try await server.client.send("PATCH", path, headers: ["Content-Type": "application/merge-patch+json"],
                                                      body: Array(#"{"spec":{"ephemeralContainers":[]}}"#.utf8))
            #expect(removed.status == 422)
            #expect(statusMessage(removed).contains(#"spec.ephemeralContainers: Forbidden: existing ephemeral containers "dbg" may not be removed"#),
                    "\(statusMessage(removed))")
            let changed = try await server.client.send("PATCH", path, headers: Self.strategic,
                                                      body: Self.add(#"{"name":"dbg","image":"busybox:1.37"}"#))
            #expect(changed.status == 422)
            #expect(statusMessage(changed).contains(#"existing ephemeral containers "dbg" may not be changed"#), "\(statusMessage(changed))")

            // The main resource may not change them; the subresource changes nothing else.
            var pod = KubeObject(fields: try await server.client.send("GET", Self.pods + "/web").json().objectValue ?? [:])
            pod.set(.array([]), at: ["spec", "ephemeralContainers"])
            let viaPod = try await server.client.send("PUT", Self.pods + "/web", json: pod.json)
            #expect(viaPod.status == 422 && statusMessage(viaPod).contains("pod updates may not change fields"), "\(viaPod.text)")
            let other = try await server.client.send("PATCH", path, headers: Self.strategic, body: Array(
                #"{"metadata":{"labels":{"x":"y"}},"spec":{"activeDeadlineSeconds":5,"ephemeralContainers":[{"name":"dbg3","image":"busybox"}]}}"#.utf8))
            #expect(other.status == 200, "\(other.text)")
            let after = try await server.client.send("GET", Self.pods + "/web").json()
            #expect(after["metadata"]?["labels"] == nil && after["spec"]?["activeDeadlineSeconds"] == nil)
            #expect(after["spec"]?["ephemeralContainers"]?.arrayValue?.count == 3)
        }
    }

    @Test(arguments: [
        (#"{"name":"dbg","image":"busybox","ports":[{"containerPort":80}]}"#, "spec.ephemeralContainers[0].ports: Forbidden: cannot be set for an Ephemeral Container"),
        (#"{"name":"dbg","image":"busybox","readinessProbe":{"exec":{"command":["true"]}}}"#,
         "spec.ephemeralContainers[0].readinessProbe: Forbidden: cannot be set for an Ephemeral Container"),
        (#"{"name":"dbg","image":"busybox","resources":{"limits":{"cpu":"1"}}}"#,
         "spec.ephemeralContainers[0].resources: Forbidden: cannot be set for an Ephemeral Container"),
        (#"{"name":"dbg","image":"busybox","lifecycle":{"preStop":{"exec":{"command":["true"]}}}}"#,
         "spec.ephemeralContainers[0].lifecycle: Forbidden: cannot be set for an Ephemeral Container"),
        (#"{"name":"dbg","image":"busybox","volumeMounts":[{"name":"v","mountPath":"/v","subPath":"x"}]}"#,
         "spec.ephemeralContainers[0].volumeMounts[0].subPath: Forbidden: cannot be set for an Ephemeral Container"),
        (#"{"name":"dbg","image":"busybox","targetContainerName":"nope"}"#, #"spec.ephemeralContainers[0].targetContainerName: Not found: "nope""#),
        (#"{"name":"c","image":"busybox"}"#, #"spec.ephemeralContainers[0].name: Duplicate value: "c""#),
        (#"{"name":"Bad_Name","image":"busybox"}"#, #"spec.ephemeralContainers[0].name: Invalid value: "Bad_Name""#),
        (#"{"name":"dbg"}"#, "spec.ephemeralContainers[0].image: Required value"),
        (#"{"name":"dbg","image":" busybox"}"#,
         #"spec.ephemeralContainers[0].image: Invalid value: " busybox": must not have leading or trailing whitespace"#),
    ])
    func whatAnEphemeralContainerMayNotHaveIsRefused(_ container: String, _ message: String) async throws {
        try await withTestServer { server in
            try await Self.created(server)
            let refused = try await server.client.send("PATCH", Self.pods + "/web/ephemeralcontainers", headers: Self.strategic,
                                                      body: Self.add(container))
            #expect(refused.status == 422)
            #expect(statusMessage(refused).contains(message), "\(statusMessage(refused))")
            let pod = try await server.client.send("GET", Self.pods + "/web").json()
            #expect(pod["spec"]?["ephemeralContainers"] == nil)
        }
    }

    @Test func hostileRequestsAreRefusedAndChangeNothing() async throws {
        try await withTestServer { server in
            let path = Self.pods + "/web/ephemeralcontainers"
            // Only through the subresource, never on create.
            var withEphemeral = KubeObject(fields: try JSONParser.parse(Array(pod("web", node: "n1").utf8)).objectValue ?? [:])
            withEphemeral.set(.array([.object(["name": .string("dbg"), "image": .string("busybox")])]), at: ["spec", "ephemeralContainers"])
            let create = try await server.client.send("POST", Self.pods, json: withEphemeral.json)
            #expect(create.status == 422 && statusMessage(create).contains("spec.ephemeralContainers: Forbidden: cannot be set on create"),
                    "\(create.text)")
            #expect(try await server.client.send("PATCH", path, headers: Self.strategic, body: Self.add(#"{"name":"d","image":"b"}"#)).status == 404)
            try await Self.created(server)
            #expect(try await server.client.send("POST", path, json: withEphemeral.json).status == 405)
            // No subresource is deleted (before, DELETE of pods/web/status deleted the pod).
            #expect(try await server.client.send("DELETE", path).status == 405)
            #expect(try await server.client.send("DELETE", Self.pods + "/web/status").status == 405)
            #expect(try await server.client.send("GET", Self.pods + "/web").status == 200)
            let notJSON = try await server.client.send("PATCH", path, headers: Self.strategic, body: Array("{\"spec\":".utf8))
            #expect(notJSON.status == 400, "\(notJSON.text)")
            let notAList = try await server.client.send("PATCH", path, headers: ["Content-Type": "application/merge-patch+json"],
                                                       body: Array(#"{"spec":{"ephemeralContainers":"x"}}"#.utf8))
            #expect(notAList.status == 400 || notAList.status == 422, "\(notAList.text)")
            let unknown = try await server.client.send("PATCH", path + "?fieldValidation=Strict", headers: Self.strategic,
                                                      body: Self.add(#"{"name":"d","image":"b","bogus":1}"#))
            #expect(unknown.status == 400 && statusMessage(unknown).contains(#"unknown field "spec.ephemeralContainers[0].bogus""#),
                    "\(unknown.text)")
            let stale = try await server.client.send("PATCH", path, headers: ["Content-Type": "application/merge-patch+json"], body: Array(
                #"{"metadata":{"resourceVersion":"1"},"spec":{"ephemeralContainers":[{"name":"d","image":"b"}]}}"#.utf8))
            #expect(stale.status == 409, "\(stale.text)")
            let pod = try await server.client.send("GET", Self.pods + "/web").json()
            #expect(pod["spec"]?["ephemeralContainers"] == nil)
        }
    }

    @Test func aStaticPodsMirrorTakesNone() async throws {
        try await withTestServer { server in
            try await Self.created(server, mirror: true)
            let refused = try await server.client.send("PATCH", Self.pods + "/web/ephemeralcontainers", headers: Self.strategic,
                                                      body: Self.add(#"{"name":"dbg","image":"busybox"}"#))
            #expect(refused.status == 422 && statusMessage(refused).contains("static pods do not support ephemeral containers"), "\(refused.text)")
        }
    }

    /// `kubectl debug` (1.32 and 1.27: a strategic merge patch of pods/ephemeralcontainers;
    /// 1.20 used the EphemeralContainers kind that Kubernetes 1.22 removed, as it fails against
    /// any server of today).
    @Test(arguments: [Kubectl.defaultBinary, Kubectl.binary127])
    func kubectlDebugAddsTheContainer(_ binary: String) async throws {
        try await withTestServer { server in
            let kubectl = try Kubectl(binary: binary, port: server.port, directory: server.directory)
            #expect(try await kubectl("create", "-f", "-", input: podYAML).status == 0)
            let debug = try await kubectl("debug", "web", "--image=busybox:1.36", "--target=web", "-c", "dbg", "--", "sh", "-c", "echo hi")
            #expect(debug.status == 0, "\(debug.stderr)")
            let named = try await kubectl("debug", "web", "--image=busybox:1.36")
            #expect(named.status == 0, "\(named.stderr)")
            #expect((named.stdout + named.stderr).contains("Defaulting debug container name to debugger-"), "\(named.stdout)\(named.stderr)")
            let pod = try JSONParser.parse(Array(try await kubectl("get", "pod", "web", "-o", "json").stdout.utf8))
            let ephemeral = pod["spec"]?["ephemeralContainers"]?.arrayValue ?? []
            #expect(ephemeral.count == 2)
            #expect(ephemeral.first?["name"]?.stringValue == "dbg" && ephemeral.first?["targetContainerName"]?.stringValue == "web"
                    && ephemeral.first?["command"] == .array(["sh", "-c", "echo hi"].map { .string($0) }), "\(ephemeral)")
        }
    }
}
