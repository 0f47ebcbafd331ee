import NIOCore
import NIOHTTP1

/// Header rewriting between client and backend, as a reverse proxy must (RFC 9110 §7.6.1) and as
/// ingress-nginx and Traefik do:
/// - hop-by-hop headers go: Connection and the headers it lists, Keep-Alive, Proxy-Connection and
///   every Proxy-* header (and "Proxy", the httpoxy header ingress-nginx clears), TE, Trailer,
///   Transfer-Encoding (the proxy frames each side itself), Upgrade (kept for an upgrade);
/// - X-Forwarded-For gets the client's address appended (Go's ReverseProxy and Traefik; the values
///   before it are the client's own claims); X-Forwarded-Proto, X-Forwarded-Host,
///   X-Forwarded-Port and X-Real-IP are set, replacing what the client sent (ingress-nginx without
///   use-forwarded-headers);
/// - Host passes through unchanged, as does the request target; Expect is answered by the proxy.
///
/// Fields are compared and copied as bytes (`HeaderFields`): this runs for every request and response.
enum ForwardedHeaders {
    /// How a request reaches the proxy.
    struct Origin {
        let clientAddress: String
        /// "http" or "https".
        let scheme: String
        let port: String
        let isHTTP2: Bool
    }

    /// A request as it goes to the backend, and whether its body is framed by the client
    /// (content-length or chunked); without framing an HTTP/1 request has no body, and an HTTP/2
    /// one has a body when DATA follows.
    static func request(_ head: ProxyRequestHead, origin: Origin, upgrade: Bool) -> (head: ProxyRequestHead, framed: Bool) {
        var fields = HeaderFields(capacity: head.fields.wireLength + 128 + 2 * origin.clientAddress.utf8.count,
                                  count: head.fields.count + 8)
        let framed = request(head, origin: origin, upgrade: upgrade, into: &fields)
        return (ProxyRequestHead(method: head.method, uri: head.uri, version: .http1_1, fields: fields), framed)
    }

    /// The forwarded request's fields, added to `fields` (empty, built fields a caller may reuse);
    /// returns whether the body is framed by the client.
    static func request(_ head: ProxyRequestHead, origin: Origin, upgrade: Bool, into fields: inout HeaderFields) -> Bool {
        let listed = connectionTokens(head.fields)
        var forwardedFor: String?
        var hasContentLength = false
        var chunked = false
        var upgradeValue: String?
        var hostIndex: Int?
        var cookies: [String] = []
        var index = -1
        head.fields.forEach { name, value in
            index += 1
            if isHopByHop(name) {
                if HeaderFields.equalsIgnoringCase(name, "transfer-encoding") {
                    chunked = true
                } else if upgrade, HeaderFields.equalsIgnoringCase(name, "upgrade") {
                    upgradeValue = String(decoding: value, as: UTF8.self)
                }
                return
            }
            if !listed.isEmpty, listed.contains(where: { HeaderFields.equalsIgnoringCase(name, token: $0) }) { return }
            if name.count >= 9, HeaderFields.hasPrefixIgnoringCase(name, "x-") {
                if HeaderFields.equalsIgnoringCase(name, "x-forwarded-for") {
                    let claim = String(decoding: value, as: UTF8.self)
                    forwardedFor = forwardedFor.map { $0 + ", " + claim } ?? claim
                    return
                }
                if HeaderFields.equalsIgnoringCase(name, "x-forwarded-proto") || HeaderFields.equalsIgnoringCase(name, "x-forwarded-host")
                    || HeaderFields.equalsIgnoringCase(name, "x-forwarded-port") || HeaderFields.equalsIgnoringCase(name, "x-real-ip") {
                    return
                }
            }
            switch name.count {
            case 14 where HeaderFields.equalsIgnoringCase(name, "content-length"):
                hasContentLength = true
            case 4 where HeaderFields.equalsIgnoringCase(name, "host"):
                if hostIndex == nil { hostIndex = index }
            case 6 where HeaderFields.equalsIgnoringCase(name, "expect"):
                // The proxy answers "Expect: 100-continue" itself (as nginx does) once it has a
                // backend for the request; the backend gets the body without asking.
                return
            case 6 where origin.isHTTP2 && HeaderFields.equalsIgnoringCase(name, "cookie"):
                // HTTP/2 may split cookies into several fields; HTTP/1.1 wants one (RFC 9113 §8.2.3).
                cookies.append(String(decoding: value, as: UTF8.self))
                return
            default:
                break
            }
            fields.add(name: name, value: value)
        }
        if !cookies.isEmpty { fields.add(name: "cookie", value: cookies.joined(separator: "; ")) }
        fields.add(name: "x-forwarded-for", value: forwardedFor.map { $0 + ", " + origin.clientAddress } ?? origin.clientAddress)
        fields.add(name: "x-forwarded-proto", value: origin.scheme)
        if let hostIndex { fields.add(name: "x-forwarded-host", valueOf: hostIndex, in: head.fields) }
        fields.add(name: "x-forwarded-port", value: origin.port)
        fields.add(name: "x-real-ip", value: origin.clientAddress)
        if upgrade, let upgradeValue {
            fields.add(name: "connection", value: "upgrade")
            fields.add(name: "upgrade", value: upgradeValue)
        }
        if chunked, !hasContentLength {
            fields.add(name: "transfer-encoding", value: "chunked")
        }
        return hasContentLength || chunked
    }

    /// How a response must be framed towards the client.
    struct ResponseFraming {
        /// The client connection closes after this response (HTTP/1.0 without a length, or the
        /// client asked to close).
        var closeAfter: Bool
        /// No body goes to the client (HEAD, 1xx, 204, 304).
        var bodyless: Bool
    }

