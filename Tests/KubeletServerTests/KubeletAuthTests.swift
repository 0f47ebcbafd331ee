import Foundation
import KubeAPI
import KubeletServer
import Synchronization
import Testing
import TestSupport

/// Authentication (bearer tokens checked by a TokenReviewer, results cached) and authorization
/// (system:masters only) in front of every endpoint, with kubelet's answers.
@Suite
struct KubeletAuthTests {
    @Test func anonymousAndUnknownTokensAreUnauthorizedOthersForbiddenWithKubeletsMessage() async throws {
        let root = try TestRoot()
        defer { root.cleanUp() }
        let host = FakeKubeletHost(root: root.path)
        try await withKubeletServer(host: host, certificateDirectory: root.path + "/pki") { server in
            for path in ["/healthz", "/pods", "/stats/summary", "/containerLogs/default/web/app"] {
                let anonymous = try await server.get(path, token: nil)
                #expect(anonymous.status == 401, "\(path)")
                #expect(anonymous.body == "Unauthorized")
                #expect(try await server.get(path, token: "wrong").status == 401)
            }
            let cases = [("/pods", "proxy"), ("/healthz", "proxy"), ("/containerLogs/default/web/app", "proxy"),
                         ("/stats/summary", "stats"), ("/metrics", "metrics")]
            for (path, subresource) in cases {
                let denied = try await server.get(path, token: "node-token")
                #expect(denied.status == 403, "\(path)")
                #expect(denied.body == "Forbidden (user=system:node:node-b, verb=get, resource=nodes, subresource=\(subresource))")
            }
            let health = try await server.get("/healthz")
            #expect(health.status == 200)
            #expect(health.body == "ok")
            #expect(try await server.get("/nothing-here").status == 404)
        }
    }

    @Test func reviewsAreCachedForTheirTTL() async throws {
        let reviewer = FakeReviewer()
        // Time moves only when the test says, so a slow machine cannot expire entries early.
        let clock = Mutex(ContinuousClock.now)
        let authenticator = CachingTokenAuthenticator(reviewer: reviewer, ttl: .seconds(120), now: { clock.withLock { $0 } })
        let first = try await authenticator.authenticate(authorization: "Bearer admin-token")
        #expect(first?.name == "system:admin")
        #expect(try await authenticator.authenticate(authorization: "Bearer admin-token") == first)
        #expect(try await authenticator.authenticate(authorization: "Bearer wrong") == nil)
        #expect(try await authenticator.authenticate(authorization: "Bearer wrong") == nil)
        #expect(reviewer.reviews == 2)
        #expect(try await authenticator.authenticate(authorization: nil) == nil)
        #expect(try await authenticator.authenticate(authorization: "Basic YWRtaW46eA==") == nil)
        #expect(reviewer.reviews == 2)
        clock.withLock { $0 += .seconds(119) }
        #expect(try await authenticator.authenticate(authorization: "Bearer admin-token") == first)
        #expect(reviewer.reviews == 2)
        clock.withLock { $0 += .seconds(2) }
        #expect(try await authenticator.authenticate(authorization: "Bearer admin-token") == first)
        #expect(reviewer.reviews == 3)
    }

    @Test func bearerTokensAreReadAsTheAPIServerReadsThem() async throws {
        let reviewer = FakeReviewer()
        let authenticator = CachingTokenAuthenticator(reviewer: reviewer)
        // Two spaces make the token empty (Kubernetes' bearertoken authenticator): never reviewed.
        #expect(try await authenticator.authenticate(authorization: "Bearer  admin-token") == nil)
        #expect(try await authenticator.authenticate(authorization: "Bearer\tadmin-token") == nil)
        #expect(reviewer.reviews == 0)
        #expect(try await authenticator.authenticate(authorization: "bearer admin-token")?.name == "system:admin")
        #expect(try await authenticator.authenticate(authorization: " Bearer admin-token extra ")?.name == "system:admin")
        #expect(reviewer.reviews == 1)
    }

    @Test func attributesFollowKubeletsPathMapping() {
        let user = ReviewedUser(name: "u")
        #expect(KubeletRequestAttributes(user: user, method: "GET", path: "/stats/summary", nodeName: "n").subresource == "stats")
        #expect(KubeletRequestAttributes(user: user, method: "GET", path: "/statsx", nodeName: "n").subresource == "proxy")
        #expect(KubeletRequestAttributes(user: user, method: "GET", path: "/logs/syslog", nodeName: "n").subresource == "log")
        #expect(KubeletRequestAttributes(user: user, method: "POST", path: "/exec/a/b/c", nodeName: "n").verb == "create")
        #expect(KubeletRequestAttributes(user: user, method: "GET", path: "/metrics/cadvisor", nodeName: "n").subresource == "metrics")
    }

