/// Why a manifest could not be decoded, and where: a Kubernetes-style field path
/// ("spec.containers[0].ports[0].containerPort") and, when known, the YAML line.
///
/// `description` reads `line 12: spec.containers[0].image: expected a string, got number 5`;
/// when the message already names the full path (`unknown field "spec.x"`) the path is not
/// repeated.
public struct DecodingFailure: Error, CustomStringConvertible, Equatable, Sendable {
    /// The field path; empty for the whole document.
    public let path: String
    /// What is wrong, without the path.
    public let message: String
    /// The 1-based line in the YAML (or JSON) text, when known.
    public let line: Int?

    public init(path: String, message: String, line: Int? = nil) {
        self.path = path
        self.message = message
        self.line = line
    }

    public var description: String {
        let location = line.map { "line \($0): " } ?? ""
        if path.isEmpty || message.contains("\"\(path)\"") {
            return location + message
        }
        return location + path + ": " + message
    }
}
