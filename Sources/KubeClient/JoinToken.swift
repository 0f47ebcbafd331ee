import Foundation

/// A join token in one of the forms k3s accepts
/// (https://github.com/k3s-io/k3s/blob/master/pkg/clientaccess/token.go):
/// - `K10<sha256 of the CA bundle, hex>::<user>:<password>`: the server's join token
///   (`K10...::server:<secret>`);
/// - `K10<hash>::<id>.<secret>`: a bootstrap token made by `swiftlet token create`;
/// - a bare secret (`<secret>` or `<id>.<secret>`): the CA cannot be checked, and the agent
///   trusts whatever `/cacerts` serves the first time, as k3s does with a warning.
public struct JoinToken: Sendable, Equatable {
    /// The hex SHA-256 of the CA bundle the server must serve; nil for a bare secret.
    public let caHash: String?
    /// What authenticates the join: the password of `<user>:<password>`, or `<id>.<secret>`
    /// of a bootstrap token, or the bare secret.
    public let secret: String

    public init(caHash: String?, secret: String) {
        self.caHash = caHash
        self.secret = secret
    }

    /// Parses a token; the error says which form was expected.
    public init(parsing text: String) throws {
        let token = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !token.isEmpty else { throw JoinError.invalidToken("the token is empty") }
        guard token.hasPrefix("K10") else {
            // A bare secret (k3s: "token is not in secure format").
            guard !token.contains(where: { $0.isWhitespace }) else {
                throw JoinError.invalidToken("the token contains spaces")
            }
            self.init(caHash: nil, secret: token)
            return
        }
        guard let separator = token.range(of: "::") else {
            throw JoinError.invalidToken("a K10 token has the form K10<CA hash>::<user>:<password> or K10<CA hash>::<id>.<secret>")
        }
        let hash = String(token[token.index(token.startIndex, offsetBy: 3)..<separator.lowerBound])
        let credentials = String(token[separator.upperBound...])
        guard hash.count == 64, hash.allSatisfy(\.isHexDigit) else {
            throw JoinError.invalidToken("the CA hash of a K10 token is 64 hex digits (SHA-256), not \(hash.count) characters")
        }
        let secret: String
        if let colon = credentials.firstIndex(of: ":") {
            secret = String(credentials[credentials.index(after: colon)...])
        } else if JoinToken.isBootstrapToken(credentials) {
            secret = credentials
        } else {
            throw JoinError.invalidToken("after '::' a K10 token has <user>:<password> or a bootstrap token <id>.<secret>")
        }
        guard !secret.isEmpty else { throw JoinError.invalidToken("the token's password is empty") }
        self.init(caHash: hash.lowercased(), secret: secret)
    }

    /// `<6 of [a-z0-9]>.<16 of [a-z0-9]>`, kubeadm's bootstrap token format.
    public static func isBootstrapToken(_ text: String) -> Bool {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        func valid(_ part: Substring, _ count: Int) -> Bool {
            part.count == count && part.allSatisfy { ($0.isASCII && $0.isLowercase && $0.isLetter) || ("0"..."9").contains($0) }
        }
        return parts.count == 2 && valid(parts[0], 6) && valid(parts[1], 16)
    }
}
