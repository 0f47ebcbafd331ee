import NIOCore
import NIOHTTP1

/// The proxy's own answers: short plain-text bodies, like ingress-nginx's default backend and
/// Traefik's ("404 page not found").
enum LocalResponse {
    static func body(_ status: HTTPResponseStatus) -> String {
        switch status {
        case .notFound: return "404 page not found\n"
        case .badRequest: return "400 bad request\n"
        case .requestHeaderFieldsTooLarge: return "431 request header fields too large\n"
        case .badGateway: return "502 bad gateway\n"
        case .serviceUnavailable: return "503 service unavailable\n"
        case .gatewayTimeout: return "504 gateway timeout\n"
        default: return "\(status.code) \(status.reasonPhrase.lowercased())\n"
        }
    }

    /// Head, body and end of a local response. `close` adds "connection: close" (HTTP/1 only).
    static func parts(_ status: HTTPResponseStatus, version: HTTPVersion, close: Bool, isHTTP2: Bool = false,
                      headOnly: Bool = false, allocator: ByteBufferAllocator) -> [ProxyResponsePart] {
        let text = body(status)
        var fields = HeaderFields(capacity: 96)
        fields.add(name: "content-type", value: "text/plain; charset=utf-8")
        fields.add(name: "content-length", value: String(text.utf8.count))
        if !isHTTP2 {
            if close {
                fields.add(name: "connection", value: "close")
            } else if version.minor == 0 {
                fields.add(name: "connection", value: "keep-alive")
            }
        }
        let head = ProxyResponseHead(version: isHTTP2 ? .http1_1 : version, status: status, fields: fields)
        if headOnly { return [.head(head), .end(nil)] }
        return [.head(head), .body(allocator.buffer(string: text)), .end(nil)]
    }
}
