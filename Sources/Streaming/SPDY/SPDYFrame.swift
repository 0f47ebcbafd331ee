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

/// Why a peer's SPDY bytes were refused.
public struct SPDYProtocolError: Error, Equatable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Incremental decoder of SPDY/3 frames. It holds at most one frame, and refuses a frame
/// larger than its limits before reading it (a data frame may be 16 MiB by the protocol;
/// Kubernetes' peers write at most 32 KiB at a time).
public struct SPDYFrameParser: Sendable {
    public let maxDataLength: Int
    public let maxControlLength: Int
    private var buffer = ByteBuffer()

    public init(maxDataLength: Int = 1 << 20, maxControlLength: Int = 64 << 10) {
        self.maxDataLength = maxDataLength
        self.maxControlLength = maxControlLength
    }

    public mutating func append(_ bytes: ByteBuffer) {
        var bytes = bytes
        if buffer.readableBytes == 0 {
            buffer.clear()
        } else if buffer.readerIndex > 64 * 1024 {
            buffer.discardReadBytes()
        }
        buffer.writeBuffer(&bytes)
    }

    public mutating func next() throws(SPDYProtocolError) -> SPDYFrame? {
        guard let first = buffer.getInteger(at: buffer.readerIndex, as: UInt32.self),
              let second = buffer.getInteger(at: buffer.readerIndex + 4, as: UInt32.self) else { return nil }
        let flags = UInt8(second >> 24)
        let length = Int(second & 0x00FF_FFFF)
        let isControl = first & 0x8000_0000 != 0
        guard length <= (isControl ? maxControlLength : maxDataLength) else {
            throw SPDYProtocolError("a \(isControl ? "control" : "data") frame of \(length) bytes is over the limit of \(isControl ? maxControlLength : maxDataLength)")
        }
        guard buffer.readableBytes >= 8 + length else { return nil }
        buffer.moveReaderIndex(forwardBy: 8)
        var body = buffer.readSlice(length: length) ?? ByteBuffer()
        guard isControl else {
            let streamID = first & 0x7FFF_FFFF
            guard streamID != 0 else { throw SPDYProtocolError("a data frame on stream 0") }
            var payload = ByteBufferAllocator().buffer(capacity: length)
            payload.writeBuffer(&body)
            return .data(streamID: streamID, fin: flags & SPDYFrame.flagFin != 0, payload: payload)
        }
        let version = UInt16((first >> 16) & 0x7FFF)
        guard version == SPDYFrame.version else { throw SPDYProtocolError("SPDY version \(version) (only 3 is spoken)") }
        let type = UInt16(first & 0xFFFF)
        func need(_ count: Int) throws(SPDYProtocolError) {
            guard body.readableBytes >= count else { throw SPDYProtocolError("a control frame of type \(type) is \(length) bytes, too short") }
        }
        func id() -> UInt32 { (body.readInteger(as: UInt32.self) ?? 0) & 0x7FFF_FFFF }
        func block() -> ByteBuffer {
            var copy = ByteBufferAllocator().buffer(capacity: body.readableBytes)
            copy.writeBuffer(&body)
            return copy
        }
        let fin = flags & SPDYFrame.flagFin != 0
        switch type {
        case 1:
            try need(10)
            let streamID = id()
            let associated = id()
            let priority = (body.readInteger(as: UInt8.self) ?? 0) >> 5
            body.moveReaderIndex(forwardBy: 1)
            guard streamID != 0 else { throw SPDYProtocolError("SYN_STREAM for stream 0") }
            return .synStream(streamID: streamID, associatedTo: associated, priority: priority, fin: fin,
                              unidirectional: flags & SPDYFrame.flagUnidirectional != 0, headerBlock: block())
        case 2:
            try need(4)
            return .synReply(streamID: id(), fin: fin, headerBlock: block())
        case 3:
            try need(8)
            let streamID = id()
            return .rstStream(streamID: streamID, status: body.readInteger(as: UInt32.self) ?? 0)
        case 4:
            return .settings
        case 6:
            try need(4)
            return .ping(id: body.readInteger(as: UInt32.self) ?? 0)
        case 7:
            try need(4)
            let lastGood = id()
            return .goAway(lastGoodStreamID: lastGood, status: body.readInteger(as: UInt32.self) ?? 0)
        case 8:
            try need(4)
            return .headers(streamID: id(), fin: fin, headerBlock: block())
        case 9:
            try need(8)
            let streamID = id()
            return .windowUpdate(streamID: streamID, delta: (body.readInteger(as: UInt32.self) ?? 0) & 0x7FFF_FFFF)
        default:
            return .unknown(type: type)
        }
    }
}
