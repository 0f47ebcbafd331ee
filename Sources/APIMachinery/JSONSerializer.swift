import KubeAPI

/// Writes `JSONValue` as compact JSON bytes.
///
/// Object keys come out in a stable order: `apiVersion`, `kind`, `metadata` first (as the
/// Kubernetes API server writes them, which makes raw `curl` output readable), then the rest
/// sorted. Stable bytes also make stored objects comparable, so an update that changes nothing
/// can be detected and skipped.
public enum JSONSerializer {
    /// The compact encoding of `value`.
    public static func serialize(_ value: JSONValue) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        write(value, to: &out)
        return out
    }

    /// Appends the compact encoding of `value` to `out`.
    public static func write(_ value: JSONValue, to out: inout [UInt8]) {
        switch value {
        case .null: out.append(contentsOf: "null".utf8)
        case .bool(let flag): out.append(contentsOf: (flag ? "true" : "false").utf8)
        case .int(let number): out.append(contentsOf: String(number).utf8)
        case .double(let number): writeDouble(number, to: &out)
        case .string(let text): writeString(text, to: &out)
        case .array(let elements):
            out.append(UInt8(ascii: "["))
            for (position, element) in elements.enumerated() {
                if position > 0 { out.append(UInt8(ascii: ",")) }
                write(element, to: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let members):
            out.append(UInt8(ascii: "{"))
            for (position, key) in orderedKeys(members).enumerated() {
                if position > 0 { out.append(UInt8(ascii: ",")) }
                writeString(key, to: &out)
                out.append(UInt8(ascii: ":"))
                if let member = members[key] {
                    write(member, to: &out)
                }
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    /// The keys of an object in output order.
    static func orderedKeys(_ members: [String: JSONValue]) -> [String] {
        members.keys.sorted { lhs, rhs in
            let left = rank(lhs), right = rank(rhs)
            return left != right ? left < right : lhs < rhs
        }
    }

    private static func rank(_ key: String) -> Int {
        switch key {
        case "apiVersion": return 0
        case "kind": return 1
        case "metadata": return 2
        default: return 3
        }
    }

    /// Integral doubles print without a fraction (`2`, as Go does for float64 2.0).
    private static func writeDouble(_ number: Double, to out: inout [UInt8]) {
        if number.rounded() == number, abs(number) < 1e15 {
            out.append(contentsOf: String(Int64(number)).utf8)
        } else {
            out.append(contentsOf: "\(number)".utf8)
        }
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    /// JSON string escaping: quotes, backslashes and control characters; everything else,
    /// including non-ASCII, is written as UTF-8.
    static func writeString(_ text: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
            case UInt8(ascii: "\\"): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            case 0x0A: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            case 0x0D: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
            case 0x09: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
            case 0..<0x20:
                out.append(contentsOf: "\\u00".utf8)
                out.append(hexDigits[Int(byte >> 4)])
                out.append(hexDigits[Int(byte & 0x0F)])
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}
