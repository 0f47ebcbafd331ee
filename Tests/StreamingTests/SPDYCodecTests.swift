import NIOCore
import Testing
@testable import Streaming

/// SPDY/3 frames and header blocks. The compressed blocks below were made by CPython's zlib
/// with the SPDY/3 dictionary (`zlib.compressobj(9, zdict=...)`, a sync flush after each), as
/// spdystream writes them: two blocks of one session, the second relying on the first's state.
@Suite struct SPDYCodecTests {
    static let errorStreamBlock: [UInt8] = [
        120, 249, 227, 198, 167, 194, 2, 37, 58, 112, 58, 43, 41, 74, 77, 204, 133, 22, 37, 172, 169, 160, 128, 134, 20, 203,
        69, 224, 28, 96, 97, 96, 97, 0, 164, 57, 139, 32, 209, 152, 9, 74, 222, 140, 6, 0, 0, 0, 0, 255, 255,
    ]
    static let dataStreamBlock: [UInt8] = [194, 170, 25, 84, 14, 37, 18, 214, 11, 0, 0, 0, 255, 255]

    @Test func headerBlocksOfAnotherZlibDecodeInOrder() throws {
        let codec = try SPDYHeaderCodec()
        let first = try codec.decode(ByteBuffer(bytes: Self.errorStreamBlock))
        #expect(first.map { "\($0.name)=\($0.value)" } == ["streamtype=error", "port=8080", "requestid=0"])
        let second = try codec.decode(ByteBuffer(bytes: Self.dataStreamBlock))
        #expect(second.map { "\($0.name)=\($0.value)" } == ["streamtype=data", "port=8080", "requestid=0"])
        // Out of order, the second block does not decode: the state is the session's.
        #expect(throws: SPDYProtocolError.self) { try SPDYHeaderCodec().decode(ByteBuffer(bytes: Self.dataStreamBlock)) }
    }

    @Test func ourBlocksDecodeAndJoinRepeatedNames() throws {
        let sender = try SPDYHeaderCodec(), receiver = try SPDYHeaderCodec()
        for round in 0..<3 {
            let block = try sender.encode([("X-Stream-Protocol-Version", "v4.channel.k8s.io"), ("x-stream-protocol-version", "v3.channel.k8s.io"),
                                           ("round", "\(round)")])
            let pairs = try receiver.decode(block)
            #expect(pairs.map { "\($0.name)=\($0.value)" } == ["x-stream-protocol-version=v4.channel.k8s.io",
                                                               "x-stream-protocol-version=v3.channel.k8s.io", "round=\(round)"])
        }
        #expect(throws: SPDYProtocolError.self) { try receiver.decode(ByteBuffer(bytes: [1, 2, 3, 4, 5])) }
    }

    @Test func framesRoundTripInPieces() throws {
        let frames: [SPDYFrame] = [
            .synStream(streamID: 1, associatedTo: 0, priority: 0, fin: false, unidirectional: false,
                       headerBlock: ByteBuffer(bytes: Self.errorStreamBlock)),
            .synReply(streamID: 1, fin: false, headerBlock: ByteBuffer(bytes: [1, 2])),
            .data(streamID: 3, fin: false, payload: ByteBuffer(string: "hello")),
            .data(streamID: 3, fin: true, payload: ByteBuffer()),
            .rstStream(streamID: 5, status: SPDYFrame.Status.cancel),
            .ping(id: 7), .goAway(lastGoodStreamID: 5, status: 0), .windowUpdate(streamID: 1, delta: 4096),
        ]
        var bytes = ByteBuffer()
        for frame in frames { frame.write(into: &bytes) }
        var parser = SPDYFrameParser()
        var parsed: [SPDYFrame] = []
        while bytes.readableBytes > 0 {
            parser.append(bytes.readSlice(length: min(5, bytes.readableBytes))!)
            while let frame = try parser.next() { parsed.append(frame) }
        }
        #expect(parsed == frames)
    }

    @Test func hostileFramesAreRefused() {
        func fails(_ bytes: [UInt8]) -> String? {
            var parser = SPDYFrameParser(maxDataLength: 1024, maxControlLength: 256)
            parser.append(ByteBuffer(bytes: bytes))
            do { _ = try parser.next(); return nil } catch { return error.message }
        }
        // A 16 MiB data frame announced: refused before its payload.
        #expect(fails([0, 0, 0, 1, 0, 0xFF, 0xFF, 0xFF]) == "a data frame of 16777215 bytes is over the limit of 1024")
        #expect(fails([0x80, 2, 0, 1, 0, 0, 0, 10] + [UInt8](repeating: 0, count: 10)) == "SPDY version 2 (only 3 is spoken)")
        #expect(fails([0, 0, 0, 0, 0, 0, 0, 0]) == "a data frame on stream 0")
        #expect(fails([0x80, 3, 0, 3, 0, 0, 0, 4, 0, 0, 0, 1]) == "a control frame of type 3 is 4 bytes, too short")
        // An unknown control type is skipped, as the draft says.
        var parser = SPDYFrameParser()
        parser.append(ByteBuffer(bytes: [0x80, 3, 0, 0x42, 0, 0, 0, 2, 9, 9]))
        #expect((try? parser.next()) == .unknown(type: 0x42))
    }
}