    @Test func theCertificateIsKeptAndRemadeWhenANameIsMissing() throws {
        let root = try TestRoot()
        defer { root.cleanUp() }
        let first = try KubeletCertificate.loadOrCreate(directory: root.path + "/pki", dnsNames: ["node-a"], ipAddresses: ["10.0.0.5"])
        let again = try KubeletCertificate.loadOrCreate(directory: root.path + "/pki", dnsNames: ["node-a"], ipAddresses: [])
        #expect(again.certificatePEM == first.certificatePEM)
        let mode = try FileManager.default.attributesOfItem(atPath: root.path + "/pki/kubelet.key")[.posixPermissions] as? Int
        #expect(mode == 0o600)
        let renamed = try KubeletCertificate.loadOrCreate(directory: root.path + "/pki", dnsNames: ["node-b"], ipAddresses: [])
        #expect(renamed.certificatePEM != first.certificatePEM)
    }
}

/// `/pods` and `/metrics`.
@Suite
struct KubeletPodsAndMetricsTests {
    @Test func podsAreAPodListWithStatus() async throws {
        let root = try TestRoot()
        defer { root.cleanUp() }
        let host = FakeKubeletHost(root: root.path)
        host.set([try makePod("web", statuses: [running("app", attempt: 2, previous: 1)])])
        try await withKubeletServer(host: host, certificateDirectory: root.path + "/pki") { server in
            let response = try await server.get("/pods")
            #expect(response.status == 200)
            #expect(response.contentType == "application/json")
            let object = try #require(try JSONSerialization.jsonObject(with: Data(response.body.utf8)) as? [String: Any])
            #expect(object["kind"] as? String == "PodList")
            #expect(object["apiVersion"] as? String == "v1")
            let items = try #require(object["items"] as? [[String: Any]])
            #expect(items.count == 1)
            let list = try JSONDecoder().decode(PodListShape.self, from: Data(response.body.utf8))
            #expect(list.items.first?.metadata.name == "web")
            #expect(list.items.first?.status?.containerStatuses?.first?.restartCount == 2)
            #expect(list.items.first?.status?.phase == "Running")
        }
    }

    struct PodListShape: Decodable {
        let items: [Pod]
    }

    @Test func metricsCountPodsAndContainersInPrometheusText() async throws {
        let root = try TestRoot()
        defer { root.cleanUp() }
        let host = FakeKubeletHost(root: root.path)
        var web = try makePod("web", containers: ["app", "side"], statuses: [running("app", attempt: 0), terminated("side", attempt: 0)])
        web.status?.conditions = [PodCondition(type: "PodReadyToStartContainers", status: "True")]
        var gone = try makePod("gone", uid: "uid-2", statuses: [terminated("app", uid: "uid-2", attempt: 0)], phase: "Succeeded")
        gone.status?.conditions = [PodCondition(type: "PodReadyToStartContainers", status: "False")]
        host.set([web, gone])
        try await withKubeletServer(host: host, certificateDirectory: root.path + "/pki") { server in
            let response = try await server.get("/metrics")
            #expect(response.status == 200)
            #expect(response.contentType == "text/plain; version=0.0.4; charset=utf-8")
            let lines = response.body.split(separator: "\n").map(String.init)
            #expect(lines.contains("# TYPE kubelet_running_pods gauge"))
            #expect(lines.contains("kubelet_running_pods 1"))
            #expect(lines.contains(#"kubelet_running_containers{container_state="running"} 1"#))
            #expect(lines.contains(#"kubelet_running_containers{container_state="exited"} 2"#))
            #expect(lines.contains(#"kubelet_node_name{node="node-a"} 1"#))
            #expect(lines.contains("# HELP process_resident_memory_bytes Resident memory size in bytes."))
            let resident = lines.first { $0.hasPrefix("process_resident_memory_bytes ") }.flatMap { UInt64($0.split(separator: " ")[1]) }
            #expect((resident ?? 0) > 1 << 20)
            // Every sample follows its HELP and TYPE lines.
            for line in lines where !line.hasPrefix("#") {
                let name = String(line.prefix { $0 != "{" && $0 != " " })
                #expect(lines.contains { $0.hasPrefix("# TYPE \(name) ") }, "\(line)")
            }
        }
    }
}
