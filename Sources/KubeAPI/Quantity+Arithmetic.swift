/// Sums and differences of quantities, as resource quota needs them (`Quantity.Add` and
/// `Quantity.Sub` of k8s.io/apimachinery/pkg/api/resource): exact, signed, and printed in the
/// left operand's format unless that operand is zero, when the right one's format is taken
/// (upstream: `if q.IsZero() { q.Format = y.Format }`), so `0 + 128Mi` prints `128Mi`.
extension Quantity {
    /// How far apart two operands' decimal exponents may be before the smaller one is
    /// treated as negligible: aligning them writes that many digits, and a hostile
    /// `1e100000000` must not make an addition allocate a hundred million of them.
    static let maximumAlignment = 4096

    public static func + (lhs: Quantity, rhs: Quantity) -> Quantity {
        lhs.adding(rhs, negatingRight: false)
    }

    public static func - (lhs: Quantity, rhs: Quantity) -> Quantity {
        lhs.adding(rhs, negatingRight: true)
    }

    public static func += (lhs: inout Quantity, rhs: Quantity) {
        lhs = lhs + rhs
    }

    /// Zero in DecimalSI, what Go's zero `resource.Quantity{}` prints: "0".
    public static let zero = Quantity(value: 0)

    private func adding(_ other: Quantity, negatingRight: Bool) -> Quantity {
        var (negative, amount, format) = sum(other, negatingRight: negatingRight)
        // A huge sum printed with an SI suffix would be written out digit by digit (past
        // "E", see `canonical`); a hostile "1e100000000" must not become a 100 MB string.
        if format != .decimalExponent, amount.exponent > Self.maximumAlignment {
            format = .decimalExponent
        }
        return Quantity(negative: negative, amount: amount, format: format)
    }

    private func sum(_ other: Quantity, negatingRight: Bool) -> (Bool, ScaledDecimal, Format) {
        let format = isZero ? other.format : self.format
        let otherNegative = negatingRight ? !other.isNegative : other.isNegative
        if other.isZero { return (isNegative, amount, format) }
        if isZero { return (otherNegative, other.amount, format) }
        if isNegative == otherNegative {
            return (isNegative, ScaledDecimal.sum(amount, other.amount), format)
        }
        // Opposite signs: the larger magnitude keeps its sign.
        switch ScaledDecimal.compare(amount, other.amount) {
        case 0: return (false, .zero, format)
        case 1: return (isNegative, ScaledDecimal.difference(amount, other.amount), format)
        default: return (otherNegative, ScaledDecimal.difference(other.amount, amount), format)
        }
    }
}

extension ScaledDecimal {
    /// Both operands' digits at the smaller exponent, or nil when they are too far apart.
    private static func aligned(_ lhs: ScaledDecimal, _ rhs: ScaledDecimal) -> (DecimalMagnitude, DecimalMagnitude, Int)? {
        let exponent = min(lhs.exponent, rhs.exponent)
        let left = lhs.exponent - exponent, right = rhs.exponent - exponent
        guard max(left, right) <= Quantity.maximumAlignment else { return nil }
        return (lhs.magnitude.appendingZeros(left), rhs.magnitude.appendingZeros(right), exponent)
    }

    /// `lhs + rhs`.
    static func sum(_ lhs: ScaledDecimal, _ rhs: ScaledDecimal) -> ScaledDecimal {
        guard let operands = aligned(lhs, rhs) else { return compare(lhs, rhs) >= 0 ? lhs : rhs }
        let (left, right, exponent) = operands
        let count = max(left.digits.count, right.digits.count)
        var out = [UInt8](repeating: 0, count: count + 1)
        var carry: UInt8 = 0
        for offset in 0..<count {
            let a = offset < left.digits.count ? left.digits[left.digits.count - 1 - offset] : 0
            let b = offset < right.digits.count ? right.digits[right.digits.count - 1 - offset] : 0
            let digit = a + b + carry
            out[count - offset] = digit % 10
            carry = digit / 10
        }
        out[0] = carry
        return ScaledDecimal(magnitude: DecimalMagnitude(digits: out), exponent: exponent)
    }

    /// `lhs - rhs` for `lhs >= rhs`.
    static func difference(_ lhs: ScaledDecimal, _ rhs: ScaledDecimal) -> ScaledDecimal {
        guard let operands = aligned(lhs, rhs) else { return lhs }
        let (left, right, exponent) = operands
        var out = left.digits
        var borrow: UInt8 = 0
        for offset in 0..<out.count {
            let index = out.count - 1 - offset
            let b = (offset < right.digits.count ? right.digits[right.digits.count - 1 - offset] : 0) + borrow
            if out[index] >= b {
                out[index] -= b
                borrow = 0
            } else {
                out[index] = out[index] + 10 - b
                borrow = 1
            }
        }
        return ScaledDecimal(magnitude: DecimalMagnitude(digits: out), exponent: exponent)
    }
}
