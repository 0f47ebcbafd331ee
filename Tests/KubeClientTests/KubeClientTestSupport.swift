import APIServer
import APITestSupport
import Foundation
import KubeClient
import ServerTestSupport
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

extension TestCluster {
    /// A client authenticated as `system:admin`. Shut it down when done.
    func adminClient() throws -> APIClient {
        try APIClient(server: server, caPEM: certificates.caCertificatePEM, bearerToken: credentials.adminToken)
    }
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

enum ServerCertificatesForTests {
    /// The CA of another cluster (made in `directory`).
    static func otherCA(directory: String) async throws -> String {
        try await ServerCertificates.loadOrCreate(directory: directory + "/tls", dnsNames: [], ipAddresses: []).caCertificatePEM
    }
}
