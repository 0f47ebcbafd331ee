import Foundation
import KubeAPI
@testable import KubeClient
import ServerTestSupport
import Synchronization
import Testing

/// The pool's bookkeeping without a network: which server it picks, what it saves and loads,
/// and which requests it cancels. `ServerFailoverTests` runs it against real servers.
@Suite struct ServerPoolTests {
    static let a = "https://10.0.0.1:6443"
    static let b = "https://10.0.0.2:6443"
    static let c = "https://10.0.0.3:6443"

    @Test func addressesHaveOneSpelling() {
        #expect(ServerAddress.normalize("https://10.0.0.1:6443/") == "https://10.0.0.1:6443")
        #expect(ServerAddress.normalize("HTTPS://Server.Example:6443") == "https://server.example:6443")
        #expect(ServerAddress.normalize("https://10.0.0.1") == "https://10.0.0.1:443")
        #expect(ServerAddress.normalize("https://[fd00::1]:6443") == "https://[fd00::1]:6443")
        #expect(ServerAddress.url(host: "fd00::2", port: 6443) == "https://[fd00::2]:6443")
        let refused = ["http://10.0.0.1:6443", "https://10.0.0.1:6443/api", "https://user:secret@10.0.0.1:6443",
                       "https://10.0.0.1:6443?next=1", "https://10.0.0.1:6443#x", "https://10.0.0.1:0", "https://10.0.0.1:70000",
                       "https://a..b:6443", "https://a_b:6443", "https://:6443", "10.0.0.1:6443", "",
                       "https://" + String(repeating: "a", count: 400) + ":6443"]
        for text in refused {
            #expect(ServerAddress.normalize(text) == nil, "\(text)")
        }
    }

    @Test func theLearnedListIsSavedAndReloadedForTheSameServerOnly() async throws {
        let directory = try ScratchDirectory()
        let pool = ServerPool(server: Self.a + "/", directory: directory.path, logger: LogRecorder().logger)
        #expect(pool.defaultServer == Self.a)
        await pool.update(servers: [Self.b, Self.a])
        let path = directory.path + "/servers"
        let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text == #"{"server":"https://10.0.0.1:6443","servers":["https://10.0.0.2:6443","https://10.0.0.1:6443"]}"# + "\n")

        // A restarted agent with the same --server starts from the saved list.
        let restarted = ServerPool(server: Self.a, directory: directory.path, logger: LogRecorder().logger)
        #expect(await restarted.learned == [Self.b, Self.a])
        #expect(await restarted.current == Self.a)

        // Pointed at another server, it does not wander back to the old cluster's addresses.
        let log = LogRecorder()
        let elsewhere = ServerPool(server: Self.c, directory: directory.path, logger: log.logger)
        #expect(await elsewhere.servers == [Self.c])
        #expect(log.recorded.contains { $0.contains("learned through another server") })
    }

    @Test func aRestartedAgentWhoseServerIsNotListedStartsOnAListedOne() async throws {
        let directory = try ScratchDirectory()
        try ServerListFile(server: Self.a, servers: [Self.b, Self.c]).save(path: directory.path + "/servers")
        let pool = ServerPool(server: Self.a, directory: directory.path, logger: LogRecorder().logger)
        #expect(await pool.servers == [Self.b, Self.c, Self.a])
        #expect([Self.b, Self.c].contains(await pool.current))
    }

    /// Files the agent never writes, by what is wrong with them.
    static let hostileFiles: [String: String] = [
        "not JSON": "\u{0}\u{1}garbage",
        "another shape": #"["https://10.0.0.2:6443"]"#,
        "a plain-HTTP entry": #"{"server":"https://10.0.0.1:6443","servers":["http://10.0.0.2:6443"]}"#,
        "an entry with a path": #"{"server":"https://10.0.0.1:6443","servers":["https://10.0.0.2:6443/steal"]}"#,
        "an entry with credentials": #"{"server":"https://10.0.0.1:6443","servers":["https://u:p@10.0.0.2:6443"]}"#,
        "too many entries": #"{"server":"https://10.0.0.1:6443","servers":["#
            + (1...40).map { "\"https://10.0.1.\($0):6443\"" }.joined(separator: ",") + "]}",
        "too large": #"{"server":"https://10.0.0.1:6443","servers":[],"pad":""# + String(repeating: "x", count: 70_000) + "\"}",
    ]

