/// One challenge of a `WWW-Authenticate` header (RFC 7235): a scheme and its parameters, e.g.
/// `Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/nginx:pull"`
/// or `Basic realm="Registry Realm"`.
///
/// Parsed as containerd's `remotes/docker/auth.ParseAuthHeader` does: several challenges may be
/// given (in one header separated by commas, or in several headers), parameter values are
/// tokens or quoted strings with backslash escapes, names are case-insensitive. Malformed
/// input yields the challenges read before the fault, never a crash.
public struct AuthChallenge: Sendable, Equatable {
    public enum Scheme: String, Sendable { case basic, bearer }

    public var scheme: Scheme
    /// Parameters by lowercased name.
    public var parameters: [String: String]

    public init(scheme: Scheme, parameters: [String: String]) {
        self.scheme = scheme
        self.parameters = parameters
    }

    /// Longest header value looked at: real challenges are a few hundred bytes.
    static let maxHeaderLength = 16 * 1024

    /// The Basic and Bearer challenges in `headers` (other schemes are skipped).
    public static func parse(_ headers: [String]) -> [AuthChallenge] {
        headers.flatMap { parse($0) }
    }

    /// The Basic and Bearer challenges in one header value.
    public static func parse(_ header: String) -> [AuthChallenge] {
        var scanner = Scanner(Array(header.utf8.prefix(maxHeaderLength)))
        var result: [AuthChallenge] = []
        var current: (scheme: String, parameters: [String: String])?
        func flush() {
            if let current, let scheme = Scheme(rawValue: current.scheme.lowercased()) {
                result.append(AuthChallenge(scheme: scheme, parameters: current.parameters))
            }
            current = nil
        }
        while true {
            scanner.skip { $0 == .space || $0 == .tab || $0 == .comma }
            guard !scanner.atEnd else { break }
            guard let token = scanner.token() else { break }  // a stray character: stop here
            scanner.skip { $0 == .space || $0 == .tab }
            if scanner.peek == .equals {
                // `name=value` belongs to the current challenge.
                scanner.advance()
                scanner.skip { $0 == .space || $0 == .tab }
                let value: String?
                if scanner.peek == .quote {
                    value = scanner.quoted()
                } else {
                    value = scanner.token()
                }
                guard let value, current != nil else { break }
                current?.parameters[token.lowercased()] = value
            } else {
                // A new scheme starts a new challenge.
                flush()
                current = (token, [:])
            }
        }
        flush()
        return result
    }

    /// A byte scanner over the header (ASCII only matters here).
    private struct Scanner {
        let bytes: [UInt8]
        var index = 0

        init(_ bytes: [UInt8]) { self.bytes = bytes }

        var atEnd: Bool { index >= bytes.count }
        var peek: UInt8? { atEnd ? nil : bytes[index] }
        mutating func advance() { index += 1 }

        mutating func skip(_ predicate: (UInt8) -> Bool) {
            while let c = peek, predicate(c) { index += 1 }
        }

        /// RFC 7230 token characters (and `/` for token68-ish values some servers send unquoted).
        static func isTokenCharacter(_ c: UInt8) -> Bool {
            if c >= 0x30 && c <= 0x39 || c >= 0x41 && c <= 0x5a || c >= 0x61 && c <= 0x7a { return true }
            return Array("!#$%&'*+-.^_`|~/:".utf8).contains(c)
        }

        mutating func token() -> String? {
            let start = index
            skip(Scanner.isTokenCharacter)
            return index > start ? String(decoding: bytes[start..<index], as: UTF8.self) : nil
        }

        /// A quoted string with `\x` escapes; nil when it is not closed.
        mutating func quoted() -> String? {
            advance()  // the opening quote
            var out: [UInt8] = []
            while let c = peek {
                advance()
                if c == .quote { return String(decoding: out, as: UTF8.self) }
                if c == .backslash {
                    guard let escaped = peek else { return nil }
                    advance()
                    out.append(escaped)
                } else {
                    out.append(c)
                }
            }
            return nil
        }
    }
}

extension UInt8 {
    fileprivate static let space = UInt8(ascii: " ")
    fileprivate static let tab = UInt8(ascii: "\t")
    fileprivate static let comma = UInt8(ascii: ",")
    fileprivate static let equals = UInt8(ascii: "=")
    fileprivate static let quote = UInt8(ascii: "\"")
    fileprivate static let backslash = UInt8(ascii: "\\")
}
