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
        var failure: CheckFailure?
        write(value, to: &out, depth: 0, maximumDepth: nil, failure: &failure)
    }

    /// The one writer behind `serialize` and `checkedSerialize`. Unchecked (`maximumDepth`
    /// nil) it writes anything, non-finite numbers as `null`; checked it stops at the first
    /// non-finite number or nesting deeper than `maximumDepth`, filling `failure` (its path
    /// collected innermost first while the recursion unwinds).
    static func write(_ value: JSONValue, to out: inout [UInt8], depth: Int, maximumDepth: Int?,
                      failure: inout CheckFailure?) {
        switch value {
        case .null: out.append(contentsOf: "null".utf8)
        case .bool(let flag): out.append(contentsOf: (flag ? "true" : "false").utf8)
        case .int(let number): out.append(contentsOf: String(number).utf8)
        case .double(let number) where maximumDepth != nil && !number.isFinite:
            failure = CheckFailure(segments: [], message: unsupportedNumber(number))
        case .double(let number): writeDouble(number, to: &out)
        case .string(let text): writeString(text, to: &out)
        case .array(let elements):
            if let maximumDepth, depth >= maximumDepth {
                failure = CheckFailure(segments: [], message: "nested deeper than \(maximumDepth) levels")
                return
            }
            out.append(UInt8(ascii: "["))
            for (position, element) in elements.enumerated() {
                if position > 0 { out.append(UInt8(ascii: ",")) }
                write(element, to: &out, depth: depth + 1, maximumDepth: maximumDepth, failure: &failure)
                if failure != nil {
                    failure?.segments.append(.index(position))
                    return
                }
            }
            out.append(UInt8(ascii: "]"))
        case .object(let members):
            if let maximumDepth, depth >= maximumDepth {
                failure = CheckFailure(segments: [], message: "nested deeper than \(maximumDepth) levels")
                return
            }
            out.append(UInt8(ascii: "{"))
            for (position, key) in orderedKeys(members).enumerated() {
                if position > 0 { out.append(UInt8(ascii: ",")) }
                writeString(key, to: &out)
                out.append(UInt8(ascii: ":"))
                if let member = members[key] {
                    write(member, to: &out, depth: depth + 1, maximumDepth: maximumDepth, failure: &failure)
                    if failure != nil {
                        failure?.segments.append(.key(key))
                        return
                    }
                }
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

    /// Go's `strconv.FormatFloat(f, 'f' or 'e', -1, 64)` as encoding/json chooses between them.
    package static func goFloat(_ number: Double) -> String {
        guard number.isFinite else { return "null" }
        if number == 0 { return number.sign == .minus ? "-0" : "0" }
        // Swift's description is the shortest round-trip digit string too; only the
        // notation differs. Take its digits and decimal exponent apart and lay them out again.
        let (negative, digits, exponent) = decimalDigits(of: number)
        let sign = negative ? "-" : ""
        let magnitude = abs(number)
        if magnitude < 1e-6 || magnitude >= 1e21 {
            // d.ddde±XX with at least two exponent digits, then Go trims `e-07` to `e-7`.
            var text = String(digits.prefix(1))
            if digits.count > 1 { text += "." + digits.dropFirst() }
            let power = exponent - 1
            var exponentText = String(abs(power))
            if power >= 0, exponentText.count < 2 { exponentText = "0" + exponentText }
            return sign + text + "e" + (power < 0 ? "-" : "+") + exponentText
        }
        // Plain notation: the point goes `exponent` digits into the digit string.
        if exponent <= 0 {
            return sign + "0." + String(repeating: "0", count: -exponent) + digits
        }
        if exponent >= digits.count {
            return sign + digits + String(repeating: "0", count: exponent - digits.count)
        }
        let point = digits.index(digits.startIndex, offsetBy: exponent)
        return sign + digits[..<point] + "." + digits[point...]
    }

    /// The significant digits of a finite, non-zero double (no leading or trailing zeros) and
    /// the decimal exponent `e` with value = 0.digits × 10^e, from Swift's shortest description.
    private static func decimalDigits(of number: Double) -> (negative: Bool, digits: String, exponent: Int) {
        var text = "\(number)"
        var negative = false
        if text.hasPrefix("-") {
            negative = true
            text.removeFirst()
        }
        var exponent = 0
        if let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            exponent = Int(text[text.index(after: e)...]) ?? 0
            text = String(text[..<e])
        }
        var integerPart = text
        var fractionPart = ""
        if let dot = text.firstIndex(of: ".") {
            integerPart = String(text[..<dot])
            fractionPart = String(text[text.index(after: dot)...])
        }
        var digits = integerPart + fractionPart
        exponent += integerPart.count
        while digits.hasPrefix("0") {
            digits.removeFirst()
            exponent -= 1
        }
        while digits.hasSuffix("0") { digits.removeLast() }
        return (negative, digits.isEmpty ? "0" : digits, exponent)
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
