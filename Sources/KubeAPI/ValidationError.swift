import Foundation

/// One validation failure, rendered exactly like Kubernetes' `field.Error`:
/// `spec.containers[0].image: Required value`,
/// `spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"`.
///
/// `type.rawValue` and `body` are what an API server puts in a `Status` cause
/// (`reason`, `message`), `field` its `field`.
/// See https://github.com/kubernetes/apimachinery/blob/master/pkg/util/validation/field/errors.go
public struct ValidationError: Error, CustomStringConvertible, Hashable, Sendable {
    /// Kubernetes' `field.ErrorType`; the raw value is the cause type of a `Status`.
    public enum ErrorType: String, Hashable, Sendable {
        case notFound = "FieldValueNotFound"
        case required = "FieldValueRequired"
        case duplicate = "FieldValueDuplicate"
        case invalid = "FieldValueInvalid"
        case notSupported = "FieldValueNotSupported"
        case forbidden = "FieldValueForbidden"
        case tooLong = "FieldValueTooLong"
        case tooMany = "FieldValueTooMany"
        case internalError = "InternalError"

        /// The words Kubernetes prints for the type.
        public var label: String {
            switch self {
            case .notFound: return "Not found"
            case .required: return "Required value"
            case .duplicate: return "Duplicate value"
            case .invalid: return "Invalid value"
            case .notSupported: return "Unsupported value"
            case .forbidden: return "Forbidden"
            case .tooLong: return "Too long"
            case .tooMany: return "Too many"
            case .internalError: return "Internal error"
            }
        }
    }

    /// The offending value as Kubernetes prints it: strings quoted, numbers and booleans bare,
    /// anything else as JSON.
    public enum BadValue: Hashable, Sendable {
        case string(String)
        case int(Int64)
        case bool(Bool)
        /// Already rendered JSON.
        case json(String)

        var rendered: String {
            switch self {
            case .string(let value): return GoQuote.quote(value)
            case .int(let value): return String(value)
            case .bool(let value): return String(value)
            case .json(let value): return value
            }
        }
    }

    public let type: ErrorType
    /// The field path (`spec.containers[0].image`).
    public let field: String
    public let badValue: BadValue?
    public let detail: String

    public init(type: ErrorType, field: String, badValue: BadValue? = nil, detail: String = "") {
        self.type = type
        self.field = field
        self.badValue = badValue
        self.detail = detail
    }

    /// Everything after the field: `Invalid value: "Foo": <detail>` (`field.Error.ErrorBody`).
    public var body: String {
        var body = type.label
        switch type {
        case .required, .forbidden, .tooLong, .internalError:
            break
        case .invalid, .notSupported, .notFound, .duplicate, .tooMany:
            if let badValue {
                body += ": " + badValue.rendered
            }
        }
        if !detail.isEmpty {
            body += ": " + detail
        }
        return body
    }

    public var description: String {
        field + ": " + body
    }

    // MARK: Constructors named after Kubernetes' field package

    static func required(_ field: String, _ detail: String = "") -> ValidationError {
        ValidationError(type: .required, field: field, detail: detail)
    }

    static func forbidden(_ field: String, _ detail: String) -> ValidationError {
        ValidationError(type: .forbidden, field: field, detail: detail)
    }

    static func invalid(_ field: String, _ value: BadValue, _ detail: String) -> ValidationError {
        ValidationError(type: .invalid, field: field, badValue: value, detail: detail)
    }

    static func invalid(_ field: String, _ value: String, _ detail: String) -> ValidationError {
        invalid(field, .string(value), detail)
    }

    static func invalid<I: BinaryInteger>(_ field: String, _ value: I, _ detail: String) -> ValidationError {
        invalid(field, .int(Int64(value)), detail)
    }

    static func duplicate(_ field: String, _ value: String) -> ValidationError {
        ValidationError(type: .duplicate, field: field, badValue: .string(value))
    }

    static func notFound(_ field: String, _ value: String) -> ValidationError {
        ValidationError(type: .notFound, field: field, badValue: .string(value))
    }

    static func notSupported(_ field: String, _ value: String, _ supported: [String]) -> ValidationError {
        let detail = supported.isEmpty ? "" : "supported values: " + supported.map(GoQuote.quote).joined(separator: ", ")
        return ValidationError(type: .notSupported, field: field, badValue: .string(value), detail: detail)
    }

    static func tooLong(_ field: String, _ maxBytes: Int) -> ValidationError {
        ValidationError(type: .tooLong, field: field, detail: "may not be more than \(maxBytes) \(maxBytes == 1 ? "byte" : "bytes")")
    }
}
