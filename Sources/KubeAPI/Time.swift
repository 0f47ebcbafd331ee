import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Kubernetes' `metav1.Time`: an instant coded as an RFC 3339 string with whole seconds in
/// UTC ("2026-11-22T10:00:00Z").
///
/// Decoding also accepts fractional seconds and numeric offsets ("...T10:00:00.5+02:00").
/// The stored date is truncated to whole seconds, as it would be after a trip through the
/// API, so a value survives encode/decode unchanged.
public struct Time: Codable, Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The instant, in whole seconds.
    public let date: Date

    /// The instants RFC 3339 can write: years 0001 to 9999. A date beyond them (a deletion
    /// deadline of now plus a grace period of Int64.max seconds) is clamped, so that printing it
    /// cannot trap converting to `time_t`.
    static let earliest: TimeInterval = -62_135_596_800
    static let latest: TimeInterval = 253_402_300_799

    public init(_ date: Date) {
        let seconds = date.timeIntervalSince1970
        let clamped = seconds.isNaN ? 0 : min(max(seconds.rounded(.down), Self.earliest), Self.latest)
        self.date = Date(timeIntervalSince1970: clamped)
    }

    /// The current time.
    public static func now() -> Time {
        Time(Date())
    }

    /// Parses an RFC 3339 timestamp; nil when the text is not one.
    public init?(rfc3339 text: String) {
        guard let date = Time.parse(text) else { return nil }
        self.init(date)
    }

    /// The RFC 3339 form, in UTC with whole seconds. Uses gmtime_r, not Calendar: Calendar
    /// loads ICU, which costs milliseconds the first time and microseconds on every call.
    public var description: String {
        var seconds = time_t(date.timeIntervalSince1970)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        return String(format: "%04d-%02d-%02dT%02d:%02d:%02dZ",
                      Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1, Int(parts.tm_mday),
                      Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec))
    }

    public static func < (lhs: Time, rhs: Time) -> Bool {
        lhs.date < rhs.date
    }

    public init(from decoder: Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let date = Time.parse(text) else {
            throw DecodingError.dataCorrupted(.init(
                codingPath: decoder.codingPath,
                debugDescription: "expected an RFC 3339 time such as \"2026-11-22T10:00:00Z\", got \"\(text)\""))
        }
        self.init(date)
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }

    /// Parses `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)` as Go's `time.RFC3339` layout does.
    static func parse(_ text: String) -> Date? {
        let bytes = Array(text.utf8)
        var index = 0
        func number(_ width: Int) -> Int? {
            guard index + width <= bytes.count else { return nil }
            var value = 0
            for byte in bytes[index..<(index + width)] {
                guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
                value = value * 10 + Int(byte - UInt8(ascii: "0"))
            }
            index += width
            return value
        }
        func expect(_ characters: String) -> Bool {
            guard index < bytes.count, characters.utf8.contains(bytes[index]) else { return false }
            index += 1
            return true
        }
        guard let year = number(4), expect("-"), let month = number(2), expect("-"), let day = number(2),
              expect("Tt"), let hour = number(2), expect(":"), let minute = number(2), expect(":"),
              let second = number(2) else { return nil }
        var fraction = 0.0
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            var scale = 0.1
            let start = index
            while index < bytes.count, bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9") {
                fraction += Double(bytes[index] - UInt8(ascii: "0")) * scale
                scale /= 10
                index += 1
            }
            guard index > start else { return nil }
        }
        var offset = 0
        if expect("Zz") {
            offset = 0
        } else if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") {
            let sign = bytes[index] == UInt8(ascii: "-") ? -1 : 1
            index += 1
            guard let hours = number(2), expect(":"), let minutes = number(2), hours < 24, minutes < 60 else { return nil }
            offset = sign * (hours * 3600 + minutes * 60)
        } else {
            return nil
        }
        guard index == bytes.count, (1...12).contains(month), (1...31).contains(day),
              hour < 24, minute < 60, second < 60 else { return nil }
        // timegm, not Calendar (which loads ICU); it normalizes Feb 30 to Mar 2, so a day that
        // does not survive the round trip did not exist.
        var parts = tm()
        parts.tm_year = Int32(year - 1900)
        parts.tm_mon = Int32(month - 1)
        parts.tm_mday = Int32(day)
        parts.tm_hour = Int32(hour)
        parts.tm_min = Int32(minute)
        parts.tm_sec = Int32(second)
        let seconds = timegm(&parts)
        guard parts.tm_mday == Int32(day) else { return nil }
        return Date(timeIntervalSince1970: Double(seconds) + fraction - Double(offset))
    }
}
