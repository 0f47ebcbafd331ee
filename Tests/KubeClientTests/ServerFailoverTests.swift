import APITestSupport
import Foundation
import KubeAPI
@testable import KubeClient
import Logging
import ServerTestSupport
import Synchronization
import TestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

extension ConfigMap: ListedObject {}

/// How a server goes away in a test.
enum Outage: String, CaseIterable, Sendable {
    /// The machine died: connections stay open and silent (`TCPRelay.freeze`).
    case dies
    /// The server stopped: connections close, new ones are refused (`TCPRelay.close`).
    case stops

    func apply(to relay: TCPRelay) async {
        switch self {
        case .dies: relay.freeze()
        case .stops: await relay.close()
        }
    }
}

/// An agent's client through a `ServerPool` against two real API servers over one store
/// (`withServerPair`), one of which goes away.
@Suite(.timeLimit(.minutes(2))) struct ServerFailoverTests {
    static let configMaps = "/api/v1/namespaces/default/configmaps"

    /// What a Reflector delivered: the lists, and the resourceVersion of each added ConfigMap.
    final class Delivered: Sendable {
        private let state = Mutex<(lists: Int, added: [String: String])>((0, [:]))

        func record(_ event: ReflectorEvent<ConfigMap>) {
            state.withLock { state in
                switch event {
                case .replaced: state.lists += 1
                case .added(let map): state.added[map.metadata.name ?? ""] = map.metadata.resourceVersion ?? ""
                case .modified, .deleted: break
                }
            }
        }

        var lists: Int { state.withLock { $0.lists } }
        var added: [String: String] { state.withLock { $0.added } }
    }

    /// Creates `names` through `writer` and returns name → resourceVersion.
    static func create(_ names: some Sequence<String>, with writer: APIClient) async throws -> [String: String] {
        var versions: [String: String] = [:]
        for name in names {
            let made = try await writer.create(configMaps, ConfigMap(metadata: ObjectMeta(name: name), data: ["k": name]))
            versions[name] = made.metadata.resourceVersion ?? ""
        }
        return versions
    }

    @Test(arguments: Outage.allCases)
    func aWatchResumesOnTheOtherServerWithoutMissingAnEvent(_ outage: Outage) async throws {
        try await withServerPair { pair in
            let (pool, client) = try await pair.clientThroughBoth()
            try await ClusterJoin.withShutdown(try pair.adminOfB()) { writer in
                try await withHealthChecks(pool, client: client) {
                    let delivered = Delivered()
                    // Cancelled and awaited when the scope ends.
                    async let _: Void = Reflector<ConfigMap>(client: client, path: Self.configMaps, logger: LogRecorder().logger)
                        .run { delivered.record($0) }
                    try await waitUntil("the reflector listed") { delivered.lists == 1 }
                    let before = try await Self.create((0..<5).map { "before-\($0)" }, with: writer)
                    try await waitUntil("the first events came through A") { delivered.added.count == 5 }
                    #expect(await pool.current == pair.a.url)
                    #expect(pool.requests.count(on: pair.a.url) >= 1, "the watch runs on A")

                    await outage.apply(to: pair.a)
                    let created = before.merging(try await Self.create((0..<10).map { "after-\($0)" }, with: writer)) { $1 }
                    try await waitUntil("every event came through B") { delivered.added.count == created.count }
                    #expect(delivered.added == created, "each ConfigMap exactly at the version it was created with")
                    #expect(delivered.lists == 1, "resumed from the last version, not listed again")
                    #expect(await pool.current == pair.b.url)
                }
            }
        }
    }

    @Test(arguments: Outage.allCases)
    func plainRequestsMoveToTheOtherServer(_ outage: Outage) async throws {
        try await withServerPair { pair in
            let (pool, client) = try await pair.clientThroughBoth()
            try await withHealthChecks(pool, client: client) {
                // The connection to A stays open for the next request (keep-alive).
                let _: JSONValue = try await client.get("/api/v1/namespaces")
                #expect(await pool.current == pair.a.url)
                await outage.apply(to: pair.a)
                let namespaces: JSONValue = try await client.get("/api/v1/namespaces")
                guard case .array(let items)? = namespaces["items"] else {
                    Issue.record("not a list: \(namespaces)")
                    return
                }
                #expect(!items.isEmpty)
                #expect(await pool.current == pair.b.url)
                // Writes go to B as well.
                let made = try await client.create(Self.configMaps, ConfigMap(metadata: ObjectMeta(name: "after"), data: ["k": "v"]))
                #expect(made.metadata.uid?.isEmpty == false)
            }
        }
    }

    @Test func aServerThatAcceptsButNeverAnswersIsFoundByTheHealthCheck() async throws {
        // Listening, so the kernel completes the TCP handshake; never accepted, never read.
        let (socket, port) = try LoopbackSocket.bind(listen: true)
        defer { close(socket) }
        let silent = "https://127.0.0.1:\(port)"
        try await withServerPair { pair in
            let client = try pair.client(through: ServerPool(server: silent, directory: nil, logger: LogRecorder().logger))
            let pool = try #require(client.pool)
            await pool.update(servers: [silent, pair.b.url])
            #expect(await pool.current == silent)

            // The probe gives up at its timeout.
            #expect(await client.isReady(silent, timeout: .milliseconds(500)) == false)

            try await withHealthChecks(pool, client: client) {
                // Answered by B once the health check gave the silent server up (not after the
                // 10 s connect timeout or the 60 s request timeout: no time is asserted here).
                let _: JSONValue = try await client.get("/api/v1/namespaces")
                #expect(await pool.health(of: silent) == .unhealthy)
                #expect(await pool.current == pair.b.url)
            }
        }
    }

    @Test func everyServerMustProveTheClusterCAForItsOwnAddress() async throws {
        try await withServerPair { pair in
            // 127.0.0.2 reaches server A, whose certificate names 127.0.0.1 only.
            let misnamed = try await TCPRelay.start(host: "127.0.0.2", to: pair.portA)
            try await withTestCluster { foreign in  // a server of another cluster, another CA
                let pool = ServerPool(server: misnamed.url, directory: nil, logger: LogRecorder().logger)
                await pool.update(servers: [misnamed.url, foreign.server, pair.b.url])
                let client = try pair.client(through: pool)
                try await ClusterJoin.withShutdown(client) { client in
                    // No TLS session, so nothing was sent: the request goes on to the next server.
                    let _: JSONValue = try await client.get("/api/v1/namespaces")
                    #expect(await pool.current == pair.b.url)
                    #expect(await client.isReady(misnamed.url, timeout: .seconds(2)) == false)
                    #expect(await client.isReady(foreign.server, timeout: .seconds(2)) == false)
                    #expect(await client.isReady(pair.b.url, timeout: .seconds(2)) == true)
                }
            }
            await misnamed.close()
        }
    }

    @Test func theKubernetesEndpointsTeachThePoolItsServers() async throws {
        // Endpoints may not hold loopback addresses (as upstream validates them), so the servers
        // listed here are documentation addresses nobody probes: no health checks run.
        let first = "https://192.0.2.10:6443", second = "https://192.0.2.11:7443"
        try await withServerPair { pair in
            let directory = try ScratchDirectory()
            let pool = ServerPool(server: pair.a.url, directory: directory.path, logger: LogRecorder().logger)
            let client = try pair.client(through: pool)
            try await ClusterJoin.withShutdown(try pair.adminOfB()) { writer in
                try await ClusterJoin.withShutdown(client) { client in
                    let feed = APIServerEndpoints(client: client, pool: pool, debounce: .milliseconds(100), logger: LogRecorder().logger)
                    // Cancelled and awaited when the scope ends.
                    async let _: Void = feed.run()
                    try await Self.setKubernetesEndpoints([("192.0.2.10", 6443), ("192.0.2.11", 7443)], with: writer)
                    try await waitUntil("the pool learned both servers") { await pool.learned == [first, second] }
                    #expect(await pool.servers == [first, second, pair.a.url], "the joined server stays, last")
                    #expect(await pool.current == pair.a.url, "nothing is known to be better yet")
                    let saved = ServerPool(server: pair.a.url, directory: directory.path, logger: LogRecorder().logger)
                    #expect(await saved.learned == [first, second])

                    // Endpoints without addresses are ignored: the pool keeps what it knows.
                    try await Self.setKubernetesEndpoints([], with: writer)
                    try await Task.sleep(for: .milliseconds(600))
                    #expect(await pool.learned == [first, second])

                    // A server dropped from the list, another added.
                    try await Self.setKubernetesEndpoints([("192.0.2.11", 7443), ("192.0.2.12", 6443)], with: writer)
                    try await waitUntil("the pool has the new list") { await pool.learned == [second, "https://192.0.2.12:6443"] }
                    #expect(ServerListFile.load(path: directory.path + "/servers", server: pair.a.url, logger: LogRecorder().logger)
                            == [second, "https://192.0.2.12:6443"])
                }
            }
        }
    }

    /// Writes `default/kubernetes` Endpoints listing each address with its port (port `https`);
    /// none: Endpoints without addresses.
    static func setKubernetesEndpoints(_ addresses: [(ip: String, port: Int)], with writer: APIClient) async throws {
        let subsets: JSONValue = .array(addresses.map { address in
            .object(["addresses": .array([.object(["ip": .string(address.ip)])]),
                     "ports": .array([.object(["name": .string("https"), "port": .int(Int64(address.port)), "protocol": .string("TCP")])])])
        })
        let path = "/api/v1/namespaces/default/endpoints"
        do {
            let _: JSONValue = try await writer.create(path, JSONValue.object([
                "apiVersion": .string("v1"), "kind": .string("Endpoints"),
                "metadata": .object(["name": .string("kubernetes"), "namespace": .string("default")]), "subsets": subsets,
            ]))
        } catch let error as APIClientError where error.isAlreadyExists {
            let _: JSONValue = try await writer.patch(path + "/kubernetes", type: .merge, body: JSONValue.object(["subsets": subsets]))
        }
    }

    @Test func aRestartedAgentJoinsThroughAServerItLearnedWhenItsOwnIsGone() async throws {
        let agent = try ScratchDirectory()
        let gone = "https://127.0.0.1:\(try freePort())"
        try await withTestCluster { cluster in
            // Saved by the agent's earlier run.
            try FileManager.default.createDirectory(atPath: agent.path + "/credential", withIntermediateDirectories: true)
            try ServerListFile(server: gone, servers: [gone, cluster.server]).save(path: agent.path + "/credential/servers")
            let credential = try await ClusterJoin.join(server: gone, token: cluster.joinToken, nodeName: "node-a",
                                                        dataDirectory: agent.path, logger: LogRecorder().logger,
                                                        retry: ClusterJoinTests.fast)
            #expect(credential.server == gone, "the node's server stays the one it was given")
            #expect(credential.caPEM == cluster.certificates.caCertificatePEM)
        }
    }
}
