import Foundation

/// A Kubernetes resource quantity ("100m", "1.5Gi", "1e3"), parsed and printed exactly as
/// `resource.ParseQuantity` and `Quantity.String()` in k8s.io/apimachinery do.
///
/// The value is exact (never a floating point number), rounded up to nano units on parse;
/// values of any size are kept ("10E"), except that binary-suffixed values are capped at
/// 2^63-1 like upstream. Equality, hashing and ordering compare the numeric value only, like
/// `Quantity.Cmp`: `1Gi == 1073741824` although their `description`s differ.
/// See https://github.com/kubernetes/apimachinery/blob/master/pkg/api/resource/quantity.go
public struct Quantity: Codable, Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The notation a quantity was written in; `description` keeps using it.
    public enum Format: String, Codable, Hashable, Sendable {
        /// "12e6": a decimal exponent.
        case decimalExponent = "DecimalExponent"
        /// "12Mi": powers of 1024.
        case binarySI = "BinarySI"
        /// "12M", "12m": powers of 1000 (or no suffix).
        case decimalSI = "DecimalSI"
    }

    /// Why a string is not a quantity; `description` is Kubernetes' own message.
    public enum ParseError: Error, Equatable, Sendable, CustomStringConvertible {
        /// The string does not have the shape number+suffix (`ErrFormatWrong`).
        case formatWrong
        /// The number part is malformed (`ErrNumeric`).
        case numeric
        /// The suffix is not one of the known units (`ErrSuffix`).
        case suffix

        public var description: String {
            switch self {
            case .formatWrong:
                return "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
            case .numeric:
                return "unable to parse numeric part of quantity"
            case .suffix:
                return "unable to parse quantity's suffix"
            }
        }
    }

    /// Whether the value is below zero.
    public let isNegative: Bool
    /// The absolute value.
    let amount: ScaledDecimal
    /// The notation used by `description`.
    public let format: Format
    /// The Kubernetes canonical form ("1536Mi" for "1.5Gi"); computed once.
    public let description: String

    /// Parses a quantity string the way `resource.ParseQuantity` does.
    /// - Throws: `Quantity.ParseError` with Kubernetes' message.
    public init(_ string: String) throws {
        self = try Quantity.parse(string)
    }

    /// A quantity of `value` whole units (`resource.NewQuantity`).
    public init(value: Int64, format: Format = .decimalSI) {
        self.init(negative: value < 0,
                  amount: ScaledDecimal(magnitude: DecimalMagnitude(value.magnitude), exponent: 0),
                  format: format)
    }

    /// A quantity of `milliValue` thousandths of a unit (`resource.NewMilliQuantity`).
    public init(milliValue: Int64, format: Format = .decimalSI) {
        self.init(negative: milliValue < 0,
                  amount: ScaledDecimal(magnitude: DecimalMagnitude(milliValue.magnitude), exponent: -3),
                  format: format)
    }

    /// Builds a quantity and its canonical string; `cached` is the input string when
    /// Kubernetes would print it back verbatim.
    init(negative: Bool, amount: ScaledDecimal, format: Format, cached: String? = nil) {
        self.isNegative = negative && !amount.isZero
        self.amount = amount
        self.format = format
        self.description = cached ?? Quantity.canonical(negative: negative && !amount.isZero, amount: amount, format: format)
    }

    /// Whether the value is zero.
    public var isZero: Bool { amount.isZero }

    /// The value rounded up (away from zero) to a whole unit, like `Quantity.Value()`;
    /// saturates at the Int64 bounds where upstream would overflow.
    public var value: Int64 { scaledValue(scale: 0) }

    /// The value in thousandths, rounded up (away from zero), like `Quantity.MilliValue()`;
    /// saturates at the Int64 bounds where upstream would overflow.
    public var milliValue: Int64 { scaledValue(scale: -3) }

    /// `ceil(|self| / 10^scale)` with the sign put back, saturating.
    func scaledValue(scale: Int) -> Int64 {
        guard let magnitude = amount.ceilingInteger(atScale: scale) else {
            return isNegative ? Int64.min : Int64.max
        }
        if isNegative {
            return magnitude >= Int64.min.magnitude ? Int64.min : -Int64(magnitude)
        }
        return magnitude > UInt64(Int64.max) ? Int64.max : Int64(magnitude)
    }

    /// This quantity rounded up to a multiple of `10^scale` (`Quantity.RoundUp`); the API
    /// server applies it with scale -3 to every resource list.
    public func roundedUp(toScale scale: Int) -> Quantity {
        let (rounded, exact) = amount.roundedUp(toScale: scale)
        if exact { return self }
        return Quantity(negative: isNegative, amount: rounded, format: format)
    }

    // MARK: Comparison

    public static func == (lhs: Quantity, rhs: Quantity) -> Bool {
        lhs.isNegative == rhs.isNegative && lhs.amount == rhs.amount
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(isNegative)
        hasher.combine(amount)
    }

    public static func < (lhs: Quantity, rhs: Quantity) -> Bool {
        compare(lhs, rhs) < 0
    }

    /// -1, 0 or 1 like `Quantity.Cmp`.
    public static func compare(_ lhs: Quantity, _ rhs: Quantity) -> Int {
        switch (lhs.isNegative, rhs.isNegative) {
        case (false, true): return 1
        case (true, false): return -1
        case (false, false): return ScaledDecimal.compare(lhs.amount, rhs.amount)
        case (true, true): return ScaledDecimal.compare(rhs.amount, lhs.amount)
        }
    }

    // MARK: Codable

    /// Accepts a string or a number, as Kubernetes' `UnmarshalJSON` does.
    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let string = try? container.decode(String.self) {
            self = try Quantity(string.trimmingCharacters(in: .whitespacesAndNewlines))
        } else if let integer = try? container.decode(Int64.self) {
            self = try Quantity(String(integer))
        } else {
            let number = try container.decode(Double.self)
            self = try Quantity(String(describing: number))
        }
    }

    /// Always encodes the canonical string.
    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

extension Quantity: ScalarTextDecodable {
    /// A plain YAML number ("0.5", "1e3") is read from its text, so no precision is lost.
    init(scalarText: String) throws {
        self = try Quantity(scalarText)
    }
}
