import Foundation
import Glibc
@testable import Runtime

/// A blocking client of a monitor's attach socket for tests: frames out, frames in, with
/// deadlines (never a wait without end).
final class AttachClient {
    let fd: Int32
    private var decoder = AttachFrameDecoder()
    private(set) var closedByMonitor = false

    init(_ fd: Int32) { self.fd = fd }

    deinit { close(fd) }

    func send(_ frame: AttachFrame) throws {
        try sendRaw(frame.encoded)
    }

    func sendRaw(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw SystemError("send", "attach socket") }
            offset += n
        }
    }

    func input(_ text: String) throws {
        for frame in AttachFrame.stdin(Array(text.utf8)) { try send(frame) }
    }

    /// The next output frame, or nil at EOF or when `timeout` passes.
    func next(timeout: Double = 10) throws -> AttachFrame? {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            if let frame = try decoder.next() { return frame }
            if closedByMonitor { return nil }
            let left = deadline.timeIntervalSinceNow
            guard left > 0 else { return nil }
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let rc = poll(&p, 1, Int32(min(left, 1) * 1000))
            if rc <= 0 { continue }
            var buffer = [UInt8](repeating: 0, count: 65536)
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { closedByMonitor = true; continue }
            decoder.append(buffer[0..<n])
        }
    }

    /// Output (stdout and stderr, in order) until `text` appears in it or `timeout` passes.
    func read(until text: String, timeout: Double = 10) throws -> String {
        let deadline = Date().addingTimeInterval(timeout)
        var seen: [UInt8] = []
        let needle = Array(text.utf8)
        var found = false
        while !found, deadline.timeIntervalSinceNow > 0, let frame = try next(timeout: deadline.timeIntervalSinceNow) {
            // Only the new bytes (and the needle's length before them) can complete a match.
            let from = max(0, seen.count - needle.count)
            seen += frame.payload
            found = Self.contains(seen[from...], needle)
        }
        return String(decoding: seen, as: UTF8.self)
    }

    static func contains(_ haystack: ArraySlice<UInt8>, _ needle: [UInt8]) -> Bool {
        guard !needle.isEmpty, haystack.count >= needle.count else { return needle.isEmpty }
        var i = haystack.startIndex
        while i <= haystack.endIndex - needle.count {
            if haystack[i] == needle[0] && haystack[i..<(i + needle.count)].elementsEqual(needle) { return true }
            i += 1
        }
        return false
    }

    /// Everything until the monitor closes the connection (or `timeout`): the output and
    /// whether the end came.
    func readToEnd(timeout: Double = 15) throws -> (output: String, ended: Bool) {
        let deadline = Date().addingTimeInterval(timeout)
        var seen: [UInt8] = []
        while deadline.timeIntervalSinceNow > 0, let frame = try next(timeout: deadline.timeIntervalSinceNow) {
            seen += frame.payload
        }
        return (String(decoding: seen, as: UTF8.self), closedByMonitor)
    }
}
