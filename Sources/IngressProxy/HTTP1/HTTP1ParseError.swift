/// Why bytes are not an HTTP/1 message the proxy accepts.
enum HTTP1ParseError: Error, Equatable, CustomStringConvertible {
    /// A line or the whole head is over the limits: 431 for a client (nginx answers 414 or 400).
    case headTooLarge
    /// Not HTTP/1.x as RFC 9112 has it: 400 for a client, 502 from a backend.
    case malformed(String)
    /// The connection ended inside a message.
    case incomplete

    var description: String {
        switch self {
        case .headTooLarge: return "header too large"
        case .malformed(let reason): return "malformed HTTP/1 message: \(reason)"
        case .incomplete: return "the connection ended inside a message"
        }
    }
}

/// Size limits of a message head.
struct HTTP1Limits: Sendable {
    /// Longest line, start line included (nginx large_client_header_buffers: 8k).
    var maxLine: Int
    /// Largest head in all.
    var maxHead: Int

    /// A backend's response head (nginx proxy_buffer_size is 4k or 8k and answers 502 beyond it;
    /// the proxy is more lenient, and still bounded).
    static let backendResponse = HTTP1Limits(maxLine: 64 * 1024, maxHead: 64 * 1024)
}
