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

    @Test(.requires(FileManager.default.isExecutableFile(atPath: busybox), "needs busybox-static"))
    func readsTheStatusOfARealHTTPServer() async throws {
        let directory = try TemporaryDirectory()
        try "ok".write(toFile: directory.path + "/healthz", atomically: true, encoding: .utf8)
        let port = try LoopbackSocket.freePort()
        // busybox httpd in the foreground, ended by its PID.
        let httpd = try TestProcess.spawn([Self.busybox, "httpd", "-f", "-p", "127.0.0.1:\(port)", "-h", directory.path],
                                          log: directory.path + "/httpd.log")
        defer {
            TestProcess.stop(httpd, signal: SIGKILL)
            withExtendedLifetime(directory) {}
        }
        var status: Int?
        for _ in 0..<300 { // up to 30 s for httpd to start on a loaded machine
            status = HealthzProbe.status(address: "127.0.0.1", port: port)
            if status != nil { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(status == 200)
        // An unspecified bind address is probed on loopback.
        #expect(HealthzProbe.status(address: "0.0.0.0", port: port) == 200)
        #expect(HealthzProbe.status(address: "127.0.0.1", port: port, path: "/missing") == 404)
    }

    @Test func nothingListeningOrNoAddressIsNil() throws {
        #expect(HealthzProbe.status(address: "127.0.0.1", port: try LoopbackSocket.freePort()) == nil)
        #expect(HealthzProbe.status(address: "not-an-address", port: 80) == nil)
    }

    @Test func anAnswerThatIsNotHTTPIsNil() async throws {
        let (fd, port) = try LoopbackSocket.bind(listen: true)
        defer { close(fd) }
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
