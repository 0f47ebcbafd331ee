import Testing
@testable import Runtime

/// The attach protocol's frames (Monitor/monitor.c's header comment), and a decoder that takes
/// the monitor's bytes in any pieces and refuses what a monitor never sends.
@Suite struct AttachFrameTests {
    @Test func framesEncodeTypeBigEndianLengthAndPayload() {
        #expect(AttachFrame(kind: .stdinEOF).encoded == [5, 0, 0, 0, 0])
        #expect(AttachFrame.resize(rows: 0x0102, columns: 300).encoded == [4, 0, 0, 0, 4, 1, 2, 1, 44])
        let big = AttachFrame.stdin([UInt8](repeating: 7, count: AttachFrame.maxInput * 2 + 5))
        #expect(big.map(\.payload.count) == [AttachFrame.maxInput, AttachFrame.maxInput, 5])
        #expect(big[0].encoded.prefix(5) == [0, 0, 0, 0x80, 0])
        #expect(AttachFrame.stdin([]).isEmpty)
    }

    @Test func decoderReassemblesFramesSplitAnywhere() throws {
        let stream = AttachFrame(kind: .stdout, payload: Array("hello".utf8)).encoded
            + AttachFrame(kind: .stderr, payload: []).encoded
            + AttachFrame(kind: .stdout, payload: [UInt8](repeating: 1, count: 70_000 / 2)).encoded
        for piece in [1, 2, 3, 5, 7, 4096] {
            var decoder = AttachFrameDecoder()
            var frames: [AttachFrame] = []
            var offset = 0
            while offset < stream.count {
                decoder.append(stream[offset..<min(offset + piece, stream.count)])
                offset += piece
                while let frame = try decoder.next() { frames.append(frame) }
            }
            #expect(frames.map(\.kind) == [.stdout, .stderr, .stdout] && frames[0].payload == Array("hello".utf8)
                    && frames[2].payload.count == 35_000 && decoder.pendingBytes == 0, "pieces of \(piece)")
        }
        var cut = AttachFrameDecoder()
        cut.append([1, 0, 0, 0, 9, 1, 2])
        #expect(try cut.next() == nil && cut.pendingBytes == 7)
    }

    @Test func decoderRefusesWhatAMonitorNeverSends() {
        for hostile: [UInt8] in [[0, 0, 0, 0, 1, 65], [4, 0, 0, 0, 4, 0, 1, 0, 1], [9, 0, 0, 0, 0], [1, 0x7F, 0xFF, 0xFF, 0xFF],
                                 [2, 0, 1, 0, 1]] {
            var decoder = AttachFrameDecoder()
            decoder.append(hostile)
            #expect(throws: AttachProtocolError.self, "\(hostile)") { _ = try decoder.next() }
        }
    }
}
