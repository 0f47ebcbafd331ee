/// What went wrong talking to etcd.
public enum EtcdError: Error, Equatable, Sendable, CustomStringConvertible {
    /// etcd (or its gRPC layer) answered with a non-OK gRPC status.
    case status(code: Int, message: String, endpoint: String)
    /// No endpoint could be reached or the connection broke before an answer.
    case connection(endpoint: String, reason: String)
    /// A reply that does not parse as the expected message.
    case malformedResponse(String)
    /// A reply larger than the client accepts.
    case responseTooLarge(endpoint: String, bytes: Int, limit: Int)

    /// gRPC status codes (https://grpc.github.io/grpc/core/md_doc_statuscodes.html) that etcd
    /// uses; its errors are listed in etcd's `etcdserver/api/v3rpc/rpctypes/error.go`.
    public enum Code {
        public static let ok = 0
        public static let cancelled = 1
        public static let unknown = 2
        public static let deadlineExceeded = 4
        public static let outOfRange = 11
        public static let unimplemented = 12
        public static let unavailable = 14
        public static let unauthenticated = 16
    }

    /// Whether the same read may go to another endpoint: the member could not serve it (no
    /// leader, stopping, unreachable), as clientv3's retry interceptor decides for reads.
    var isRetryableRead: Bool {
        switch self {
        case .connection: return true
        case .status(let code, _, _): return code == Code.unavailable
        case .malformedResponse, .responseTooLarge: return false
        }
    }

    public var description: String {
        switch self {
        case .status(let code, let message, let endpoint):
            return "etcd \(endpoint): \(message) (gRPC status \(code))"
        case .connection(let endpoint, let reason):
            return "etcd \(endpoint): \(reason)"
        case .malformedResponse(let problem):
            return "etcd sent a malformed reply: \(problem)"
        case .responseTooLarge(let endpoint, let bytes, let limit):
            return "etcd \(endpoint): a reply of \(bytes) bytes is over the client's limit of \(limit)"
        }
    }
}
