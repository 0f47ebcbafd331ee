@testable import IngressProxy
import NIOCore
import NIOHTTP1
import Testing

/// The proxy's own HTTP/1 parser, body framing and writer, byte by byte; the decoders around them
/// are exercised through real sockets in ProxyTrafficTests and HostileInputTests.
@Suite struct HTTP1CodecTests {
    static let limits = HTTP1Limits(maxLine: 8 * 1024, maxHead: 32 * 1024)

    static func buffer(_ text: String) -> ByteBuffer { ByteBuffer(string: text) }

    static func request(_ text: String, limits: HTTP1Limits = limits) throws -> ParsedHead<(HTTPMethod, String, HTTPVersion)>? {
        try HTTP1HeadParser.request(buffer(text), limits: limits)
    }

    @Test func aRequestHeadKeepsItsFieldsAsBytes() throws {
        let text = "\r\nGET /a?b=1 HTTP/1.1\r\nHost: www.letschat.com\r\nX-Odd:  two  words \t\nConnection: keep-alive, Upgrade\r\nUpgrade: websocket\r\n\r\nbody"
        let head = try #require(try Self.request(text))
        #expect(head.startLine.0 == .GET && head.startLine.1 == "/a?b=1" && head.startLine.2 == .http1_1)
        #expect(head.fields.count == 4)
        #expect(head.fields.first("host") == "www.letschat.com")
        #expect(head.fields.first("x-odd") == "two  words", "a value loses the spaces around it only")
        #expect(head.fields.name(at: 1) == "X-Odd", "names keep their case")
        #expect(head.framing.connectionUpgrade && head.framing.hasUpgradeField && head.framing.connectionKeepAlive)
        #expect(head.length == text.utf8.count - 4, "the head ends before the body")
    }

    @Test func aHeadThatHasNotAllArrivedIsNil() throws {
        let text = "POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n"
        for end in 0..<text.utf8.count {
            let prefix = String(decoding: Array(text.utf8)[0..<end], as: UTF8.self)
            #expect(try Self.request(prefix) == nil, "\(prefix.debugDescription)")
        }
        let head = try #require(try Self.request(text))
        #expect(head.framing.contentLength == 5 && head.startLine.0 == .POST)
    }

    static let malformedRequests = [
        "GARBAGE\r\n\r\n",
        "GET / HTTP/2.0\r\n\r\n",
        "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
        "GET  / HTTP/1.1\r\nHost: a\r\n\r\n",
        "G(T / HTTP/1.1\r\nHost: a\r\n\r\n",
        "GET / HTTP/1.1\r\nHost : a\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n",
        "GET / HTTP/1.1\r\n: nameless\r\n\r\n",
        "GET / HTTP/1.1\r\nHost a\r\n\r\n",
        "GET / HTTP/1.1\r\nX: a\u{0}b\r\n\r\n",
        "GET / HTTP/1.1\r\nX: a\rb\r\n\r\n",
        "GET / HTTP/1.1\r\nX: a\u{7f}\r\n\r\n",
        "GET /a\u{1}b HTTP/1.1\r\n\r\n",
        "GET / HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
        "GET / HTTP/1.1\r\nContent-Length: 1x\r\n\r\n",
        "GET / HTTP/1.1\r\nContent-Length: 5, 6\r\n\r\n",
        "GET / HTTP/1.1\r\nContent-Length: 5,,5\r\n\r\n",
        "GET / HTTP/1.1\r\nContent-Length: \r\n\r\n",
        "GET / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
        "GET / HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n",
        String(repeating: "\r\n", count: 20) + "GET / HTTP/1.1\r\n\r\n",
    ]

    @Test("hostile request heads are refused with a reason", arguments: malformedRequests)
    func malformedRequestHeads(_ text: String) {
        #expect(throws: HTTP1ParseError.self, "\(text.debugDescription)") { try Self.request(text) }
        #expect((try? Self.request(text)) == nil)
    }

