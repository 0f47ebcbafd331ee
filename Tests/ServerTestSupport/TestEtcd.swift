import APITestSupport
import EtcdStorage
import Foundation
import Storage
import Synchronization
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
        package let tls: Bool
        package var endpoint: EtcdEndpoint { try! EtcdEndpoint("\(tls ? "https" : "http")://127.0.0.1:\(clientPort)") }
    }

    package let directory: String
    package private(set) var members: [Member] = []

    private init(directory: String) {
        self.directory = directory
    }

    package var endpoints: [EtcdEndpoint] { members.map(\.endpoint) }

    /// Files of a members' CA, their serving certificate and a client certificate (PEM), for
    /// members that require client certificates (`--client-cert-auth`).
    package struct TLSFiles: Sendable {
        package let ca, serverCertificate, serverKey, clientCertificate, clientKey: String

        /// Makes them with openssl in `directory`: a CA, a serving certificate for 127.0.0.1, a client one.
        package static func make(in directory: String) async throws -> TLSFiles {
            let files = TLSFiles(ca: directory + "/ca.crt", serverCertificate: directory + "/server.crt", serverKey: directory + "/server.key",
                                 clientCertificate: directory + "/client.crt", clientKey: directory + "/client.key")
            let commands: [[String]] = [
                ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
                 "-subj", "/CN=test-etcd-ca", "-keyout", directory + "/ca.key", "-out", files.ca],
                ["openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-subj", "/CN=etcd",
                 "-keyout", files.serverKey, "-out", directory + "/server.csr"],
                ["openssl", "x509", "-req", "-in", directory + "/server.csr", "-CA", files.ca, "-CAkey", directory + "/ca.key",
                 "-CAcreateserial", "-days", "2", "-extfile", directory + "/server.ext", "-out", files.serverCertificate],
                ["openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-subj", "/CN=swiftlet",
                 "-keyout", files.clientKey, "-out", directory + "/client.csr"],
                ["openssl", "x509", "-req", "-in", directory + "/client.csr", "-CA", files.ca, "-CAkey", directory + "/ca.key",
                 "-CAcreateserial", "-days", "2", "-extfile", directory + "/client.ext", "-out", files.clientCertificate],
            ]
            try "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n".write(toFile: directory + "/server.ext", atomically: true, encoding: .utf8)
            try "extendedKeyUsage=clientAuth\n".write(toFile: directory + "/client.ext", atomically: true, encoding: .utf8)
            for command in commands {
                let result = await TestProcess.runCapturing(["/usr/bin/env"] + command)
                guard result.status == 0 else { throw FixtureError(message: "\(command.joined(separator: " ")): \(result.stderr)") }
            }
            return files
        }
    }

    /// The TLS files when the members serve TLS.
    package private(set) var tls: TLSFiles?

    /// A client of every member (with the client certificate when the members want one).
    package func client() throws -> EtcdClient {
        try EtcdClient(settings: EtcdClientSettings(endpoints: endpoints, caFile: tls?.ca,
                                                    certFile: tls?.clientCertificate, keyFile: tls?.clientKey))
    }

    /// Starts `count` members forming one cluster and waits until it answers.
    /// Ports are picked free and released before etcd binds them, so another process (an etcd
    /// peer's outgoing connection, another test) can take one first: then the cluster starts
    /// again on other ports, up to three times.
    package static func start(members count: Int, in directory: String, tls: TLSFiles? = nil) async throws -> TestEtcd {
        var attempt = 1
        while true {
            let etcd = try await startOnce(members: count, in: "\(directory)/attempt-\(attempt)", tls: tls)
            do {
                try await etcd.waitUntilServing()
                return etcd
            } catch {
                await etcd.stopAll()
                guard attempt < 3, etcd.logs.contains("address already in use") else { throw error }
                attempt += 1
            }
        }
    }

    private static func startOnce(members count: Int, in directory: String, tls: TLSFiles?) async throws -> TestEtcd {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let etcd = TestEtcd(directory: directory)
        etcd.tls = tls
        let scheme = tls == nil ? "http" : "https"
        let tlsFlags = tls.map {
            ["--cert-file", $0.serverCertificate, "--key-file", $0.serverKey, "--trusted-ca-file", $0.ca, "--client-cert-auth"]
        } ?? []
        var ports: [(UInt16, UInt16)] = []
        for _ in 0..<count { ports.append((try reservePort(), try reservePort())) }
        let cluster = ports.enumerated().map { "e\($0.offset)=http://127.0.0.1:\($0.element.1)" }.joined(separator: ",")
        let token = "swiftlet-test-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        for (index, (client, peer)) in ports.enumerated() {
            let name = "e\(index)"
            let pid = try TestProcess.spawn([
                binary, "--name", name, "--data-dir", "\(directory)/\(name)",
                "--listen-client-urls", "\(scheme)://127.0.0.1:\(client)", "--advertise-client-urls", "\(scheme)://127.0.0.1:\(client)",
                "--listen-peer-urls", "http://127.0.0.1:\(peer)", "--initial-advertise-peer-urls", "http://127.0.0.1:\(peer)",
                "--initial-cluster", cluster, "--initial-cluster-token", token, "--initial-cluster-state", "new",
                "--logger", "zap", "--log-outputs", "stderr", "--log-level", "warn",
                // Tests ping more often than etcd's default minimum (5 s) allows.
                "--grpc-keepalive-min-time", "100ms",
            ] + tlsFlags, log: "\(directory)/\(name).log")
            etcd.members.append(Member(name: name, clientPort: client, peerPort: peer, pid: pid, tls: tls != nil))
        }
        return etcd
    }

    /// Ports handed to members in this process. A free port is released before etcd binds it,
    /// and two clusters started at once once got the same one: the second cluster's client then
    /// talked to the first one's member, and each test saw the other's writes. Never twice, then.
    private static let reserved = Mutex<Set<UInt16>>([])

    private static func reservePort() throws -> UInt16 {
        while true {
            let port = try LoopbackSocket.freePort()
            if reserved.withLock({ $0.insert(port).inserted }) { return port }
        }
    }

    /// What the members logged.
    var logs: String {
        members.map { (try? String(contentsOfFile: "\(directory)/\($0.name).log", encoding: .utf8)) ?? "" }.joined(separator: "\n")
    }

    /// Waits until a linearizable read goes through (a leader is elected), at most 30 s.
    package func waitUntilServing() async throws {
        let client = try client()
        var exited = false
        let ready = await TestProcess.waitFor(30) {
            // A member that could not start (a port taken) exits at once: no use waiting.
            for index in members.indices where members[index].pid > 0 && TestProcess.hasExited(members[index].pid) {
                members[index].pid = 0
                exited = true
            }
            if exited { return true }
            _ = try await client.currentRevision()
            return true
        }
        await client.close()
        guard ready, !exited else {
            throw FixtureError(message: "etcd did not start serving (within 30 s, or a member exited): \(logs.suffix(2000))")
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
package func withTestEtcd<Result>(members: Int = 1, tls: Bool = false, _ body: (TestEtcd) async throws -> Result) async throws -> Result {
    let scratch = try TemporaryDirectory()
    let files = tls ? try await TestEtcd.TLSFiles.make(in: scratch.path) : nil
    let etcd = try await TestEtcd.start(members: members, in: scratch.path, tls: files)
    return try await withCleanup({ try await body(etcd) }, cleanup: { await etcd.stopAll() })
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
        return try await closing(try SQLiteStorage(path: directory + "/state.db", historyCapacity: historyCapacity)) { try await body($0) }
    case .etcd:
        return try await withTestEtcd { etcd in
            try await closing(try await EtcdStorage(client: try etcd.client(), historyCapacity: historyCapacity,
                                                    compactionInterval: nil)) { try await body($0) }
        }
    }
}

/// Runs `body` with `storage`, then closes it, whether `body` throws or not.
package func closing<Store: TestStorage, T>(_ storage: Store, _ body: (Store) async throws -> T) async throws -> T {
    try await withCleanup({ try await body(storage) }, cleanup: { await storage.close() })
}