    @Test(arguments: hostileFiles.keys.sorted())
    func aCorruptOrHostileFileIsIgnoredWithALogLine(_ name: String) async throws {
        let content = try #require(Self.hostileFiles[name])
        let directory = try ScratchDirectory()
        try Data(content.utf8).write(to: URL(fileURLWithPath: directory.path + "/servers"))
        let log = LogRecorder()
        let pool = ServerPool(server: Self.a, directory: directory.path, logger: log.logger)
        #expect(await pool.servers == [Self.a], "\(name)")
        #expect(await pool.current == Self.a)
        #expect(log.recorded.contains { $0.hasPrefix("warning: ignoring the saved API server list") }, "\(name): \(log.recorded)")
        // The next update replaces the bad file.
        await pool.update(servers: [Self.a, Self.b])
        #expect(ServerListFile.load(path: directory.path + "/servers", server: Self.a, logger: log.logger) == [Self.a, Self.b])
    }

    @Test func anEmptyListIsIgnoredAndANewAddressIsAdded() async throws {
        let log = LogRecorder()
        let pool = ServerPool(server: Self.a, directory: nil, logger: log.logger)
        await pool.update(servers: [Self.a, Self.b])
        await pool.update(servers: [])
        #expect(await pool.servers == [Self.a, Self.b])
        #expect(log.recorded.contains { $0.contains("keeping the known ones") })
        await pool.update(servers: ["https://10.0.0.3:6443/", "ftp://10.0.0.9", Self.a, Self.b])
        #expect(await pool.servers == [Self.c, Self.a, Self.b])
        #expect(await pool.current == Self.a)
    }

    @Test func aServerNoLongerListedLosesItsRequests() async throws {
        let pool = ServerPool(server: Self.a, directory: nil, logger: LogRecorder().logger)
        await pool.update(servers: [Self.a, Self.b])
        let cancelled = Counter()
        let onB = try #require(pool.requests.register(server: Self.b, epoch: pool.requests.epoch(of: Self.b)) { cancelled.add() })
        _ = pool.requests.register(server: Self.a, epoch: pool.requests.epoch(of: Self.a)) { cancelled.add() }
        await pool.update(servers: [Self.a])
        #expect(cancelled.value == 1)
        #expect(pool.requests.count(on: Self.a) == 1)
        pool.requests.unregister(onB)
    }

    @Test func aFailedHealthCheckMovesThePickAndCancelsItsRequests() async throws {
        let pool = ServerPool(server: Self.a, directory: nil, logger: LogRecorder().logger)
        await pool.update(servers: [Self.a, Self.b, Self.c])
        await pool.record([Self.a: true, Self.b: false, Self.c: true])
        #expect(await pool.current == Self.a)
        let cancelled = Counter()
        let (server, epoch) = await pool.pick()
        _ = pool.requests.register(server: server, epoch: epoch) { cancelled.add() }

        await pool.record([Self.a: false, Self.b: false, Self.c: true])
        #expect(cancelled.value == 1)
        #expect(await pool.current == Self.c)  // B is known to be down
        #expect(await pool.health(of: Self.a) == .unhealthy)
        // A request that picked A before it was given up cannot register any more.
        #expect(pool.requests.register(server: Self.a, epoch: epoch) { cancelled.add() } == nil)

        // Failing again is not a new transition: nothing more to cancel.
        _ = pool.requests.register(server: Self.a, epoch: pool.requests.epoch(of: Self.a)) { cancelled.add() }
        await pool.record([Self.a: false, Self.b: false, Self.c: false])
        #expect(cancelled.value == 1)
        // ...until another server answers: then nothing stays on a dead one.
        await pool.record([Self.a: false, Self.b: true, Self.c: false])
        #expect(cancelled.value == 2)
        #expect(await pool.current == Self.b)
    }