    @Test func oversizedLinesAndHeadsAre431EvenBeforeTheyEnd() throws {
        let longLine = "GET / HTTP/1.1\r\nX: " + String(repeating: "a", count: 9000)
        #expect(throws: HTTP1ParseError.headTooLarge) { try Self.request(longLine) }
        #expect(throws: HTTP1ParseError.headTooLarge) { try Self.request(longLine + "\r\n\r\n") }
        #expect(throws: HTTP1ParseError.headTooLarge) { try Self.request("GET /" + String(repeating: "a", count: 10000) + " HTTP/1.1\r\n\r\n") }
        let many = "GET / HTTP/1.1\r\n" + (0..<40).map { "X-\($0): " + String(repeating: "b", count: 990) + "\r\n" }.joined()
        #expect(throws: HTTP1ParseError.headTooLarge) { try Self.request(many) }
        #expect(throws: HTTP1ParseError.headTooLarge) { try Self.request(many + "\r\n") }
        let fits = "GET / HTTP/1.1\r\nX: " + String(repeating: "a", count: 7000) + "\r\n\r\n"
        #expect(try Self.request(fits) != nil)
    }

    @Test func requestBodiesAreFramedOnlyWhenThatIsUnambiguous() throws {
        func framer(_ fields: String) throws -> HTTP1BodyFramer? {
            let head = try #require(try Self.request("POST / HTTP/1.1\r\n\(fields)\r\n"))
            return try HTTP1BodyFramer.forRequest(head.framing, limits: Self.limits)
        }
        #expect(try framer("Content-Length: 5, 5\r\n")?.state == .length(remaining: 5), "one length said twice")
        #expect(try framer("Content-Length: 0\r\n") == nil)
        #expect(try framer("") == nil, "no framing, no body")
        #expect(try framer("Transfer-Encoding: gzip, chunked\r\n")?.state == .chunkSize)
        for smuggled in ["Transfer-Encoding: chunked\r\nContent-Length: 5\r\n", "Transfer-Encoding: gzip\r\n",
                         "Transfer-Encoding: chunked, gzip\r\n", "Transfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n"] {
            #expect(throws: HTTP1ParseError.self, "\(smuggled.debugDescription)") { try framer(smuggled) }
        }
    }

    @Test func responseStatusLines() throws {
        func status(_ line: String) throws -> (HTTPVersion, HTTPResponseStatus)? {
            try HTTP1HeadParser.response(Self.buffer(line + "\r\nContent-Length: 0\r\n\r\n"), limits: .backendResponse)?.startLine
        }
        #expect(try status("HTTP/1.1 200 OK")?.1 == .ok)
        #expect(try status("HTTP/1.0 204")?.1 == .noContent, "a status line without a reason phrase")
        #expect(try status("HTTP/1.1 299 Odd Thing")?.1.reasonPhrase == "Odd Thing", "an unknown code keeps its reason")
        #expect(try status("HTTP/1.1 404 Whatever")?.1.reasonPhrase == "Not Found", "a known code gets the standard reason")
        for bad in ["HTTP/1.1 2000 OK", "HTTP/1.1 20x OK", "HTTP/1.1 099 Low", "HTTP/2 200 OK", "ICY 200 OK", "HTTP/1.1"] {
            #expect(throws: HTTP1ParseError.self, "\(bad)") { try status(bad) }
        }
    }

    /// Feeds `wire` to a framer in pieces of `step` bytes; returns the body and the trailers.
    static func frame(_ wire: String, _ state: HTTP1BodyFramer.State, step: Int) throws -> (String, HeaderFields?, Bool) {
        var framer = HTTP1BodyFramer(state, limits: limits)
        var pending = ByteBuffer()
        var body = ""
        let bytes = Array(wire.utf8)
        var offset = 0
        while offset < bytes.count {
            pending.writeBytes(bytes[offset..<min(offset + step, bytes.count)])
            offset += step
            while let event = try framer.next(&pending) {
                switch event {
                case .body(let part): body += String(buffer: part)
                case .end(let trailers): return (body, trailers?.fields, true)
                }
            }
        }
        return (body, nil, false)
    }

    @Test func chunkedBodiesLoseTheirFramingWhereverTheBytesAreCut() throws {
        let wire = "5;ext=1\r\nhello\r\n1A\r\n" + String(repeating: "x", count: 26) + "\r\n0\r\nX-Checksum: abc\r\n\r\nNEXT"
        for step in [1, 2, 3, 7, 100] {
            let (body, trailers, ended) = try Self.frame(wire, .chunkSize, step: step)
            #expect(ended && body == "hello" + String(repeating: "x", count: 26), "step \(step)")
            #expect(trailers?.first("x-checksum") == "abc")
        }
        let (plain, none, ended) = try Self.frame("0\n\n", .chunkSize, step: 1)
        #expect(ended && plain.isEmpty && none == nil, "bare LF line ends")
    }