    /// A backend response as it goes to the client.
    static func response(_ head: ProxyResponseHead, requestMethod: HTTPMethod, clientVersion: HTTPVersion,
                         clientKeepAlive: Bool, isHTTP2: Bool) -> (head: ProxyResponseHead, framing: ResponseFraming) {
        var fields = HeaderFields(capacity: head.fields.wireLength + 48, count: head.fields.count + 2)
        let framing = response(head, requestMethod: requestMethod, clientVersion: clientVersion, clientKeepAlive: clientKeepAlive,
                               isHTTP2: isHTTP2, into: &fields)
        return (ProxyResponseHead(version: isHTTP2 ? .http1_1 : clientVersion, status: head.status, fields: fields), framing)
    }

    /// The response's fields as they go to the client, added to `fields` (empty, built fields a
    /// caller may reuse), and its framing.
    static func response(_ head: ProxyResponseHead, requestMethod: HTTPMethod, clientVersion: HTTPVersion,
                         clientKeepAlive: Bool, isHTTP2: Bool, into fields: inout HeaderFields) -> ResponseFraming {
        let listed = connectionTokens(head.fields)
        let code = head.status.code
        // A 1xx or 204 has no content-length (RFC 9110 §8.6).
        let dropLength = code < 200 || code == 204
        var hasContentLength = false
        head.fields.forEach { name, value in
            if isHopByHop(name) { return }
            if !listed.isEmpty, listed.contains(where: { HeaderFields.equalsIgnoringCase(name, token: $0) }) { return }
            if name.count == 14, HeaderFields.equalsIgnoringCase(name, "content-length") {
                if dropLength { return }
                hasContentLength = true
            }
            fields.add(name: name, value: value)
        }
        let statusBodyless = code < 200 || code == 204 || code == 304
        let bodyless = statusBodyless || requestMethod == .HEAD
        var closeAfter = !clientKeepAlive
        if !isHTTP2, !bodyless, !hasContentLength {
            if clientVersion.major == 1, clientVersion.minor >= 1 {
                fields.add(name: "transfer-encoding", value: "chunked")
            } else {
                // An HTTP/1.0 client knows no chunking: the end of the body is the end of the connection.
                closeAfter = true
            }
        }
        if !isHTTP2 {
            if closeAfter {
                fields.add(name: "connection", value: "close")
            } else if clientVersion.major == 1, clientVersion.minor == 0 {
                fields.add(name: "connection", value: "keep-alive")
            }
        }
        return ResponseFraming(closeAfter: closeAfter, bodyless: bodyless)
    }

    /// A backend's 101 as it goes to the client: the upgrade headers stay, other hop-by-hop go.
    static func upgradeResponse(_ head: ProxyResponseHead, clientVersion: HTTPVersion) -> ProxyResponseHead {
        let listed = connectionTokens(head.fields)
        var fields = HeaderFields(capacity: head.fields.wireLength + 48)
        head.fields.forEach { name, value in
            if HeaderFields.equalsIgnoringCase(name, "upgrade") || HeaderFields.equalsIgnoringCase(name, "connection") { return }
            if isHopByHop(name) { return }
            if !listed.isEmpty, listed.contains(where: { HeaderFields.equalsIgnoringCase(name, token: $0) && $0 != "upgrade" }) { return }
            fields.add(name: name, value: value)
        }
        fields.add(name: "connection", value: "upgrade")
        if let index = head.fields.firstIndex("upgrade") { fields.add(name: "upgrade", valueOf: index, in: head.fields) }
        return ProxyResponseHead(version: clientVersion, status: head.status, fields: fields)
    }

    /// Whether an HTTP/1.1 client waits for "100 Continue" before sending its body.
    static func expectsContinue(_ head: ProxyRequestHead) -> Bool {
        guard head.version == .http1_1, let index = head.fields.firstIndex("expect") else { return false }
        return head.fields.value(at: index).lowercased() == "100-continue"
    }

    /// The lowercased tokens of the Connection headers, without "close" and "keep-alive" (headers
    /// of those names go anyway).
    static func connectionTokens(_ fields: HeaderFields) -> [String] {
        var tokens: [String] = []
        fields.forEach { name, value in
            guard HeaderFields.equalsIgnoringCase(name, "connection") else { return }
            HeaderFields.forEachItem(value) { token in
                // The usual values allocate nothing.
                if HeaderFields.equalsIgnoringCase(token, "close") || HeaderFields.equalsIgnoringCase(token, "keep-alive") { return }
                tokens.append(String(decoding: token.map(HeaderFields.lower), as: UTF8.self))
            }
        }
        return tokens
    }

    /// Hop-by-hop header names (RFC 9110 §7.6.1, plus the Proxy-* family and Keep-Alive).
    static func isHopByHop(_ name: UnsafeRawBufferPointer) -> Bool {
        switch name.count {
        case 2: return HeaderFields.equalsIgnoringCase(name, "te")
        case 5: return HeaderFields.equalsIgnoringCase(name, "proxy")
        case 7: return HeaderFields.equalsIgnoringCase(name, "trailer") || HeaderFields.equalsIgnoringCase(name, "upgrade")
        case 10: return HeaderFields.equalsIgnoringCase(name, "connection") || HeaderFields.equalsIgnoringCase(name, "keep-alive")
            || HeaderFields.hasPrefixIgnoringCase(name, "proxy-")
        case 17: return HeaderFields.equalsIgnoringCase(name, "transfer-encoding") || HeaderFields.hasPrefixIgnoringCase(name, "proxy-")
        default: return name.count > 6 && HeaderFields.hasPrefixIgnoringCase(name, "proxy-")
        }
    }
}
