import Foundation
import Glibc
import Testing
import TestSupport
@testable import ServiceSupport

/// The probe against real HTTP servers on loopback: busybox httpd (a real, independent HTTP
/// implementation) and sockets that refuse or answer garbage.
@Suite(.serialized, .ownThreads)
struct HealthzProbeTests {
    static let busybox = "/bin/busybox"

    /// busybox httpd serving `directory` on 127.0.0.1:port in the foreground; killed by PID.
    final class HTTPD {
        let process = Process()

        init(directory: String, port: UInt16) throws {
            process.executableURL = URL(fileURLWithPath: HealthzProbeTests.busybox)
            process.arguments = ["httpd", "-f", "-p", "127.0.0.1:\(port)", "-h", directory]
            try process.run()
        }

        deinit {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    static func freePort() -> UInt16 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer -> Int32 in
                _ = bind(fd, pointer, length)
                return getsockname(fd, pointer, &length)
            }
        }
        return UInt16(bigEndian: address.sin_port)
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: busybox), "needs busybox-static"))
    func readsTheStatusOfARealHTTPServer() async throws {
        let directory = try TemporaryDirectory()
        try "ok".write(toFile: directory.path + "/healthz", atomically: true, encoding: .utf8)
        let port = Self.freePort()
        let server = try HTTPD(directory: directory.path, port: port)
        var status: Int?
        for _ in 0..<50 {
            status = HealthzProbe.status(address: "127.0.0.1", port: port)
            if status != nil { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(status == 200)
        // An unspecified bind address is probed on loopback.
        #expect(HealthzProbe.status(address: "0.0.0.0", port: port) == 200)
        #expect(HealthzProbe.status(address: "127.0.0.1", port: port, path: "/missing") == 404)
        withExtendedLifetime(server) {}
    }

    @Test func nothingListeningOrNoAddressIsNil() {
        #expect(HealthzProbe.status(address: "127.0.0.1", port: Self.freePort()) == nil)
        #expect(HealthzProbe.status(address: "not-an-address", port: 80) == nil)
    }

    @Test func anAnswerThatIsNotHTTPIsNil() async throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer -> Int32 in
                _ = bind(fd, pointer, length)
                return getsockname(fd, pointer, &length)
            }
        }
        listen(fd, 1)
        let port = UInt16(bigEndian: address.sin_port)
        let server = Thread {
            let client = accept(fd, nil, nil)
            let garbage = Array("SSH-2.0-OpenSSH\r\n".utf8)
            _ = garbage.withUnsafeBytes { send(client, $0.baseAddress, $0.count, 0) }
            close(client)
        }
        server.start()
        #expect(HealthzProbe.status(address: "127.0.0.1", port: port) == nil)
    }
}
