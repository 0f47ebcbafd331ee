/// The error of an object that failed validation, rendered like the API server's
/// `Pod "web" is invalid: [spec.containers[0].image: Required value, ...]`.
public struct InvalidObjectError: Error, CustomStringConvertible, Hashable, Sendable {
    /// The kind of the object ("Pod").
    public let kind: String
    /// Its name (may be empty).
    public let name: String
    /// Every problem found.
    public let errors: [ValidationError]

    public init(kind: String, name: String, errors: [ValidationError]) {
        self.kind = kind
        self.name = name
        self.errors = errors
    }

    /// One error is printed bare, several in brackets; repeated messages are printed once
    /// (`errors.NewAggregate`).
    public var description: String {
        var seen: Set<String> = []
        let messages = errors.map(\.description).filter { seen.insert($0).inserted }
        let head = "\(kind) \(GoQuote.quote(name)) is invalid"
        switch messages.count {
        case 0: return head
        case 1: return head + ": " + messages[0]
        default: return head + ": [" + messages.joined(separator: ", ") + "]"
        }
    }
}
