import APIMachinery
import Foundation
import KubeAPI

/// A range allocation as stored: upstream's `RangeAllocation` object (pkg/apis/core/types.go),
/// `{"apiVersion":"v1","kind":"RangeAllocation","range":"10.43.0.0/16","data":"<base64>"}`,
/// where `range` names the range the bitmap is for (`10.43.0.0/16`, `30000-32767`) and `data`
/// is `RangeAllocation.bytes`. As with every stored object, the version is the store revision
/// of the write, not a field.
enum RangeAllocationSnapshot {
    /// Why a stored value is not a usable allocation of the configured range.
    struct Unusable: Error, Equatable, CustomStringConvertible {
        let description: String
    }

    /// The stored form of `allocation`, a bitmap of `range`.
    static func encode(_ allocation: RangeAllocation, range: String) -> [UInt8] {
        JSONSerializer.serialize(.object([
            "apiVersion": .string("v1"),
            "kind": .string("RangeAllocation"),
            "range": .string(range),
            "data": .string(Data(allocation.bytes).base64EncodedString()),
        ]))
    }

    /// The allocation `value` holds, checked against the configured `range` and the size of
    /// `empty` (its shape). Anything else, including a value far larger than any bitmap of the
    /// range (not even parsed), is `Unusable` with the reason, for the warning.
    static func decode(_ value: [UInt8], range: String, empty: RangeAllocation) throws(Unusable) -> RangeAllocation {
        // Base64 of the largest bitmap, plus room for the other fields: more is not ours.
        let limit = (empty.maximumByteCount + 2) / 3 * 4 + 1024 + range.utf8.count
        guard value.count <= limit else {
            throw Unusable(description: "it is \(value.count) bytes, more than a bitmap of \(range) can take (\(limit))")
        }
        let parsed: JSONValue
        do {
            parsed = try JSONParser.parse(value)
        } catch {
            throw Unusable(description: "it is not JSON: \(error)")
        }
        guard case .object(let fields) = parsed, fields["kind"]?.stringValue == "RangeAllocation" else {
            throw Unusable(description: "it is not a RangeAllocation object")
        }
        guard let stored = fields["range"]?.stringValue else {
            throw Unusable(description: "it names no range")
        }
        guard stored == range else {
            throw Unusable(description: "it is for the range \(stored), not the configured \(range)")
        }
        // An empty bitmap is the number 0, which Go's JSON writes as an absent or empty `data`.
        let data = fields["data"] ?? .string("")
        guard let text = data.stringValue, let bytes = Data(base64Encoded: text) else {
            throw Unusable(description: "its data is not base64")
        }
        guard let allocation = RangeAllocation(size: empty.size, staticBand: empty.staticBand, bytes: Array(bytes)) else {
            throw Unusable(description: "its bitmap (\(bytes.count) bytes) does not fit the \(empty.size) values of \(range)")
        }
        return allocation
    }
}