    @Test("hostile chunk framing is refused", arguments: [
        "zz\r\n", "-1\r\n", "1000000000000000\r\n", ";ext\r\n", "5\r\nhelloXX", "5\r\nhello\r\n0\r\nX : y\r\n\r\n",
        String(repeating: "0", count: 9000),
    ])
    func hostileChunks(_ wire: String) {
        #expect(throws: HTTP1ParseError.self) { try Self.frame(wire, .chunkSize, step: 4096) }
    }

    @Test func aBodyToTheCloseEndsThereAndAnyOtherIsCutShort() throws {
        var untilClose = HTTP1BodyFramer(.untilClose, limits: Self.limits)
        var bytes = ByteBuffer(string: "all of it")
        guard case .body(let part) = try untilClose.next(&bytes) else { Issue.record("no body"); return }
        #expect(String(buffer: part) == "all of it")
        guard case .end = try untilClose.finish() else { Issue.record("no end"); return }
        var short = HTTP1BodyFramer(.length(remaining: 10), limits: Self.limits)
        var few = ByteBuffer(string: "four")
        _ = try short.next(&few)
        #expect(throws: HTTP1ParseError.incomplete) { try short.finish() }
    }

    @Test func theWriterFramesWhatTheHeadSays() throws {
        func written(_ parts: [ProxyResponsePart]) -> String {
            var writer = HTTP1MessageWriter()
            var out = ""
            for part in parts {
                writer.write(part, allocator: ByteBufferAllocator(), promise: nil) { buffer, _ in out += String(buffer: buffer) }
            }
            return out
        }
        var chunked = HeaderFields()
        chunked.add(name: "Content-Type", value: "text/plain")
        chunked.add(name: "transfer-encoding", value: "chunked")
        let big = String(repeating: "y", count: 5000)
        let head = ProxyResponseHead(version: .http1_1, status: .ok, fields: chunked)
        #expect(written([.head(head), .body(ByteBuffer(string: "hello")), .body(ByteBuffer()), .body(ByteBuffer(string: big)), .end(nil)])
            == "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n1388\r\n\(big)\r\n0\r\n\r\n")
        var trailer = HeaderFields()
        trailer.add(name: "x-sum", value: "1")
        #expect(written([.head(head), .end(ProxyTrailers(trailer))]).hasSuffix("\r\n\r\n0\r\nx-sum: 1\r\n\r\n"))
        var length = HeaderFields()
        length.add(name: "content-length", value: "5")
        #expect(written([.head(ProxyResponseHead(version: .http1_0, status: .notFound, fields: length)), .body(ByteBuffer(string: "hello")), .end(nil)])
            == "HTTP/1.0 404 Not Found\r\ncontent-length: 5\r\n\r\nhello")
    }

    /// NIOAny carries up to 24 bytes inline; a larger part is boxed on every channel read and write.
    @Test func partsFitNIOAnyWithoutABox() {
        #expect(MemoryLayout<ProxyRequestPart>.size <= 24)
        #expect(MemoryLayout<ProxyResponsePart>.size <= 24)
    }

    @Test func forwardingDropsHopByHopFieldsAndThoseConnectionNames() throws {
        let text = "GET / HTTP/1.1\r\nHost: a.example\r\nConnection: keep-alive, X-Secret\r\nX-Secret: 1\r\nKeep-Alive: 5\r\n"
            + "Proxy-Authorization: x\r\nTE: trailers\r\nX-Forwarded-For: 10.0.0.9\r\nX-Real-IP: spoofed\r\nAccept: */*\r\n\r\n"
        let parsed = try #require(try Self.request(text))
        let head = ProxyRequestHead(method: .GET, uri: "/", version: .http1_1, fields: parsed.fields)
        let origin = ForwardedHeaders.Origin(clientAddress: "192.0.2.7", scheme: "http", port: "80", isHTTP2: false)
        let (forwarded, framed) = ForwardedHeaders.request(head, origin: origin, upgrade: false)
        #expect(!framed)
        let names = (0..<forwarded.fields.count).map { forwarded.fields.name(at: $0).lowercased() }
        #expect(names == ["host", "accept", "x-forwarded-for", "x-forwarded-proto", "x-forwarded-host", "x-forwarded-port", "x-real-ip"])
        #expect(forwarded.fields.first("x-forwarded-for") == "10.0.0.9, 192.0.2.7")
        #expect(forwarded.fields.first("x-real-ip") == "192.0.2.7")
        #expect(forwarded.fields.first("x-forwarded-host") == "a.example")
    }
}
