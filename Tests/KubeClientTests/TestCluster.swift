@testable import APIRegistry
@testable import APIServer
import Foundation
import KubeClient
import Logging
import Storage
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A scratch directory removed when the value goes away.
final class ScratchDirectory: Sendable {
    let path: String

    init() throws {
        path = NSTemporaryDirectory() + "swiftlet-client-test-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit {
        // The store may still be writing its -wal file while it closes: retry briefly.
        for _ in 0..<50 {
            try? FileManager.default.removeItem(atPath: path)
            if !FileManager.default.fileExists(atPath: path) { return }
            usleep(20_000)
        }
    }
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// A running HTTPS API server with the cluster's CA and credentials, as `swiftlet server` runs it.
struct TestCluster: Sendable {
    let port: Int
    let service: APIService
    let certificates: ServerCertificates
    let credentials: ClusterCredentials
    let directory: String

    var server: String { "https://127.0.0.1:\(port)" }
    var joinToken: String { credentials.joinToken(caHash: certificates.caHash) }

    /// A client authenticated as `system:admin`. Shut it down when done.
    func adminClient() throws -> APIClient {
        try APIClient(server: server, caPEM: certificates.caCertificatePEM, bearerToken: credentials.adminToken)
    }
}

/// Runs an HTTPS server on 127.0.0.1 (`port` 0: any free port) for the duration of `body`,
/// then stops it; its files go with `scratch` (or a directory of its own).
func withTestCluster<T: Sendable>(port: Int = 0, historyCapacity: Int = SQLiteStorage.defaultHistoryCapacity,
                                  scratch: ScratchDirectory? = nil,
                                  _ body: @Sendable (TestCluster) async throws -> T) async throws -> T {
    let directory = try scratch ?? ScratchDirectory()
    let storage = try SQLiteStorage(path: directory.path + "/state.db", historyCapacity: historyCapacity)
    let service = try APIService(storage: storage)
    try await service.bootstrap()
    let certificates = try await ServerCertificates.loadOrCreate(directory: directory.path + "/tls", dnsNames: [], ipAddresses: [])
    let credentials = try ClusterCredentials.loadOrCreate(directory: directory.path + "/cred")
    var logger = Logger(label: "test-server")
    logger.logLevel = .critical
    let server = APIServer(service: service, configuration: APIServerConfiguration(
        host: "127.0.0.1", port: port, gitVersion: "v1.32.0+swiftlet.1",
        tls: TLSMaterial(certificatePEM: certificates.servingCertificatePEM, keyPEM: certificates.servingKeyPEM),
        authenticator: Authenticator(credentials: credentials), caCertificatePEM: certificates.caCertificatePEM), logger: logger)
    let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
    let result: Result<T, any Error> = await withTaskGroup(of: Result<T, any Error>?.self) { group in
        group.addTask {
            do {
                try await server.run { port in continuation.yield(port) }
            } catch {
                continuation.finish()
                return .failure(error)
            }
            return nil
        }
        var iterator = ports.makeAsyncIterator()
        guard let bound = await iterator.next() else {
            group.cancelAll()
            let failure = await group.next()
            return (failure ?? nil) ?? .failure(TestFailure("the test server did not start"))
        }
        let cluster = TestCluster(port: bound, service: service, certificates: certificates, credentials: credentials,
                                  directory: directory.path)
        let outcome: Result<T, any Error>
        do {
            outcome = .success(try await body(cluster))
        } catch {
            outcome = .failure(error)
        }
        group.cancelAll()
        await storage.close()
        return outcome
    }
    return try result.get()
}

/// Runs `body` with an admin client of `cluster`, shutting the client down afterwards.
func withAdminClient<T: Sendable>(_ cluster: TestCluster, _ body: (APIClient) async throws -> T) async throws -> T {
    try await ClusterJoin.withShutdown(try cluster.adminClient(), body)
}

/// A TCP port nothing listens on right now (bound to port 0, then released).
func freePort() throws -> Int {
    let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard socket >= 0 else { throw TestFailure("socket: \(errno)") }
    defer { close(socket) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    let bound = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard bound == 0 else { throw TestFailure("bind: \(errno)") }
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(socket, $0, &length) }
    }
    return Int(UInt16(bigEndian: address.sin_port))
}

/// Keeps the messages logged through it, for tests that check what was logged.
final class LogRecorder: Sendable {
    private let messages = Mutex<[String]>([])

    var recorded: [String] { messages.withLock { $0 } }

    var logger: Logger {
        Logger(label: "test") { _ in Handler(recorder: self) }
    }

    struct Handler: LogHandler {
        let recorder: LogRecorder
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            recorder.messages.withLock { $0.append("\(event.level): \(event.message)") }
        }
    }
}

enum ServerCertificatesForTests {
    /// The CA of another cluster (made in `directory`).
    static func otherCA(directory: String) async throws -> String {
        try await ServerCertificates.loadOrCreate(directory: directory + "/tls", dnsNames: [], ipAddresses: []).caCertificatePEM
    }
}
