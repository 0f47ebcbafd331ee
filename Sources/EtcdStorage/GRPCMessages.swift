import NIOCore
import NIOHPACK
import NIOHTTP2

/// The replies of one gRPC call: length-prefixed messages from the stream's DATA frames, then
/// the trailers' `grpc-status`. `next` returns nil after an OK status and throws otherwise.
struct GRPCMessages {
    private var inbound: NIOAsyncChannelInboundStream<HTTP2Frame.FramePayload>.AsyncIterator
    private let endpoint: EtcdEndpoint
    private let method: String
    private var buffer = ByteBuffer()
    private var sawHeaders = false
    private var finished = false

    init(inbound: NIOAsyncChannelInboundStream<HTTP2Frame.FramePayload>.AsyncIterator, endpoint: EtcdEndpoint, method: String) {
        self.inbound = inbound
        self.endpoint = endpoint
        self.method = method
    }

    /// The next message, or nil when the call ended with status OK. A message longer than
    /// `limit` ends the call with `EtcdError.responseTooLarge`.
    mutating func next(limit: Int) async throws -> [UInt8]? {
        while true {
            if let message = try takeMessage(limit: limit) { return message }
            if finished {
                guard buffer.readableBytes == 0 else {
                    throw fail(.malformedResponse("\(method): \(buffer.readableBytes) bytes of an unfinished message before the trailers"))
                }
                return nil
            }
            guard let payload = try await nextPayload() else {
                throw fail(.connection(endpoint: endpoint.description, reason: "\(method): the stream ended without trailers"))
            }
            switch payload {
            case .headers(let headers):
                try receive(headers.headers, endStream: headers.endStream)
            case .data(let data):
                guard sawHeaders else { throw fail(.malformedResponse("\(method): DATA before HEADERS")) }
                if case .byteBuffer(var bytes) = data.data {
                    buffer.writeBuffer(&bytes)
                }
                if data.endStream {
                    throw fail(.malformedResponse("\(method): the stream ended without trailers"))
                }
            case .rstStream(let code):
                throw fail(.connection(endpoint: endpoint.description, reason: "\(method): stream reset (\(code))"))
            case .goAway:
                throw fail(.connection(endpoint: endpoint.description, reason: "\(method): the server is going away"))
            default:
                continue
            }
        }
    }

    private mutating func nextPayload() async throws -> HTTP2Frame.FramePayload? {
        do {
            return try await inbound.next()
        } catch {
            throw fail(.connection(endpoint: endpoint.description, reason: "\(method): \(error)"))
        }
    }

    private mutating func takeMessage(limit: Int) throws -> [UInt8]? {
        guard buffer.readableBytes >= 5,
              let compressed = buffer.getInteger(at: buffer.readerIndex, as: UInt8.self),
              let length = buffer.getInteger(at: buffer.readerIndex + 1, as: UInt32.self) else { return nil }
        guard compressed == 0 else {
            throw fail(.malformedResponse("\(method): a compressed message, which this client never asked for"))
        }
        guard Int(length) <= limit else {
            throw fail(.responseTooLarge(endpoint: endpoint.description, bytes: Int(length), limit: limit))
        }
        guard buffer.readableBytes >= 5 + Int(length) else { return nil }
        buffer.moveReaderIndex(forwardBy: 5)
        let message = buffer.readBytes(length: Int(length)) ?? []
        buffer.discardReadBytes()
        return message
    }

    /// Response headers, or trailers (the second HEADERS, or the first one with END_STREAM).
    private mutating func receive(_ headers: HPACKHeaders, endStream: Bool) throws {
        if !sawHeaders {
            sawHeaders = true
            if let status = headers.first(name: ":status"), status != "200" {
                throw fail(.status(code: Self.code(httpStatus: status), message: "\(method): HTTP status \(status)",
                                   endpoint: endpoint.description))
            }
            if let type = headers.first(name: "content-type"), !type.hasPrefix("application/grpc") {
                throw fail(.malformedResponse("\(method): content-type \(type), not application/grpc"))
            }
            guard endStream else { return }
        }
        finished = true
        let code = headers.first(name: "grpc-status").flatMap { Int($0) } ?? EtcdError.Code.unknown
        guard code == EtcdError.Code.ok else {
            let message = headers.first(name: "grpc-message").map(Self.percentDecoded) ?? "no message"
            throw fail(.status(code: code, message: message, endpoint: endpoint.description))
        }
    }

    private func fail(_ error: EtcdError) -> GRPCCallFailure {
        GRPCCallFailure(error: error, requestSent: true)
    }

    /// gRPC's mapping of HTTP statuses that come without a gRPC status (a proxy answering).
    static func code(httpStatus: String) -> Int {
        switch httpStatus {
        case "400": return EtcdError.Code.unknown
        case "401": return EtcdError.Code.unauthenticated
        case "404": return EtcdError.Code.unimplemented
        case "429", "502", "503", "504": return EtcdError.Code.unavailable
        default: return EtcdError.Code.unknown
        }
    }

    /// `grpc-message` is percent-encoded (PROTOCOL-HTTP2.md); invalid escapes stay as they are.
    static func percentDecoded(_ text: String) -> String {
        let bytes = Array(text.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var index = 0
        while index < bytes.count {
            if bytes[index] == UInt8(ascii: "%"), index + 2 < bytes.count,
               let value = UInt8(String(decoding: bytes[index + 1...index + 2], as: UTF8.self), radix: 16) {
                out.append(value)
                index += 3
            } else {
                out.append(bytes[index])
                index += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
