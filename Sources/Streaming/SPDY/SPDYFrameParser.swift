import NIOCore

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
