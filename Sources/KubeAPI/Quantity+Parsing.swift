/// Parsing and canonical printing, following quantity.go, suffix.go and amount.go in
/// k8s.io/apimachinery/pkg/api/resource step by step (including its leniencies: "1.", ".",
/// "+" alone is zero, and a canonical-looking input is printed back verbatim).
extension Quantity {
    /// The pieces `parseQuantityString` splits a quantity into.
    private struct Pieces {
        var positive = true
        /// Integer digits with leading zeros removed ("0" when there are none).
        var numerator: ArraySlice<UInt8> = []
        /// Fraction digits after the dot (possibly empty).
        var denominator: ArraySlice<UInt8> = []
        var suffix: ArraySlice<UInt8> = []
    }

    private static func isDigit(_ byte: UInt8) -> Bool {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
    }

    private static let suffixCharacters = Set("eEinumkKMGTP".utf8)
    private static let zeroDigit: ArraySlice<UInt8> = [UInt8(ascii: "0")]

    /// The fast scanner of quantity.go: sign, digits, optional fraction, then a suffix made of
    /// unit letters optionally followed by a signed integer.
    private static func scan(_ bytes: [UInt8]) throws -> Pieces {
        var pieces = Pieces()
        var pos = 0
        let end = bytes.count
        if pos < end {
            if bytes[0] == UInt8(ascii: "-") {
                pieces.positive = false
                pos += 1
            } else if bytes[0] == UInt8(ascii: "+") {
                pos += 1
            }
        }
        while pos < end, bytes[pos] == UInt8(ascii: "0") { pos += 1 }
        if pos >= end {
            pieces.numerator = zeroDigit
            return pieces
        }
        let numeratorStart = pos
        while pos < end, isDigit(bytes[pos]) { pos += 1 }
        pieces.numerator = pos > numeratorStart ? bytes[numeratorStart..<pos] : zeroDigit
        if pos >= end { return pieces }
        if bytes[pos] == UInt8(ascii: ".") {
            pos += 1
            let denominatorStart = pos
            while pos < end, isDigit(bytes[pos]) { pos += 1 }
            pieces.denominator = bytes[denominatorStart..<pos]
            if pos >= end { return pieces }
        }
        let suffixStart = pos
        while pos < end, suffixCharacters.contains(bytes[pos]) { pos += 1 }
        if pos < end, bytes[pos] == UInt8(ascii: "-") || bytes[pos] == UInt8(ascii: "+") { pos += 1 }
        while pos < end, isDigit(bytes[pos]) { pos += 1 }
        guard pos == end else { throw ParseError.formatWrong }
        pieces.suffix = bytes[suffixStart..<end]
        return pieces
    }

    /// What a suffix means: the value is multiplied by base^exponent.
    private struct Unit {
        var base: Int
        var exponent: Int
        var format: Format
    }

    private static let decimalSuffixes: [String: Int] = [
        "n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18,
    ]
    private static let binarySuffixes: [String: Int] = [
        "Ki": 10, "Mi": 20, "Gi": 30, "Ti": 40, "Pi": 50, "Ei": 60,
    ]

    /// `suffixHandler.interpret`: SI tables first, then "e"/"E" followed by an integer.
    private static func interpret(_ suffix: ArraySlice<UInt8>) throws -> Unit {
        let text = String(decoding: suffix, as: UTF8.self)
        if let exponent = decimalSuffixes[text] { return Unit(base: 10, exponent: exponent, format: .decimalSI) }
        if let exponent = binarySuffixes[text] { return Unit(base: 2, exponent: exponent, format: .binarySI) }
        if text.count > 1, text.first == "e" || text.first == "E" {
            // Go parses an int64 and casts it to int32; exponents beyond int32 are rejected
            // here instead of silently wrapping around.
            guard let exponent = Int32(text.dropFirst()) else { throw ParseError.suffix }
            return Unit(base: 10, exponent: Int(exponent), format: .decimalExponent)
        }
        throw ParseError.suffix
    }