    @Test func onlyTheCurrentPickMovesOnARequestFailure() async throws {
        let pool = ServerPool(server: Self.a, directory: nil, logger: LogRecorder().logger)
        await pool.update(servers: [Self.a, Self.b, Self.c])
        await pool.reportFailure(Self.b, reason: "refused")
        #expect(await pool.current == Self.a)
        await pool.reportFailure(Self.a, reason: "refused")
        #expect(await pool.current == Self.b)
        // Two requests failing on A at once move the pool once.
        await pool.reportFailure(Self.a, reason: "refused")
        #expect(await pool.current == Self.b)
        // A single server stays the pick whatever happens.
        let single = ServerPool(server: Self.a, directory: nil, logger: LogRecorder().logger)
        await single.reportFailure(Self.a, reason: "refused")
        #expect(await single.current == Self.a)
    }

    @Test func theJoinedServerIsALastResortWhenTheClusterDoesNotListIt() async throws {
        let name = "https://api.cluster.example:6443"
        let pool = ServerPool(server: name, directory: nil, logger: LogRecorder().logger)
        await pool.update(servers: [Self.a, Self.b])
        #expect(await pool.servers == [Self.a, Self.b, name])
        #expect(await pool.current == name)  // nothing is known to be better yet
        let cancelled = Counter()
        let (server, epoch) = await pool.pick()
        _ = pool.requests.register(server: server, epoch: epoch) { cancelled.add() }
        await pool.record([Self.a: false, Self.b: false, name: true])
        #expect(await pool.current == name)
        await pool.record([Self.a: false, Self.b: true, name: true])
        #expect(await pool.current == Self.b)
        #expect(cancelled.value == 1)  // k3s: the default keeps no clients once a listed server answers
    }

    @Test func healthChecksRunUntilCancelled() async throws {
        let probe = FakeProbe(ready: [Self.b: false])
        let pool = ServerPool(server: Self.a, directory: nil, logger: LogRecorder().logger)
        await pool.update(servers: [Self.a, Self.b])
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await pool.runHealthChecks(probe: probe, interval: .milliseconds(20)) }
            try await waitUntil("three rounds ran") { probe.calls(Self.a) >= 3 }
            #expect(await pool.health(of: Self.a) == .healthy)
            #expect(await pool.health(of: Self.b) == .unhealthy)
            #expect(probe.timeouts == [ServerPool.checkTimeout])
            group.cancelAll()
        }
    }

    @Test func endpointsNameServersByTheirHTTPSPort() throws {
        let json = #"""
        {"metadata":{"name":"kubernetes","namespace":"default"},
         "subsets":[
           {"addresses":[{"ip":"192.168.77.10"},{"ip":"192.168.77.11"}],"notReadyAddresses":[{"ip":"192.168.77.12"}],
            "ports":[{"name":"metrics","port":9100},{"name":"https","port":6443,"protocol":"TCP"}]},
           {"addresses":[{"ip":"fd00::5"}],"ports":[{"port":7443}]},
           {"addresses":[{"ip":"192.168.77.13"}],"ports":[{"name":"a","port":1},{"name":"b","port":2}]}
         ]}
        """#
        let endpoints = try JSONDecoder().decode(KubernetesEndpoints.self, from: Data(json.utf8))
        #expect(endpoints.serverAddresses == ["https://192.168.77.10:6443", "https://192.168.77.11:6443", "https://[fd00::5]:7443"])
    }
}

/// A probe whose answers the test sets.
final class FakeProbe: ServerProbe {
    private struct State {
        var ready: [String: Bool]
        var calls: [String: Int] = [:]
        var timeouts: Set<Duration> = []
    }

    private let state: Mutex<State>

    init(ready: [String: Bool] = [:]) {
        state = Mutex(State(ready: ready))
    }

    func isReady(_ server: String, timeout: Duration) async -> Bool {
        state.withLock { state in
            state.calls[server, default: 0] += 1
            state.timeouts.insert(timeout)
            return state.ready[server] ?? true
        }
    }

    func calls(_ server: String) -> Int { state.withLock { $0.calls[server] ?? 0 } }
    var timeouts: Set<Duration> { state.withLock { $0.timeouts } }
}

/// Counts calls from any thread.
final class Counter: Sendable {
    private let count = Mutex(0)

    func add() { count.withLock { $0 += 1 } }
    var value: Int { count.withLock { $0 } }
}
