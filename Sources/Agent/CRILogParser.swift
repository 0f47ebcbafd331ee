import Foundation
import Glibc

/// One line of a container's log: the CRI records of a line (`P` parts and their final `F`)
/// joined, with the time of its first record.
public struct CRILogLine: Sendable, Equatable {
    /// The record's time as written (`2026-11-22T10:00:00.123456789Z`).
    public var timestamp: String
    /// The same time in nanoseconds since 1970, nil when the text is not RFC 3339.
    public var nanoseconds: Int64?
    /// `stdout` or `stderr`.
    public var stream: String
    /// The message, ending in a newline unless the line is still partial.
    public var text: String

    /// kubelet prints timestamps in Go's RFC3339Nano form, which drops trailing zeros of the
    /// fraction; CRI files hold the fixed nine-digit form.
    public var goTimestamp: String {
        guard let dot = timestamp.firstIndex(of: ".") else { return timestamp }
        let digitsEnd = timestamp[dot...].dropFirst().firstIndex { !$0.isNumber } ?? timestamp.endIndex
        var fraction = timestamp[timestamp.index(after: dot)..<digitsEnd]
        while fraction.last == "0" { fraction = fraction.dropLast() }
        let zone = timestamp[digitsEnd...]
        return String(timestamp[..<dot]) + (fraction.isEmpty ? "" : "." + fraction) + zone
    }
}

/// Turns CRI log bytes (`<RFC 3339 nano time> <stream> <P|F> <message>\n`, the format of
/// kubelet's and our monitor's log files) into lines, fed in arbitrary chunks.
public struct CRILogParser: Sendable {
    private var buffer: [UInt8] = []
    private var partial: CRILogLine?

    public init() {}

    /// The lines completed by `bytes`; an unfinished record waits for the next call.
    public mutating func feed(_ bytes: some Sequence<UInt8>) -> [CRILogLine] {
        buffer.append(contentsOf: bytes)
        var lines: [CRILogLine] = []
        var start = 0
        while let newline = buffer[start...].firstIndex(of: UInt8(ascii: "\n")) {
            if let line = record(buffer[start..<newline]) { lines.append(line) }
            start = newline + 1
        }
        buffer.removeFirst(start)
        return lines
    }

    /// A line whose `F` record has not been written yet (what kubelet would have printed of
    /// it so far): the end of a log read without `follow`.
    public mutating func flush() -> CRILogLine? {
        defer { partial = nil }
        return partial
    }

    private mutating func record(_ bytes: ArraySlice<UInt8>) -> CRILogLine? {
        let text = String(decoding: bytes, as: UTF8.self)
        let fields = text.split(separator: " ", maxSplits: 3, omittingEmptySubsequences: false)
        guard fields.count >= 3 else { return nil }
        let message = fields.count == 4 ? String(fields[3]) : ""
        var line = partial ?? CRILogLine(timestamp: String(fields[0]), nanoseconds: Self.nanoseconds(fields[0]),
                                         stream: String(fields[1]), text: "")
        line.text += message
        if fields[2] == "P" {
            partial = line
            return nil
        }
        partial = nil
        line.text += "\n"
        return line
    }

    /// Parses `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)` to nanoseconds since 1970.
    public static func nanoseconds(_ text: some StringProtocol) -> Int64? {
        let bytes = Array(text.utf8)
        var index = 0
        func number(_ width: Int) -> Int? {
            guard index + width <= bytes.count else { return nil }
            var value = 0
            for byte in bytes[index..<(index + width)] {
                guard byte >= 48, byte <= 57 else { return nil }
                value = value * 10 + Int(byte - 48)
            }
            index += width
            return value
        }
        func skip(_ character: Character) -> Bool {
            guard index < bytes.count, bytes[index] == character.asciiValue else { return false }
            index += 1
            return true
        }
        guard let year = number(4), skip("-"), let month = number(2), skip("-"), let day = number(2), skip("T"),
              let hour = number(2), skip(":"), let minute = number(2), skip(":"), let second = number(2) else { return nil }
        var nanos: Int64 = 0
        if skip(".") {
            var digits = 0
            while index < bytes.count, bytes[index] >= 48, bytes[index] <= 57 {
                if digits < 9 { nanos = nanos * 10 + Int64(bytes[index] - 48) }
                digits += 1
                index += 1
            }
            guard digits > 0 else { return nil }
            for _ in digits..<max(digits, 9) { nanos *= 10 }
        }
        var offset = 0
        if skip("Z") {
            offset = 0
        } else if index < bytes.count, bytes[index] == 43 || bytes[index] == 45 {
            let sign = bytes[index] == 45 ? -1 : 1
            index += 1
            guard let hours = number(2), skip(":"), let minutes = number(2) else { return nil }
            offset = sign * (hours * 3600 + minutes * 60)
        } else {
            return nil
        }
        guard index == bytes.count else { return nil }
        var parts = tm()
        parts.tm_year = Int32(year - 1900)
        parts.tm_mon = Int32(month - 1)
        parts.tm_mday = Int32(day)
        parts.tm_hour = Int32(hour)
        parts.tm_min = Int32(minute)
        parts.tm_sec = Int32(second)
        let seconds = Int64(timegm(&parts)) - Int64(offset)
        return seconds * 1_000_000_000 + nanos
    }
}
