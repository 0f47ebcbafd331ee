/// Why joining a cluster failed for good (no retry will help).
public enum JoinError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The token is not in a form swiftlet (or k3s) knows.
    case invalidToken(String)
    /// The server's CA is not the one the token names: a wrong token, a wrong server, or a
    /// machine in the middle. k3s' wording.
    case caHashMismatch(token: String, server: String)
    /// The server refused the token's secret (401).
    case unauthorized(server: String, message: String)
    /// The server refused this node (403): usually another machine already joined with this
    /// node name.
    case rejected(server: String, message: String)
    /// Any other definitive failure (a server that is not a swiftlet server, a bad answer,
    /// a credential that cannot be stored).
    case failed(String)

    public var description: String {
        switch self {
        case .invalidToken(let why):
            return "invalid join token: \(why)"
        case .caHashMismatch(let token, let server):
            return "token CA hash does not match the Cluster CA certificate hash: \(token) != \(server)"
        case .unauthorized(let server, let message):
            return "\(server) refused the join token (401 \(message)): check the token; the server's is in <server data dir>/token, or make one with `swiftlet token create`"
        case .rejected(let server, let message):
            return "\(server) rejected this node: \(message)"
        case .failed(let text):
            return text
        }
    }
}
