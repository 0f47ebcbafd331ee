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
    static func request(_ head: HTTPRequestHead, origin: Origin, upgrade: Bool)
        -> (head: HTTPRequestHead, framed: Bool) {
        let listed = connectionTokens(head.headers)
        var headers = HTTPHeaders()
        headers.reserveCapacity(head.headers.count + 6)
        var forwardedFor: String?
        var hasContentLength = false
        var chunked = false
        var upgradeValue: String?
        var host: String?
        var cookies: [String] = []
        for (name, value) in head.headers {
            if isHopByHop(name) {
                if equalsIgnoringCase(name, "transfer-encoding") {
                    chunked = true
                } else if upgrade, equalsIgnoringCase(name, "upgrade") {
                    upgradeValue = value
                }
                continue
            }
            if !listed.isEmpty, listed.contains(where: { equalsIgnoringCase(name, token: $0) }) { continue }
            if name.utf8.count >= 9, hasPrefixIgnoringCase(name, "x-") {
                if equalsIgnoringCase(name, "x-forwarded-for") {
                    forwardedFor = forwardedFor.map { $0 + ", " + value } ?? value
                    continue
                }
                if equalsIgnoringCase(name, "x-forwarded-proto") || equalsIgnoringCase(name, "x-forwarded-host")
                    || equalsIgnoringCase(name, "x-forwarded-port") || equalsIgnoringCase(name, "x-real-ip") {
                    continue
                }
            }
            if equalsIgnoringCase(name, "content-length") { hasContentLength = true }
            if equalsIgnoringCase(name, "host") { host = value }
            // The proxy answers "Expect: 100-continue" itself (as nginx does) once it has a
            // backend for the request; the backend gets the body without asking.
            if equalsIgnoringCase(name, "expect") { continue }
            if origin.isHTTP2, equalsIgnoringCase(name, "cookie") {
                // HTTP/2 may split cookies into several fields; HTTP/1.1 wants one (RFC 9113 §8.2.3).
                cookies.append(value)
                continue
            }
            headers.add(name: name, value: value)
        }
        if !cookies.isEmpty { headers.add(name: "cookie", value: cookies.joined(separator: "; ")) }
        headers.add(name: "x-forwarded-for", value: forwardedFor.map { $0 + ", " + origin.clientAddress } ?? origin.clientAddress)
        headers.add(name: "x-forwarded-proto", value: origin.scheme)
        if let host { headers.add(name: "x-forwarded-host", value: host) }
        headers.add(name: "x-forwarded-port", value: origin.port)
        headers.add(name: "x-real-ip", value: origin.clientAddress)
        if upgrade, let upgradeValue {
            headers.add(name: "connection", value: "upgrade")
            headers.add(name: "upgrade", value: upgradeValue)
        }
        if chunked, !hasContentLength {
            headers.add(name: "transfer-encoding", value: "chunked")
        }
        var forwarded = HTTPRequestHead(version: .http1_1, method: head.method, uri: head.uri, headers: headers)
        forwarded.version = .http1_1
        return (forwarded, hasContentLength || chunked)
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
    static func response(_ head: HTTPResponseHead, requestMethod: HTTPMethod, clientVersion: HTTPVersion,
                         clientKeepAlive: Bool, isHTTP2: Bool) -> (head: HTTPResponseHead, framing: ResponseFraming) {
        let listed = connectionTokens(head.headers)
        var headers = HTTPHeaders()
        headers.reserveCapacity(head.headers.count + 1)
        var hasContentLength = false
        for (name, value) in head.headers {
            if isHopByHop(name) { continue }
            if !listed.isEmpty, listed.contains(where: { equalsIgnoringCase(name, token: $0) }) { continue }
            if equalsIgnoringCase(name, "content-length") {
                hasContentLength = true
            }
            headers.add(name: name, value: value)
        }
        let code = head.status.code
        let statusBodyless = code < 200 || code == 204 || code == 304
        if code < 200 || code == 204 { headers.remove(name: "content-length") }
        let bodyless = statusBodyless || requestMethod == .HEAD
        var closeAfter = !clientKeepAlive
        if !isHTTP2, !bodyless, !hasContentLength {
            if clientVersion.major == 1, clientVersion.minor >= 1 {
                headers.add(name: "transfer-encoding", value: "chunked")
            } else {
                // An HTTP/1.0 client knows no chunking: the end of the body is the end of the connection.
                closeAfter = true
            }
        }
        if !isHTTP2 {
            if closeAfter {
                headers.add(name: "connection", value: "close")
            } else if clientVersion.major == 1, clientVersion.minor == 0 {
                headers.add(name: "connection", value: "keep-alive")
            }
        }
        let version = isHTTP2 ? HTTPVersion.http1_1 : clientVersion
        return (HTTPResponseHead(version: version, status: head.status, headers: headers),
                ResponseFraming(closeAfter: closeAfter, bodyless: bodyless))
    }

    /// A backend's 101 as it goes to the client: the upgrade headers stay, other hop-by-hop go.
    static func upgradeResponse(_ head: HTTPResponseHead, clientVersion: HTTPVersion) -> HTTPResponseHead {
        let listed = connectionTokens(head.headers)
        var headers = HTTPHeaders()
        for (name, value) in head.headers {
            if equalsIgnoringCase(name, "upgrade") || equalsIgnoringCase(name, "connection") {
                continue
            }
            if isHopByHop(name) { continue }
            if !listed.isEmpty, listed.contains(where: { equalsIgnoringCase(name, token: $0) && $0 != "upgrade" }) { continue }
            headers.add(name: name, value: value)
        }
        headers.add(name: "connection", value: "upgrade")
        if let upgrade = head.headers.first(name: "upgrade") { headers.add(name: "upgrade", value: upgrade) }
        return HTTPResponseHead(version: clientVersion, status: head.status, headers: headers)
    }

    /// Whether an HTTP/1.1 client waits for "100 Continue" before sending its body.
    static func expectsContinue(_ head: HTTPRequestHead) -> Bool {
        guard head.version == .http1_1, let expect = head.headers.first(name: "expect") else { return false }
        return equalsIgnoringCase(expect, "100-continue")
    }

    /// Whether a request asks for a protocol upgrade (HTTP/1.1 "Connection: upgrade" and an
    /// Upgrade header, as WebSocket's handshake sends).
    static func isUpgradeRequest(_ head: HTTPRequestHead) -> Bool {
        guard head.version == .http1_1, head.headers.contains(name: "upgrade") else { return false }
        return connectionTokens(head.headers).contains { $0 == "upgrade" }
    }

    /// The lowercased tokens of the Connection headers, without "close", "keep-alive" and
    /// "upgrade" (headers of those names go anyway).
    static func connectionTokens(_ headers: HTTPHeaders) -> [String] {
        var tokens: [String] = []
        for value in headers[canonicalForm: "connection"] {
            let token = value.trimmingSpaces().lowercased()
            if token.isEmpty || token == "close" || token == "keep-alive" { continue }
            tokens.append(token)
        }
        return tokens
    }

    /// Hop-by-hop header names (RFC 9110 §7.6.1, plus the Proxy-* family and Keep-Alive).
    static func isHopByHop(_ name: String) -> Bool {
        switch name.utf8.count {
        case 2: return equalsIgnoringCase(name, "te")
        case 5: return equalsIgnoringCase(name, "proxy")
        case 7: return equalsIgnoringCase(name, "trailer") || equalsIgnoringCase(name, "upgrade")
        case 10: return equalsIgnoringCase(name, "connection") || equalsIgnoringCase(name, "keep-alive")
            || hasPrefixIgnoringCase(name, "proxy-")
        case 17: return equalsIgnoringCase(name, "transfer-encoding") || hasPrefixIgnoringCase(name, "proxy-")
        default: return name.utf8.count > 6 && hasPrefixIgnoringCase(name, "proxy-")
        }
    }

    /// ASCII case-insensitive equality with a lowercase literal, without allocating.
    @inline(__always)
    static func equalsIgnoringCase(_ name: String, _ lowercase: StaticString) -> Bool {
        name.utf8.count == lowercase.utf8CodeUnitCount && hasPrefixIgnoringCase(name, lowercase)
    }

    @inline(__always)
    static func hasPrefixIgnoringCase(_ name: String, _ lowercase: StaticString) -> Bool {
        let count = lowercase.utf8CodeUnitCount
        let literal = lowercase.utf8Start
        if let result = name.utf8.withContiguousStorageIfAvailable({ bytes -> Bool in
            guard bytes.count >= count else { return false }
            for index in 0..<count where lower(bytes[index]) != literal[index] { return false }
            return true
        }) {
            return result
        }
        // A bridged or otherwise non-contiguous string (not what NIO's parser makes).
        var iterator = name.utf8.makeIterator()
        for index in 0..<count {
            guard let byte = iterator.next(), lower(byte) == literal[index] else { return false }
        }
        return true
    }

    /// Equality with a lowercase token (a Connection header's), for names it lists.
    static func equalsIgnoringCase(_ name: String, token: String) -> Bool {
        let a = name.utf8, b = token.utf8
        guard a.count == b.count else { return false }
        return zip(a, b).allSatisfy { lower($0) == $1 }
    }

    @inline(__always)
    private static func lower(_ byte: UInt8) -> UInt8 {
        byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte | 0x20 : byte
    }
}

extension Substring {
    /// The text without leading and trailing spaces and tabs.
    func trimmingSpaces() -> Substring {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        guard let start = firstIndex(where: { !isSpace($0) }), let end = lastIndex(where: { !isSpace($0) }) else { return "" }
        return self[start...end]
    }
}
