/// Go's shortest rendering of a float64 as encoding/json writes it, which is how Kubernetes
/// stores numbers: shared by the JSON writer and by the decoder of parsed values, which must
/// type a number as the YAML reader types its text.
public enum GoFloat {
    /// Go's `strconv.FormatFloat(f, 'f' or 'e', -1, 64)` as encoding/json chooses between them.
    public static func format(_ number: Double) -> String {
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

}
