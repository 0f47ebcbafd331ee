@testable import APIMachinery
@testable import APIRegistry
@testable import APIServer
import APITestSupport
import Foundation
import KubeAPI
import ServerTestSupport
import TestSupport
import Testing

/// `pods/{name}/log` proxied to a real kubelet API (HTTPS, bearer token) and read with real
/// kubectl. Needs /usr/bin/kubectl, as on the build machines.
@Suite
struct PodLogProxyTests {
    static func node(port: Int, addresses: String = #"[{"type":"Hostname","address":"node-a"},{"type":"InternalIP","address":"127.0.0.1"}]"#) -> String {
        """
        {"apiVersion":"v1","kind":"Node","metadata":{"name":"node-a"},
         "status":{"addresses":\(addresses),"daemonEndpoints":{"kubeletEndpoint":{"Port":\(port)}}}}
        """
    }

    static func pod(_ name: String, containers: [String] = ["app"], nodeName: String? = "node-a") -> String {
        let list = containers.map { #"{"name":"\#($0)","image":"busybox"}"# }.joined(separator: ",")
        let node = nodeName.map { #","nodeName":"\#($0)""# } ?? ""
        return #"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"\#(name)","namespace":"default"},"spec":{"containers":[\#(list)]\#(node)}}"#
    }

    /// The kubelet's view of a pod: running start `attempt`, after `previous`.
    static func agentPod(_ name: String, uid: String, attempt: Int, previous: Int?, phase: String = "Running",
                         terminatedNow: Bool = false) throws -> Pod {
        let json = #"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"\#(name)","namespace":"default","uid":"\#(uid)"},"spec":{"restartPolicy":"Always","containers":[{"name":"app","image":"busybox"}]}}"#
        var pod = try JSONDecoder().decode(Pod.self, from: Data(json.utf8))
        var status = ContainerStatus(name: "app", ready: true, restartCount: Int32(attempt), image: "busybox", imageID: "")
        status.containerID = "swiftlet://\(uid)/app/\(attempt)"
        if terminatedNow {
            var state = ContainerStateTerminated(exitCode: 0)
            state.containerID = status.containerID
            status.state = ContainerState(terminated: state)
        } else {
            status.state = ContainerState(running: ContainerStateRunning(startedAt: Time(Date())))
        }
        if let previous {
            var last = ContainerStateTerminated(exitCode: 2)
            last.containerID = "swiftlet://\(uid)/app/\(previous)"
            status.lastState = ContainerState(terminated: last)
        }
        pod.status = PodStatus(phase: phase, startTime: Time(Date()), containerStatuses: [status])
        return pod
    }

    @Test(.requires(Kubectl.isInstalled, "needs kubectl"))
    func kubectlLogsTailPreviousAndErrorsThroughTheKubelet() async throws {
        try await withPodLogCluster { cluster in
            let kubectl = try Kubectl(port: cluster.server.port, directory: cluster.server.directory)
            #expect(try await kubectl("create", "-f", "-", input: Self.node(port: cluster.kubeletPort)).status == 0)
            let created = try await kubectl("create", "-f", "-", input: Self.pod("web"))
            #expect(created.status == 0, "\(created.stderr)")
            let agentPod = try Self.agentPod("web", uid: "uid-web", attempt: 1, previous: 0)
            cluster.host.set([agentPod])
            try cluster.host.log(agentPod, "app", attempt: 0, ["booting", "crashed"])
            try cluster.host.log(agentPod, "app", attempt: 1, ["booting", "serving", "ready"])

            let logs = try await kubectl("logs", "web")
            #expect(logs.status == 0, "\(logs.stderr)")
            #expect(logs.stdout == "booting\nserving\nready\n")
            #expect(try await kubectl("logs", "web", "--tail=1").stdout == "ready\n")
            #expect(try await kubectl("logs", "web", "-p").stdout == "booting\ncrashed\n")
            #expect(try await kubectl("logs", "web", "--timestamps", "--tail=1").stdout == "2026-11-22T10:00:02Z ready\n")
            #expect(try await kubectl("logs", "web", "--limit-bytes=4").stdout == "boot")

            let wrongContainer = try await kubectl("logs", "web", "-c", "db")
            #expect(wrongContainer.status != 0)
            // kubectl checks the container against the pod it fetched first (the server's own check is tested below).
            #expect(wrongContainer.stderr.contains("container db is not valid for pod web"), "\(wrongContainer.stderr)")

            // The kubelet's own errors come through as BadRequest with its words.
            cluster.host.set([try Self.agentPod("web", uid: "uid-web", attempt: 0, previous: nil)])
            let noPrevious = try await kubectl("logs", "web", "-p")
            #expect(noPrevious.stderr.contains(#"Error from server (BadRequest): previous terminated container "app" in pod "web" not found"#),
                    "\(noPrevious.stderr)")
            // A pod the kubelet does not know (yet).
            cluster.host.set([])
            let unknown = try await kubectl("logs", "web")
            #expect(unknown.stderr.contains("Error from server (NotFound): the server could not find the requested resource ( pods/log web)"),
                    "\(unknown.stderr)")

            let missing = try await kubectl("logs", "nope")
            #expect(missing.stderr.contains(#"pods "nope" not found"#), "\(missing.stderr)")
        }
    }

