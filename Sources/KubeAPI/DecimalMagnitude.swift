/// A non-negative integer of any size, kept as decimal digits (most significant first).
///
/// Kubernetes quantities fall back to arbitrary precision (`inf.Dec`) as soon as a value
/// leaves int64 ("9999999999999999999", "10E"), and their canonical form moves factors of
/// ten and of 1024 around. Quantities are short strings, so plain digit arithmetic is
/// simple and fast enough; no big-integer dependency is needed.
struct DecimalMagnitude: Hashable, Sendable {
    /// Digits 0...9, most significant first, no leading zeros; empty means zero.
    private(set) var digits: [UInt8]

    static let zero = DecimalMagnitude(digits: [])

    init(digits: [UInt8]) {
        self.digits = Array(digits.drop(while: { $0 == 0 }))
    }

    /// Parses ASCII decimal digits; the caller has checked that they are digits.
    init<S: Sequence>(asciiDigits: S) where S.Element == UInt8 {
        self.init(digits: asciiDigits.map { $0 - UInt8(ascii: "0") })
    }

    init(_ value: UInt64) {
        var out: [UInt8] = []
        var rest = value
        while rest > 0 {
            out.append(UInt8(rest % 10))
            rest /= 10
        }
        self.init(digits: out.reversed())
    }

    var isZero: Bool { digits.isEmpty }

    /// The number of trailing zero digits (0 for zero itself).
    var trailingZeroCount: Int {
        var count = 0
        for digit in digits.reversed() {
            guard digit == 0 else { break }
            count += 1
        }
        return count
    }

    var string: String {
        digits.isEmpty ? "0" : String(decoding: digits.map { $0 + UInt8(ascii: "0") }, as: UTF8.self)
    }

    /// `self * 10^count`.
    func appendingZeros(_ count: Int) -> DecimalMagnitude {
        guard !isZero, count > 0 else { return self }
        return DecimalMagnitude(digits: digits + [UInt8](repeating: 0, count: count))
    }

    /// `self / 10^count` truncated, and whether a non-zero digit was dropped.
    func droppingDigits(_ count: Int) -> (kept: DecimalMagnitude, inexact: Bool) {
        guard count > 0 else { return (self, false) }
        if count >= digits.count {
            return (.zero, !isZero)
        }
        let kept = Array(digits[..<(digits.count - count)])
        let inexact = digits[(digits.count - count)...].contains { $0 != 0 }
        return (DecimalMagnitude(digits: kept), inexact)
    }

    /// `self + 1`.
    func incremented() -> DecimalMagnitude {
        var out = digits
        var index = out.count - 1
        while index >= 0 {
            if out[index] == 9 {
                out[index] = 0
                index -= 1
            } else {
                out[index] += 1
                return DecimalMagnitude(digits: out)
            }
        }
        return DecimalMagnitude(digits: [1] + out)
    }

    /// `self * factor` for a small factor.
    func multiplied(by factor: UInt32) -> DecimalMagnitude {
        guard !isZero, factor != 1 else { return self }
        var out = [UInt8](repeating: 0, count: digits.count)
        var carry: UInt64 = 0
        for index in stride(from: digits.count - 1, through: 0, by: -1) {
            let product = UInt64(digits[index]) * UInt64(factor) + carry
            out[index] = UInt8(product % 10)
            carry = product / 10
        }
        var head: [UInt8] = []
        while carry > 0 {
            head.append(UInt8(carry % 10))
            carry /= 10
        }
        return DecimalMagnitude(digits: head.reversed() + out)
    }

    /// `self * 2^power` (power is at most 60 for quantity suffixes).
    func multipliedByPowerOfTwo(_ power: Int) -> DecimalMagnitude {
        var result = self
        var remaining = power
        while remaining > 0 {
            let step = min(remaining, 16)
            result = result.multiplied(by: UInt32(1) << UInt32(step))
            remaining -= step
        }
        return result
    }

    /// Long division by a small divisor.
    func divided(by divisor: UInt32) -> (quotient: DecimalMagnitude, remainder: UInt32) {
        var quotient = [UInt8]()
        quotient.reserveCapacity(digits.count)
        var remainder: UInt64 = 0
        for digit in digits {
            remainder = remainder * 10 + UInt64(digit)
            quotient.append(UInt8(remainder / UInt64(divisor)))
            remainder %= UInt64(divisor)
        }
        return (DecimalMagnitude(digits: quotient), UInt32(remainder))
    }

    /// The value as an unsigned 64-bit integer, or nil when it does not fit.
    var uint64Value: UInt64? {
        var result: UInt64 = 0
        for digit in digits {
            let (times10, overflow1) = result.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times10.addingReportingOverflow(UInt64(digit))
            if overflow1 || overflow2 { return nil }
            result = sum
        }
        return result
    }
}
