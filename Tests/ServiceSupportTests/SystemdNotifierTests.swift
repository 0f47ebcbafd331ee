import Foundation
import Glibc
import Testing
@testable import ServiceSupport

/// sd_notify against a real AF_UNIX datagram socket, as systemd's manager listens on
/// (a path socket and an abstract one).
struct SystemdNotifierTests {
    /// A bound datagram socket; `receive` returns the next datagram.
    final class Listener {
        let fd: Int32

        init(address: String) throws {
            fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            var addr = sockaddr_un()
            addr.sun_family = sa_family_t(AF_UNIX)
            var bytes = Array(address.utf8)
            if bytes.first == UInt8(ascii: "@") { bytes[0] = 0 }
            withUnsafeMutableBytes(of: &addr.sun_path) { $0.copyBytes(from: bytes) }
            let length = socklen_t(MemoryLayout<sa_family_t>.size + bytes.count)
            let rc = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
            guard fd >= 0, rc == 0 else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
            var timeout = timeval(tv_sec: 5, tv_usec: 0)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        }

        deinit { close(fd) }

        func receive() -> String? {
            var buffer = [UInt8](repeating: 0, count: 4096)
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            return count < 0 ? nil : String(decoding: buffer.prefix(count), as: UTF8.self)
        }
    }

    @Test func sendsTheStateToAPathSocket() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path + "/notify"
        let listener = try Listener(address: path)
        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": path])
        #expect(try notifier.notify("READY=1\nSTATUS=serving"))
        #expect(listener.receive() == "READY=1\nSTATUS=serving")
        #expect(try notifier.notify("STOPPING=1"))
        #expect(listener.receive() == "STOPPING=1")
    }

    @Test func sendsTheStateToAnAbstractSocket() throws {
        let name = "@swiftlet-test-notify-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let listener = try Listener(address: name)
        #expect(try SystemdNotifier(environment: ["NOTIFY_SOCKET": name]).notify("READY=1"))
        #expect(listener.receive() == "READY=1")
    }

    @Test func withoutSystemdNothingIsSent() throws {
        #expect(try SystemdNotifier(environment: [:]).notify("READY=1") == false)
        #expect(try SystemdNotifier(environment: ["NOTIFY_SOCKET": ""]).notify("READY=1") == false)
        // Neither a path nor an abstract name: not a socket systemd would give.
        #expect(try SystemdNotifier(environment: ["NOTIFY_SOCKET": "relative"]).notify("READY=1") == false)
    }

    @Test func aSocketNobodyListensOnIsAnErrorNamingIt() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path + "/gone"
        do {
            try SystemdNotifier(environment: ["NOTIFY_SOCKET": path]).notify("READY=1")
            Issue.record("sent to a missing socket")
        } catch {
            #expect(error.description == "sd_notify to \(path): sendto: No such file or directory")
        }
        let long = "/" + String(repeating: "x", count: 200)
        #expect(throws: SystemdNotifyError.self) { try SystemdNotifier(environment: ["NOTIFY_SOCKET": long]).notify("READY=1") }
    }
}