    /// `resource.ParseQuantity`.
    static func parse(_ string: String) throws -> Quantity {
        let bytes = Array(string.utf8)
        guard !bytes.isEmpty else { throw ParseError.formatWrong }
        if string == "0" {
            return Quantity(negative: false, amount: .zero, format: .decimalSI, cached: "0")
        }
        let pieces = try scan(bytes)
        let unit = try interpret(pieces.suffix)

        var magnitude = DecimalMagnitude(asciiDigits: pieces.numerator + pieces.denominator)
        var exponent = -pieces.denominator.count
        if unit.base == 10 {
            exponent += unit.exponent
        } else {
            magnitude = magnitude.multipliedByPowerOfTwo(unit.exponent)
        }
        // Anything finer than a nano unit is rounded up: asking for a sliver of a
        // resource should still get some of it.
        var amount = ScaledDecimal(magnitude: magnitude, exponent: exponent).roundedUp(toScale: -9).value
        var format = unit.format
        if format == .binarySI {
            if ScaledDecimal.compare(amount, maxAllowed) > 0 {
                amount = maxAllowed
            }
            if !amount.isZero, ScaledDecimal.compare(amount, one) < 0 {
                format = .decimalSI
            }
        }
        let cached = canonicalInputEcho(string, pieces: pieces, unit: unit)
        return Quantity(negative: !pieces.positive, amount: amount, format: format, cached: cached)
    }

    private static let maxAllowed = ScaledDecimal(magnitude: DecimalMagnitude(UInt64(Int64.max)), exponent: 0)
    private static let one = ScaledDecimal(magnitude: DecimalMagnitude(1), exponent: 0)

    /// ParseQuantity's int64 fast path keeps the input string as the printed form when it
    /// looks canonical already (so "+1" and "1E3" print back unchanged); this reproduces
    /// exactly the conditions under which it does.
    private static func canonicalInputEcho(_ string: String, pieces: Pieces, unit: Unit) -> String? {
        let digitCount = pieces.numerator.count + pieces.denominator.count
        let precision: Int
        var scale: Int
        switch unit.format {
        case .decimalExponent, .decimalSI:
            scale = unit.exponent
            precision = 18 - digitCount
        case .binarySI:
            scale = 0
            if pieces.denominator.isEmpty {
                precision = 15 - pieces.numerator.count - Int(Float(unit.exponent) * 3 / 10) - 1
            } else {
                precision = -1
            }
        }
        guard precision >= 0 else { return nil }
        scale -= pieces.denominator.count
        guard scale >= -9 else { return nil }
        let shifted = Array(pieces.numerator + pieces.denominator)
        guard let value = Int64(String(decoding: shifted, as: UTF8.self)) else { return nil }
        switch unit.format {
        case .binarySI:
            let (_, overflow) = value.multipliedReportingOverflow(by: Int64(1) << Int64(unit.exponent))
            guard !overflow else { return nil }
            return unit.exponent % 10 == 0 && value & 0x07 != 0 ? string : nil
        case .decimalExponent, .decimalSI:
            let endsWithThreeZeros = shifted.count >= 3 && shifted.suffix(3).allSatisfy { $0 == UInt8(ascii: "0") }
            return scale % 3 == 0 && !endsWithThreeZeros && shifted.first != UInt8(ascii: "0") ? string : nil
        }
    }

    /// `Quantity.CanonicalizeBytes`: no fractional digits, the largest suffix that loses
    /// nothing; BinarySI falls back to DecimalSI for |x| < 1024 and for non-integers.
    static func canonical(negative: Bool, amount: ScaledDecimal, format: Format) -> String {
        if amount.isZero { return "0" }
        let sign = negative ? "-" : ""
        if format == .binarySI,
           ScaledDecimal.compare(amount, ScaledDecimal(magnitude: DecimalMagnitude(1024), exponent: 0)) >= 0 {
            let (rounded, exact) = amount.roundedUp(toScale: 0)
            if exact {
                var integer = rounded.magnitude.appendingZeros(rounded.exponent)
                var power = 0
                while power < 6 {
                    let (quotient, remainder) = integer.divided(by: 1024)
                    guard remainder == 0, !quotient.isZero else { break }
                    integer = quotient
                    power += 1
                }
                let suffixes = ["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"]
                return sign + integer.string + suffixes[power]
            }
        }
        var magnitude = amount.magnitude
        var exponent = amount.exponent
        while exponent % 3 != 0 {
            magnitude = magnitude.appendingZeros(1)
            exponent -= 1
        }
        if format == .decimalExponent {
            return sign + magnitude.string + (exponent == 0 ? "" : "e\(exponent)")
        }
        // Upstream prints no suffix at all above "E" (10^18), which misreads as a much
        // smaller number; keep "E" and more digits instead.
        if exponent > 18 {
            magnitude = magnitude.appendingZeros(exponent - 18)
            exponent = 18
        }
        let suffixes = [-9: "n", -6: "u", -3: "m", 0: "", 3: "k", 6: "M", 9: "G", 12: "T", 15: "P", 18: "E"]
        return sign + magnitude.string + (suffixes[exponent] ?? "e\(exponent)")
    }
}
