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

    /// Appends the compact encoding of `value` to `out`; non-finite numbers, which JSON cannot
    /// spell, are written as `null` (`checkedSerialize` refuses them instead).
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
            for (position, key) in JSONValue.orderedKeys(members).enumerated() {
                if position > 0 { out.append(UInt8(ascii: ",")) }
                writeString(key, to: &out)
                out.append(UInt8(ascii: ":"))
                if let member = members[key] { write(member, to: &out) }
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    /// Why a non-finite number cannot be written, in Go's words (encoding/json fails with
    /// `json: unsupported value: +Inf`): the checked writer and the schema check both say this.
    package static func unsupportedNumber(_ number: Double) -> String {
        let shown = number.isNaN ? "NaN" : (number < 0 ? "-Inf" : "+Inf")
        return "\(shown) is not a number JSON can represent (json: unsupported value: \(shown))"
    }

    /// A double as Go's encoding/json writes a float64 (what Kubernetes stores): the shortest
    /// digits that read back as the same number, in plain notation (`2`, `0.5`,
    /// `100000000000000000000`) unless the magnitude is below 1e-6 or at least 1e21, where it
    /// switches to an exponent without padding (`1e+21`, `1.5e-7`).
    /// See https://github.com/golang/go/blob/master/src/encoding/json/encode.go (floatEncoder).
    /// JSON has no infinity or NaN: those are written as `null` so the output is always JSON;
    /// `checkedSerialize` refuses them instead, and the API server stores nothing unchecked.
    static func writeDouble(_ number: Double, to out: inout [UInt8]) {
        out.append(contentsOf: goFloat(number).utf8)
    }

    /// Go's rendering of a float64 in JSON (`GoFloat.format`).
    package static func goFloat(_ number: Double) -> String {
        GoFloat.format(number)
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
