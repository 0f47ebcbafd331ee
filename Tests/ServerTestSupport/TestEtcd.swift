import APITestSupport
import EtcdStorage
import Foundation
import Storage
import Glibc
import TestSupport

/// Real etcd members (Debian's etcd-server, 3.4) on 127.0.0.1 for one test: own ports, own
/// data directories, stopped and removed by `withTestEtcd` whether the test passes or not.
package final class TestEtcd: @unchecked Sendable {
    package static let binary = "/usr/bin/etcd"
    package static var isInstalled: Bool { FileManager.default.isExecutableFile(atPath: binary) }

    package struct Member {
        package let name: String
        package let clientPort: UInt16
        let peerPort: UInt16
        var pid: pid_t
        package var endpoint: EtcdEndpoint { try! EtcdEndpoint("http://127.0.0.1:\(clientPort)") }
    }

    package let directory: String
    package private(set) var members: [Member] = []

    private init(directory: String) {
        self.directory = directory
    }

    package var endpoints: [EtcdEndpoint] { members.map(\.endpoint) }

    /// A client of every member.
    package func client() throws -> EtcdClient {
        try EtcdClient(settings: EtcdClientSettings(endpoints: endpoints))
    }

    /// Starts `count` members forming one cluster and waits until it answers.
    package static func start(members count: Int, in directory: String) async throws -> TestEtcd {
        let etcd = TestEtcd(directory: directory)
        var ports: [(UInt16, UInt16)] = []
        for _ in 0..<count { ports.append((try LoopbackSocket.freePort(), try LoopbackSocket.freePort())) }
        let cluster = ports.enumerated().map { "e\($0.offset)=http://127.0.0.1:\($0.element.1)" }.joined(separator: ",")
        let token = "swiftlet-test-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        for (index, (client, peer)) in ports.enumerated() {
            let name = "e\(index)"
            let pid = try TestProcess.spawn([
                binary, "--name", name, "--data-dir", "\(directory)/\(name)",
                "--listen-client-urls", "http://127.0.0.1:\(client)", "--advertise-client-urls", "http://127.0.0.1:\(client)",
                "--listen-peer-urls", "http://127.0.0.1:\(peer)", "--initial-advertise-peer-urls", "http://127.0.0.1:\(peer)",
                "--initial-cluster", cluster, "--initial-cluster-token", token, "--initial-cluster-state", "new",
                "--logger", "zap", "--log-outputs", "stderr", "--log-level", "warn",
            ], log: "\(directory)/\(name).log")
            etcd.members.append(Member(name: name, clientPort: client, peerPort: peer, pid: pid))
        }
        do {
            try await etcd.waitUntilServing()
        } catch {
            await etcd.stopAll()
            throw error
        }
        return etcd
    }

    /// Waits until a linearizable read goes through (a leader is elected), at most 30 s.
    package func waitUntilServing() async throws {
        let client = try client()
        let ready = await TestProcess.waitFor(30) {
            _ = try await client.currentRevision()
            return true
        }
        await client.close()
        guard ready else {
            let logs = members.map { (try? String(contentsOfFile: "\(directory)/\($0.name).log", encoding: .utf8)) ?? "" }
            throw FixtureError(message: "etcd did not start serving within 30 s: \(logs.joined(separator: "\n").suffix(2000))")
        }
    }

    /// Kills member `index` at once (SIGKILL: no goodbye to clients or peers).
    package func kill(member index: Int) async {
        await TestProcess.stopAsync(members[index].pid, signal: SIGKILL)
        members[index].pid = 0
    }

    package func stopAll() async {
        for member in members where member.pid > 0 {
            await TestProcess.stopAsync(member.pid, signal: SIGKILL)
        }
        members = members.map { var member = $0; member.pid = 0; return member }
    }
}

/// Runs `body` with a fresh etcd cluster of `members`, removed afterwards.
package func withTestEtcd<Result>(members: Int = 1, _ body: (TestEtcd) async throws -> Result) async throws -> Result {
    let scratch = try TemporaryDirectory()
    let etcd = try await TestEtcd.start(members: members, in: scratch.path)
    do {
        let result = try await body(etcd)
        await etcd.stopAll()
        return result
    } catch {
        await etcd.stopAll()
        throw error
    }
}

extension EtcdStorage: TestStorage {}

/// The stores a test server can run on.
package enum TestBackend: String, CaseIterable, Sendable {
    case sqlite, etcd
}

/// Runs `body` with a fresh store of `backend` (SQLite in `directory`, or a one-member etcd of
/// its own), closed afterwards even when `body` throws.
package func withTestStorage<T>(_ backend: TestBackend, directory: String, historyCapacity: Int = SQLiteStorage.defaultHistoryCapacity,
                                _ body: (any TestStorage) async throws -> T) async throws -> T {
    switch backend {
    case .sqlite:
        return try await closing(try SQLiteStorage(path: directory + "/state.db", historyCapacity: historyCapacity), body)
    case .etcd:
        return try await withTestEtcd { etcd in
            try await closing(try await EtcdStorage(client: try etcd.client(), historyCapacity: historyCapacity,
                                                    compactionInterval: nil), body)
        }
    }
}

private func closing<T>(_ storage: any TestStorage, _ body: (any TestStorage) async throws -> T) async throws -> T {
    do {
        let result = try await body(storage)
        await storage.close()
        return result
    } catch {
        await storage.close()
        throw error
    }
}
