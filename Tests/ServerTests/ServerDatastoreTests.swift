@testable import APIMachinery
import APITestSupport
import EtcdStorage
import Foundation
import ServerTestSupport
import Storage
import TestSupport
import Testing

/// `swiftlet server --datastore-endpoint` on a real etcd: the whole server (controllers under
/// the leader lease), restarted, and a second server that joins with the first one's token
/// (the shared identity in the datastore) while another token is refused.
@Suite(.requires(TestEtcd.isInstalled, "needs etcd (Debian's etcd-server)"))
struct ServerDatastoreTests {
    private static let leaseKey = "/registry/leases/kube-system/kube-controller-manager"

    /// The leader lease's holder, read from etcd itself.
    private func leaseHolder(_ etcd: TestEtcd) async throws -> String? {
        let store = try await EtcdStorage(client: try etcd.client(), compactionInterval: nil)
        let stored = try await store.get(Self.leaseKey)
        await store.close()
        return try stored.map { try KubeObject(json: $0.value).string(at: ["spec", "holderIdentity"]) ?? "" }
    }

    @Test func aServerOnEtcdRunsItsControllersUnderTheLeaseAndKeepsItsStateAcrossARestart() async throws {
        try await withTestEtcd { etcd in
            let directory = try TemporaryDirectory()
            let arguments = ["--http-listen", "127.0.0.1:0", "--datastore-endpoint", etcd.endpoints[0].description]
            let server = try await ServerProcess(dataDirectory: directory.path + "/data", arguments: arguments)
            let client = HTTPTestClient(port: server.port)
            let deployment = try json(#"""
                {"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web"},
                 "spec":{"replicas":2,"selector":{"matchLabels":{"app":"web"}},
                 "template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"name":"web","image":"busybox"}]}}}}
                """#)
            #expect(try await client.send("POST", "/apis/apps/v1/namespaces/default/deployments", json: deployment).status == 201)
            // The controllers run (they hold the lease): Deployment -> ReplicaSet -> two pods.
            let pods = try await eventually({
                try await client.send("GET", "/api/v1/namespaces/default/pods").json()["items"]?.arrayValue?.count ?? 0
            }, until: { $0 == 2 })
            #expect(pods == 2)
            let holder = try await leaseHolder(etcd)
            #expect(holder?.hasPrefix(ProcessInfo.processInfo.hostName + "_") == true, "\(holder ?? "no lease")")

            // SIGTERM: the lease is handed back, so the next server leads at once.
            await server.stop()
            #expect(try await leaseHolder(etcd) == "")
            let restarted = try await ServerProcess(dataDirectory: directory.path + "/data", arguments: arguments)
            let again = HTTPTestClient(port: restarted.port)
            #expect(try await again.send("GET", "/apis/apps/v1/namespaces/default/deployments/web").status == 200)
            let newHolder = try await eventually({ try await leaseHolder(etcd) ?? "" }, until: { !$0.isEmpty })
            #expect(!newHolder.isEmpty && newHolder != holder)
            // Scaled on the restarted server: its controllers act.
            let scale = try await again.send("PATCH", "/apis/apps/v1/namespaces/default/deployments/web/scale",
                                             json: try json(#"{"spec":{"replicas":3}}"#), contentType: "application/merge-patch+json")
            #expect(scale.status == 200, "\(scale.text)")
            let scaled = try await eventually({
                try await again.send("GET", "/api/v1/namespaces/default/pods").json()["items"]?.arrayValue?.count ?? 0
            }, until: { $0 == 3 })
            let sets = try await again.send("GET", "/apis/apps/v1/namespaces/default/replicasets").text
            #expect(scaled == 3, "\(sets)")
            await restarted.stop()
        }
    }

    /// A server whose etcd is gone says so on /readyz, as kube-apiserver does: agents then use
    /// another server.
    @Test func readyzFailsWhileEtcdIsGone() async throws {
        try await withTestEtcd { etcd in
            let directory = try TemporaryDirectory()
            let server = try await ServerProcess(dataDirectory: directory.path + "/data",
                                                 arguments: ["--http-listen", "127.0.0.1:0", "--datastore-endpoint", etcd.endpoints[0].description])
            let client = HTTPTestClient(port: server.port)
            #expect(try await client.send("GET", "/readyz").text == "ok")
            await etcd.kill(member: 0)
            let unready = try await eventually({ try await client.send("GET", "/readyz") }, until: { $0.status == 500 })
            #expect(unready.status == 500)
            #expect(unready.text == "[+]ping ok\n[-]etcd failed: reason withheld\nreadyz check failed\n", "\(unready.text)")
            #expect(try await client.send("GET", "/readyz/etcd").status == 500)
            await server.stop()
        }
    }

    @Test func aSecondServerJoinsWithTheFirstsTokenAndServesTheSameClusterWhileAnotherTokenIsRefused() async throws {
        try await withTestEtcd { etcd in
            let directory = try TemporaryDirectory()
            func arguments(_ name: String) -> [String] {
                ["--https-listen", "127.0.0.1:0", "--disable-agent", "--write-kubeconfig", "\(directory.path)/\(name).yaml",
                 "--datastore-endpoint", etcd.endpoints[0].description]
            }
            func run(_ name: String, _ extra: [String]) async -> (Int32, String) {
                await TestProcess.runAsync([ServerProcess.binary, "server", "--data-dir", "\(directory.path)/\(name)"] + arguments(name) + extra)
            }
            let first = try await ServerProcess(dataDirectory: directory.path + "/first", arguments: arguments("first"))
            let token = try String(contentsOfFile: directory.path + "/first/server/token", encoding: .utf8)
                .trimmingCharacters(in: .whitespacesAndNewlines)

            // Its own token (made on first start) is not the cluster's: refused, nothing changed.
            let (status, output) = await run("stranger", [])
            #expect(status != 0)
            #expect(output.contains("the datastore already holds the bootstrap data of a cluster with another token"), "\(output.suffix(2000))")
            // The right secret with another CA hash: the token was made for another cluster.
            let otherHash = "K10" + String(repeating: "0", count: 64) + "::server:" + token.components(separatedBy: "::server:")[1]
            let (wrongStatus, wrongOutput) = await run("wrong-ca", ["--token", otherHash])
            #expect(wrongStatus != 0)
            #expect(wrongOutput.contains("--token was made for a cluster CA with sha256 0000"), "\(wrongOutput.suffix(2000))")

            // With the first server's token: the same CA, keys and tokens, one cluster.
            let second = try await ServerProcess(dataDirectory: directory.path + "/second", arguments: arguments("second") + ["--token", token])
            for file in ["server/tls/server-ca.crt", "server/tls/server-ca.key", "server/tls/service.key", "server/cred/admin-token", "server/token"] {
                #expect(FileManager.default.contents(atPath: "\(directory.path)/first/\(file)")
                        == FileManager.default.contents(atPath: "\(directory.path)/second/\(file)"), "\(file)")
            }
            let kubectl1 = Kubectl(kubeconfig: directory.path + "/first.yaml", cacheDirectory: directory.path + "/cache1")
            let kubectl2 = Kubectl(kubeconfig: directory.path + "/second.yaml", cacheDirectory: directory.path + "/cache2")
            let created = try await kubectl1("create", "configmap", "shared", "--from-literal=k=v")
            #expect(created.status == 0, "\(created.stderr)")
            let read = try await kubectl2("get", "configmap", "shared", "-o", "jsonpath={.data.k}")
            #expect(read.status == 0 && read.stdout == "v", "\(read.stdout) \(read.stderr)")
            // One kubeconfig works against either server: same CA and admin token.
            let crossed = try await kubectl1("--server", "https://127.0.0.1:\(second.port)", "get", "configmap", "shared")
            #expect(crossed.status == 0, "\(crossed.stderr)")
            // Both elect; one leads.
            let holder = try await eventually({ try await leaseHolder(etcd) ?? "" }, until: { !$0.isEmpty })
            #expect(!holder.isEmpty)
            await second.stop()
            await first.stop()
            // The first server comes back on its own data directory and token.
            let back = try await ServerProcess(dataDirectory: directory.path + "/first", arguments: arguments("first"))
            await back.stop()
        }
    }
}
