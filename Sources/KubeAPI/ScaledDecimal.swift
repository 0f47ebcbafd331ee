/// A non-negative decimal `magnitude × 10^exponent`, normalized so equal values are equal.
struct ScaledDecimal: Hashable, Sendable {
    /// Digits without trailing zeros (they are folded into `exponent`).
    let magnitude: DecimalMagnitude
    let exponent: Int

    static let zero = ScaledDecimal(magnitude: .zero, exponent: 0)

    init(magnitude: DecimalMagnitude, exponent: Int) {
        if magnitude.isZero {
            self.magnitude = .zero
            self.exponent = 0
        } else {
            let zeros = magnitude.trailingZeroCount
            self.magnitude = zeros > 0 ? magnitude.droppingDigits(zeros).kept : magnitude
            self.exponent = exponent + zeros
        }
    }

    var isZero: Bool { magnitude.isZero }

    /// Rounds up (away from zero) to a multiple of `10^scale`; reports whether that was exact.
    func roundedUp(toScale scale: Int) -> (value: ScaledDecimal, exact: Bool) {
        guard exponent < scale else { return (self, true) }
        let (kept, inexact) = magnitude.droppingDigits(scale - exponent)
        let rounded = inexact ? kept.incremented() : kept
        return (ScaledDecimal(magnitude: rounded, exponent: scale), !inexact)
    }

    /// The integer `ceil(self / 10^scale)`, or nil when it does not fit in UInt64.
    func ceilingInteger(atScale scale: Int) -> UInt64? {
        let rounded = roundedUp(toScale: scale).value
        let shift = rounded.exponent - scale
        // A shift this large cannot fit; avoid building a huge digit array.
        guard shift <= 20 else { return rounded.isZero ? 0 : nil }
        return rounded.magnitude.appendingZeros(shift).uint64Value
    }

    /// Orders two non-negative decimals.
    static func compare(_ lhs: ScaledDecimal, _ rhs: ScaledDecimal) -> Int {
        if lhs.isZero || rhs.isZero {
            return lhs.isZero ? (rhs.isZero ? 0 : -1) : 1
        }
        // Position of the most significant digit decides first.
        let lhsTop = lhs.magnitude.digits.count + lhs.exponent
        let rhsTop = rhs.magnitude.digits.count + rhs.exponent
        if lhsTop != rhsTop { return lhsTop < rhsTop ? -1 : 1 }
        let lhsDigits = lhs.magnitude.digits
        let rhsDigits = rhs.magnitude.digits
        for index in 0..<max(lhsDigits.count, rhsDigits.count) {
            let left = index < lhsDigits.count ? lhsDigits[index] : 0
            let right = index < rhsDigits.count ? rhsDigits[index] : 0
            if left != right { return left < right ? -1 : 1 }
        }
        return 0
    }
}
