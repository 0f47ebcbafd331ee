@testable import APIServer
import APITestSupport
import Foundation
import Glibc
import KubeAPI
import ServerTestSupport
import Testing

/// `pods/exec|attach|portforward` before anything reaches a kubelet: who may ask, and
/// kube-apiserver's checks in its order, each a Status kubectl prints (the proxying itself is
/// tested with real kubectl and agents in ClusterTests).
@Suite struct PodStreamProxyTests {
    static let upgrade = ["Connection": "Upgrade", "Upgrade": "websocket", "Sec-WebSocket-Version": "13",
                          "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Protocol": "v5.channel.k8s.io"]

    @Test func refusalsBeforeTheKubeletInKubeApiserversOrder() async throws {
        try await withAuthServer { auth in
            func ask(_ path: String, token: String?, upgrade: Bool = true) async throws -> (Int, String) {
                var headers = upgrade ? Self.upgrade : [:]
                if let token { headers["Authorization"] = "Bearer \(token)" }
                let response = try await auth.client.send("GET", path, headers: headers)
                return (response.status, statusMessage(response))
            }
            let admin = auth.credentials.adminToken
            let exec = "/api/v1/namespaces/default/pods/web/exec?command=true&stdout=true"
            #expect(try await ask(exec, token: nil) == (401, "Unauthorized"))
            let nodeToken = try await auth.join("node-a")
            let asNode = try await ask(exec, token: nodeToken)
            #expect(asNode.0 == 403 && asNode.1.contains(#"User "system:node:node-a" cannot create resource "pods/exec""#), "\(asNode)")
            #expect(try await ask(exec, token: admin) == (404, #"pods "web" not found"#))

            let created = try await auth.admin("POST", "/api/v1/namespaces/default/pods", """
                {"apiVersion":"v1","kind":"Pod","metadata":{"name":"web"},"spec":{
                 "initContainers":[{"name":"init","image":"busybox"}],
                 "containers":[{"name":"a","image":"busybox"},{"name":"b","image":"busybox"}]}}
                """)
            #expect(created.status == 201, "\(created.text)")
            #expect(try await ask(exec, token: admin)
                    == (400, "a container name must be specified for pod web, choose one of: [a b] or one of the init containers: [init]"))
            #expect(try await ask(exec + "&container=nope", token: admin) == (400, "container nope is not valid for pod web"))
            #expect(try await ask(exec + "&container=a", token: admin) == (400, "pod web does not have a host assigned"))
            #expect(try await ask("/api/v1/namespaces/default/pods/web/portforward?ports=80", token: admin)
                    == (400, "pod web does not have a host assigned"))
            // Not an upgrade: kube-apiserver's UpgradeAwareHandler answer.
            #expect(try await ask(exec + "&container=a", token: admin, upgrade: false) == (400, "Upgrade request required"))

            // Bound to a node whose kubelet listens nowhere: the checks after the node, then the dial.
            let bound = try await auth.admin("POST", "/api/v1/namespaces/default/pods", """
                {"apiVersion":"v1","kind":"Pod","metadata":{"name":"bound"},"spec":{"nodeName":"node-a",
                 "containers":[{"name":"c","image":"busybox"}]}}
                """)
            #expect(bound.status == 201, "\(bound.text)")
            let missingNode = try await ask("/api/v1/namespaces/default/pods/bound/exec?command=true&stdout=true", token: admin)
            #expect(missingNode.0 == 503 && missingNode.1.contains(#"bound to node "node-a", which does not exist"#), "\(missingNode)")
            let node = try await auth.admin("POST", "/api/v1/nodes", """
                {"apiVersion":"v1","kind":"Node","metadata":{"name":"node-a"},"status":{
                 "addresses":[{"type":"InternalIP","address":"127.0.0.1"}],"daemonEndpoints":{"kubeletEndpoint":{"Port":9}}}}
                """)
            #expect(node.status == 201, "\(node.text)")
            let base = "/api/v1/namespaces/default/pods/bound/"
            #expect(try await ask(base + "exec?stdout=true", token: admin) == (400, "you must specify at least 1 command"))
            #expect(try await ask(base + "exec?command=true&stdout=maybe", token: admin)
                    == (400, #"strconv.ParseBool: parsing "maybe": invalid syntax"#))
            #expect(try await ask(base + "portforward?ports=http", token: admin).0 == 400)
            #expect(try await ask(base + "portforward?ports=70000", token: admin).0 == 400)
            let dial = try await ask(base + "exec?command=true&stdout=true", token: admin)
            #expect(dial.0 == 500 && dial.1.contains("error dialing backend: 127.0.0.1:9"), "\(dial)")
        }
    }

    /// Bytes that are not HTTP, as the first request of a connection (the one an upgrade is
    /// looked for in) and after an upgrade request's head: a 400 and the end, never a hang.
    @Test func garbageFirstRequestsAreAnsweredAndClosed() async throws {
        try await withTestServer { server in
            for bytes in ["NOT HTTP AT ALL\r\n\r\n", "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: zz\r\n\r\n",
                          "GET /api/v1/namespaces/default/pods/p/exec HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\u{01}\u{02}\r\n\r\n"] {
                let port = server.port
                let answer = try await blocking { () -> String in
                    let socket = try HTTPTestClient.connect(port: port)
                    defer { close(socket) }
                    var timeout = timeval(tv_sec: 5, tv_usec: 0)
                    setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
                    try HTTPTestClient.write(socket, Array(bytes.utf8))
                    var data: [UInt8] = []
                    var buffer = [UInt8](repeating: 0, count: 4096)
                    while true {
                        let count = recv(socket, &buffer, buffer.count, 0)
                        if count < 0 { return "timed out after: " + String(decoding: data, as: UTF8.self) }
                        if count == 0 { break }
                        data += buffer[0..<count]
                    }
                    return String(decoding: data, as: UTF8.self)
                }
                #expect(answer.hasPrefix("HTTP/1.1 400"), "\(bytes.debugDescription): \(answer)")
            }
        }
    }

    @Test func kubeletParametersAsGoEncodesThem() {
        #expect(PodStreamProxy.queryEscape("sh -c 'echo a&b=c'/ü") == "sh+-c+%27echo+a%26b%3Dc%27%2F%C3%BC")
        #expect(PodStreamProxy.queryEscape("A-z_0.9~") == "A-z_0.9~")
    }
}
