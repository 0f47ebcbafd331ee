/// Why a DNS message or name was refused, with the offset where the problem was found.
public struct DNSWireError: Error, Equatable, CustomStringConvertible, Sendable {
    public enum Kind: Equatable, Sendable {
        case truncated
        case labelTooLong
        case nameTooLong
        case badLabelType
        case forwardPointer
        case pointerLoop
        case badCount
        case trailingData
        case badRecord
        case invalidName
    }

    public let kind: Kind
    public let offset: Int
    public let detail: String

    init(_ kind: Kind, at offset: Int, _ detail: String) {
        self.kind = kind
        self.offset = offset
        self.detail = detail
    }

    public var description: String { "DNS message: \(detail) (at byte \(offset))" }
}
