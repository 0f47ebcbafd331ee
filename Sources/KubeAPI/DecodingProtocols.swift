// Marker protocols through which types tell `Manifest`'s strict decoder how to treat them.

/// Types that may carry fields this module does not model: `Manifest` does not report
/// their unknown fields (`TypeMeta` peeks at two fields of any manifest).
public protocol AllowsUnknownFields {}

/// Types decoded from a plain YAML number's text rather than from its value, so that
/// `cpu: 0.5` or `memory: 1e9` keep every digit.
protocol ScalarTextDecodable {
    init(scalarText: String) throws
}

/// Types for which a null value is a value (not a missing required field).
protocol NullDecodable {}
extension Optional: NullDecodable {}
