import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Kubernetes' `metav1.MicroTime`: an instant with microsecond precision, coded in UTC with
/// exactly six fraction digits (Go layout `2006-01-02T15:04:05.000000Z07:00`), as Lease
/// `renewTime`/`acquireTime` and Event `eventTime` are.
///
/// Decoding accepts any RFC 3339 time (fewer or more fraction digits, numeric offsets); digits
/// beyond the sixth are dropped, as Go's parse-then-format would.
/// See https://github.com/kubernetes/apimachinery/blob/master/pkg/apis/meta/v1/micro_time.go
public struct MicroTime: Codable, Hashable, Comparable, Sendable, CustomStringConvertible {
    /// Microseconds since the Unix epoch: exact, unlike a `Date`'s floating point seconds.
    public let microseconds: Int64

    public init(microseconds: Int64) {
        self.microseconds = microseconds
    }

    /// `date` truncated to whole microseconds.
    public init(_ date: Date) {
        microseconds = Int64((date.timeIntervalSince1970 * 1_000_000).rounded(.down))
    }

    /// The current time.
    public static func now() -> MicroTime {
        MicroTime(Date())
    }

    /// The instant as a `Date` (may lose sub-microsecond precision to floating point).
    public var date: Date {
        Date(timeIntervalSince1970: Double(microseconds) / 1_000_000)
    }

    /// Parses an RFC 3339 timestamp; nil when the text is not one.
    public init?(rfc3339 text: String) {
        // Time.parse validates the layout and the offset. It is given the text without its
        // fraction, so the seconds are exact; the fraction is read from its digits, not from a
        // Double's approximation of them.
        var wholeText = text
        var fraction: Int64 = 0
        if let dot = text.firstIndex(of: ".") {
            let digits = text[text.index(after: dot)...].prefix { $0.isASCII && $0.isNumber }
            guard !digits.isEmpty else { return nil }
            var scale: Int64 = 100_000
            for digit in digits.prefix(6) {
                fraction += Int64(digit.asciiValue.map { $0 - UInt8(ascii: "0") } ?? 0) * scale
                scale /= 10
            }
            wholeText = String(text[..<dot]) + String(text[digits.endIndex...])
        }
        guard let date = Time.parse(wholeText) else { return nil }
        let wholeSeconds = Int64(date.timeIntervalSince1970.rounded())
        microseconds = wholeSeconds * 1_000_000 + fraction
    }

    /// `2026-11-22T10:00:00.123456Z`; gmtime_r rather than Calendar, as `Time` does.
    public var description: String {
        var seconds = time_t(microseconds >= 0 ? microseconds / 1_000_000 : (microseconds - 999_999) / 1_000_000)
        let fraction = microseconds - Int64(seconds) * 1_000_000
        var parts = tm()
        gmtime_r(&seconds, &parts)
        return String(format: "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ",
                      Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1, Int(parts.tm_mday),
                      Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec), Int(fraction))
    }

    public static func < (lhs: MicroTime, rhs: MicroTime) -> Bool {
        lhs.microseconds < rhs.microseconds
    }

    public init(from decoder: Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let value = MicroTime(rfc3339: text) else {
            throw DecodingError.dataCorrupted(.init(
                codingPath: decoder.codingPath,
                debugDescription: "expected an RFC 3339 time such as \"2026-11-22T10:00:00.000000Z\", got \"\(text)\""))
        }
        self = value
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