    @Test(.requires(Kubectl.isInstalled, "needs kubectl"))
    func kubectlLogsFollowStreamsUntilTheContainerIsDone() async throws {
        try await withPodLogCluster { cluster in
            let kubectl = try Kubectl(port: cluster.server.port, directory: cluster.server.directory)
            #expect(try await kubectl("create", "-f", "-", input: Self.node(port: cluster.kubeletPort)).status == 0)
            #expect(try await kubectl("create", "-f", "-", input: Self.pod("web")).status == 0)
            let agentPod = try Self.agentPod("web", uid: "uid-web", attempt: 0, previous: nil)
            cluster.host.set([agentPod])
            try cluster.host.log(agentPod, "app", attempt: 0, ["one"])

            let follow = try kubectl.start("logs", "-f", "web")
            // Following once the first line is out (not after a fixed 1.5 s, which a loaded
            // machine may not give kubectl to connect): the later lines must then come through
            // the open stream while kubectl keeps running.
            let first = try await eventually({ follow.stdoutSoFar }, until: { $0 == "one\n" })
            #expect(first == "one\n", "kubectl logs -f printed the first line")
            try cluster.host.log(agentPod, "app", attempt: 0, ["two", "three"])
            let streamed = try await eventually({ follow.stdoutSoFar }, until: { $0 == "one\ntwo\nthree\n" })
            #expect(streamed == "one\ntwo\nthree\n", "the later lines came through the open stream")
            #expect(follow.isRunning, "kubectl logs -f must still be following")
            cluster.host.set([try Self.agentPod("web", uid: "uid-web", attempt: 0, previous: nil, phase: "Succeeded", terminatedNow: true)])
            // The kubelet ends the stream once the container is done; kubectl exits by itself.
            let deadline = Date().addingTimeInterval(15)
            while follow.isRunning && Date() < deadline { try await Task.sleep(for: .milliseconds(100)) }
            let exitedByItself = !follow.isRunning
            let output = try await follow.stop()
            #expect(exitedByItself)
            #expect(output.status == 0, "\(output.stderr)")
            #expect(output.stdout == "one\ntwo\nthree\n")
        }
    }

    @Test func theServerPicksTheContainerAndTheNodeAsKubernetesDoes() async throws {
        try await withPodLogCluster { cluster in
            let client = cluster.server.client
            func create(_ path: String, _ json: String) async throws {
                let response = try await client.send("POST", path, headers: ["Content-Type": "application/json"], body: Array(json.utf8))
                #expect(response.status == 201, "\(response.text)")
            }
            try await create("/api/v1/nodes", Self.node(port: cluster.kubeletPort))
            try await create("/api/v1/namespaces/default/pods", Self.pod("two", containers: ["a", "b"]))
            try await create("/api/v1/namespaces/default/pods", Self.pod("pending", nodeName: nil))
            try await create("/api/v1/namespaces/default/pods", Self.pod("lost", nodeName: "node-gone"))

            let two = try await client.send("GET", "/api/v1/namespaces/default/pods/two/log")
            #expect(two.status == 400)
            #expect(try two.json()["message"]?.stringValue == "a container name must be specified for pod two, choose one of: [a b]")
            let wrong = try await client.send("GET", "/api/v1/namespaces/default/pods/two/log?container=c")
            #expect(wrong.status == 400)
            #expect(try wrong.json()["message"]?.stringValue == "container c is not valid for pod two")
            let pending = try await client.send("GET", "/api/v1/namespaces/default/pods/pending/log")
            #expect(pending.status == 200)
            #expect(pending.body.isEmpty)
            let lost = try await client.send("GET", "/api/v1/namespaces/default/pods/lost/log")
            #expect(lost.status == 503)
            #expect(try lost.json()["message"]?.stringValue == #"pod "lost" is bound to node "node-gone", which does not exist: there is no kubelet to read its log from"#)
            let negative = try await client.send("GET", "/api/v1/namespaces/default/pods/two/log?container=a&tailLines=-2")
            #expect(negative.status == 422)
            #expect(try negative.json()["message"]?.stringValue == #"PodLogOptions "two" is invalid: tailLines: Invalid value: -2: must be greater than or equal to 0"#)
            let post = try await client.send("POST", "/api/v1/namespaces/default/pods/two/log")
            #expect(post.status == 405)
        }
    }

    @Test func kubeletAddressesAndAnswersMapAsKubeAPIServerMapsThem() throws {
        func node(_ addresses: String, port: String = "") throws -> KubeObject {
            let daemon = port.isEmpty ? "" : #","daemonEndpoints":{"kubeletEndpoint":{"Port":\#(port)}}"#
            return try KubeObject(json: Array(#"{"status":{"addresses":\#(addresses)\#(daemon)}}"#.utf8))
        }
        let both = try PodLogProxy.kubeletEndpoint(node(#"[{"type":"Hostname","address":"n"},{"type":"InternalIP","address":"10.0.0.2"}]"#, port: "10251"))
        #expect(both == ("10.0.0.2", 10251))
        let hostnameOnly = try PodLogProxy.kubeletEndpoint(node(#"[{"type":"Hostname","address":"n"}]"#))
        #expect(hostnameOnly == ("n", 10250))
        #expect(throws: APIError.self) { try PodLogProxy.kubeletEndpoint(node("[]")) }

        #expect(PodLogProxy.error(status: 400, body: "container \"a\" in pod \"w\" is terminated", name: "w").message
            == "container \"a\" in pod \"w\" is terminated")
        let forbidden = PodLogProxy.error(status: 403, body: "Forbidden (user=x, verb=get, resource=nodes, subresource=proxy)", name: "w")
        #expect(forbidden.code == 403 && forbidden.message == "Forbidden (user=x, verb=get, resource=nodes, subresource=proxy) ( pods/log w)")
        #expect(PodLogProxy.error(status: 401, body: "Unauthorized", name: "w").reason == "Unauthorized")
    }
}
