import NIOCore
import NIOHTTP1
import Testing
@testable import Streaming

/// RFC 6455 framing as a server reads clients (masked frames) and the handshake's answers.
@Suite struct WebSocketCodecTests {
    static func masked(_ frame: WebSocketFrame, key: [UInt8] = [0x37, 0xfa, 0x21, 0x3d]) -> ByteBuffer {
        var buffer = ByteBuffer()
        frame.writeMasked(into: &buffer, key: key)
        return buffer
    }

    @Test func rfc6455SamplesDecode() throws {
        // RFC 6455 §5.7: a masked "Hello" from a client.
        var parser = WebSocketFrameParser(maxPayload: 1024)
        parser.append(ByteBuffer(bytes: [0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58]))
        let frame = try #require(try parser.next())
        #expect(frame.fin && frame.opcode == .text && String(buffer: frame.payload) == "Hello")
        #expect(try parser.next() == nil)
        // The unmasked server form of the same frame.
        var out = ByteBuffer()
        WebSocketFrame(opcode: .text, payload: ByteBuffer(string: "Hello")).write(into: &out)
        #expect(Array(out.readableBytesView) == [0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f])
    }

    @Test func framesArriveInPiecesAndAllLengthForms() throws {
        var parser = WebSocketFrameParser(maxPayload: 1 << 20)
        let sizes = [0, 1, 125, 126, 65535, 65536, 100_003]
        var stream = ByteBuffer()
        for size in sizes {
            var frame = Self.masked(WebSocketFrame(opcode: .binary, payload: ByteBuffer(bytes: (0..<size).map { UInt8($0 & 0xff) })))
            stream.writeBuffer(&frame)
        }
        var decoded: [Int] = []
        // Fed 7 bytes at a time: every header and payload split somewhere.
        while stream.readableBytes > 0 {
            parser.append(stream.readSlice(length: min(7, stream.readableBytes))!)
            while let frame = try parser.next() {
                #expect(Array(frame.payload.readableBytesView) == (0..<frame.payload.readableBytes).map { UInt8($0 & 0xff) })
                decoded.append(frame.payload.readableBytes)
            }
        }
        #expect(decoded == sizes)
        #expect(parser.bufferedBytes == 0)
    }

    @Test func hostileFramesAreRefusedWithTheirCloseCodes() {
        func error(_ bytes: [UInt8], max: Int = 1024) -> WebSocketProtocolError? {
            var parser = WebSocketFrameParser(maxPayload: max)
            parser.append(ByteBuffer(bytes: bytes))
            do { _ = try parser.next(); return nil } catch { return error }
        }
        // Unmasked client frame, reserved bits, unknown opcode.
        #expect(error([0x82, 0x01, 0x00])?.message == "a client frame is not masked")
        #expect(error([0xC2, 0x81, 0, 0, 0, 0, 0])?.closeCode == WebSocketCloseCode.protocolError)
        #expect(error([0x83, 0x80, 0, 0, 0, 0])?.message == "unknown frame opcode 3")
        // A 1 GiB frame is refused from its header, before any payload arrives.
        let huge = error([0x82, 0xFF, 0, 0, 0, 0, 0x40, 0, 0, 0])
        #expect(huge?.closeCode == WebSocketCloseCode.tooBig, "\(String(describing: huge))")
        // A length with its top bit set; a fragmented or oversized ping.
        #expect(error([0x82, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 1]) != nil)
        #expect(error([0x09, 0x80, 0, 0, 0, 0])?.message == "a fragmented ping frame")
        #expect(error([0x89, 0xFE, 0, 126, 0, 0, 0, 0])?.message == "a ping frame of 126 bytes (at most 125)")
    }

    @Test func handshakeAnswersAndRefusals() {
        // RFC 6455 §1.3's key and accept.
        #expect(WebSocketHandshake.accept(key: "dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
        func request(_ headers: [(String, String)], method: HTTPMethod = .GET) -> UpgradeRequest {
            UpgradeRequest(head: HTTPRequestHead(version: .http1_1, method: method, uri: "/exec/ns/p/c?command=ls",
                                                 headers: HTTPHeaders(headers)),
                           upgradeProtocol: "websocket", remoteAddress: nil)
        }
        let good = [("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="), ("Sec-WebSocket-Version", "13")]
        // The client's order decides (wsstream's handshake); a comma list counts as several.
        let chosen = WebSocketHandshake.negotiate(request(good + [("Sec-WebSocket-Protocol", "v5.channel.k8s.io, v4.channel.k8s.io")]),
                                                  supported: ChannelProtocol.remoteCommand, allowUnnamed: true)
        #expect((try? chosen.get().protocol) == "v5.channel.k8s.io")
        let older = WebSocketHandshake.negotiate(request(good + [("Sec-WebSocket-Protocol", "v9.channel.k8s.io"),
                                                                 ("Sec-WebSocket-Protocol", "v4.channel.k8s.io")]),
                                                 supported: ChannelProtocol.remoteCommand, allowUnnamed: true)
        #expect((try? older.get().protocol) == "v4.channel.k8s.io")
        #expect((try? WebSocketHandshake.negotiate(request(good), supported: ChannelProtocol.remoteCommand, allowUnnamed: true).get().protocol) == "")
        func refusal(_ result: Result<(headers: [(String, String)], protocol: String), UpgradeRefusal>) -> Int? {
            if case .failure(let refusal) = result { return refusal.status }
            return nil
        }
        #expect(refusal(WebSocketHandshake.negotiate(request(good + [("Sec-WebSocket-Protocol", "chat")]),
                                                     supported: ChannelProtocol.remoteCommand, allowUnnamed: true)) == 403)
        #expect(refusal(WebSocketHandshake.negotiate(request([("Sec-WebSocket-Key", "short"), ("Sec-WebSocket-Version", "13")]),
                                                     supported: ChannelProtocol.remoteCommand, allowUnnamed: true)) == 400)
        #expect(refusal(WebSocketHandshake.negotiate(request([("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="), ("Sec-WebSocket-Version", "8")]),
                                                     supported: ChannelProtocol.remoteCommand, allowUnnamed: true)) == 426)
        #expect(refusal(WebSocketHandshake.negotiate(request(good, method: .PUT), supported: ChannelProtocol.remoteCommand, allowUnnamed: true)) == 405)
    }
}
