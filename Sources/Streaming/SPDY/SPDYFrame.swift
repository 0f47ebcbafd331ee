import NIOCore

/// SPDY/3 frames as Kubernetes' streams use them (the SPDY/3 draft, as moby/spdystream
/// implements it for client-go and kubelet). Header blocks stay compressed here: their zlib
/// state belongs to the session (`SPDYHeaderCodec`).
public enum SPDYFrame: Sendable, Equatable {
    case data(streamID: UInt32, fin: Bool, payload: ByteBuffer)
    case synStream(streamID: UInt32, associatedTo: UInt32, priority: UInt8, fin: Bool, unidirectional: Bool, headerBlock: ByteBuffer)
    case synReply(streamID: UInt32, fin: Bool, headerBlock: ByteBuffer)
    case rstStream(streamID: UInt32, status: UInt32)
    case settings
    case ping(id: UInt32)
    case goAway(lastGoodStreamID: UInt32, status: UInt32)
    case headers(streamID: UInt32, fin: Bool, headerBlock: ByteBuffer)
    case windowUpdate(streamID: UInt32, delta: UInt32)
    /// A control frame of a type this side does not know: ignored, as the draft says.
    case unknown(type: UInt16)

    static let version: UInt16 = 3
    static let flagFin: UInt8 = 0x01
    static let flagUnidirectional: UInt8 = 0x02

    /// RST_STREAM status codes.
    public enum Status {
        public static let protocolError: UInt32 = 1
        public static let invalidStream: UInt32 = 2
        public static let refusedStream: UInt32 = 3
        public static let cancel: UInt32 = 5
        public static let internalError: UInt32 = 6
        public static let streamInUse: UInt32 = 8
    }

    /// The frame's bytes. Frames carrying headers must be given their compressed block.
    public func write(into buffer: inout ByteBuffer) {
        func control(_ type: UInt16, flags: UInt8, _ body: (inout ByteBuffer) -> Void) {
            buffer.writeInteger(UInt16(0x8000) | Self.version)
            buffer.writeInteger(type)
            let lengthIndex = buffer.writerIndex
            buffer.writeInteger(UInt32(flags) << 24)
            let start = buffer.writerIndex
            body(&buffer)
            let length = UInt32(buffer.writerIndex - start)
            buffer.setInteger((UInt32(flags) << 24) | length, at: lengthIndex)
        }
        switch self {
        case .data(let streamID, let fin, var payload):
            buffer.writeInteger(streamID & 0x7FFF_FFFF)
            buffer.writeInteger((UInt32(fin ? Self.flagFin : 0) << 24) | UInt32(payload.readableBytes))
            buffer.writeBuffer(&payload)
        case .synStream(let streamID, let associatedTo, let priority, let fin, let unidirectional, var block):
            let flags = (fin ? Self.flagFin : 0) | (unidirectional ? Self.flagUnidirectional : 0)
            control(1, flags: flags) { body in
                body.writeInteger(streamID & 0x7FFF_FFFF)
                body.writeInteger(associatedTo & 0x7FFF_FFFF)
                body.writeInteger(UInt8((priority & 0x7) << 5))
                body.writeInteger(UInt8(0))
                body.writeBuffer(&block)
            }
        case .synReply(let streamID, let fin, var block):
            control(2, flags: fin ? Self.flagFin : 0) { body in
                body.writeInteger(streamID & 0x7FFF_FFFF)
                body.writeBuffer(&block)
            }
        case .rstStream(let streamID, let status):
            control(3, flags: 0) { body in
                body.writeInteger(streamID & 0x7FFF_FFFF)
                body.writeInteger(status)
            }
        case .settings:
            control(4, flags: 0) { body in body.writeInteger(UInt32(0)) }
        case .ping(let id):
            control(6, flags: 0) { body in body.writeInteger(id) }
        case .goAway(let lastGood, let status):
            control(7, flags: 0) { body in
                body.writeInteger(lastGood & 0x7FFF_FFFF)
                body.writeInteger(status)
            }
        case .headers(let streamID, let fin, var block):
            control(8, flags: fin ? Self.flagFin : 0) { body in
                body.writeInteger(streamID & 0x7FFF_FFFF)
                body.writeBuffer(&block)
            }
        case .windowUpdate(let streamID, let delta):
            control(9, flags: 0) { body in
                body.writeInteger(streamID & 0x7FFF_FFFF)
                body.writeInteger(delta & 0x7FFF_FFFF)
            }
        case .unknown(let type):
            control(type, flags: 0) { _ in }
        }
    }
}
