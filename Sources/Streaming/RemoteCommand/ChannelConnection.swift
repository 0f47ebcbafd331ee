import Foundation
import NIOCore

/// One message's worth of a channel: data for `channel`, or the v5 signal that the client
/// closed it.
public enum ChannelEvent: Sendable, Equatable {
    case data(channel: UInt8, ByteBuffer)
    case closed(channel: UInt8)
}

/// Kubernetes' channel protocol over a WebSocket (`ChannelProtocol`): writes each message
/// with its channel prefix and reads the client's messages back into channel events, a
/// fragmented message piece by piece.
public final class ChannelConnection: Sendable {
    public let socket: WebSocketConnection
    public let protocolName: String
    let base64: Bool

    public init(socket: WebSocketConnection, protocolName: String) {
        self.socket = socket
        self.protocolName = protocolName
        base64 = ChannelProtocol.isBase64(protocolName)
    }

    /// Sends `bytes` as one message on `channel` (an empty message just names the channel).
    public func write(channel: UInt8, _ bytes: ByteBuffer) async throws {
        var message = socket.connection.allocator.buffer(capacity: bytes.readableBytes + 1)
        if base64 {
            message.writeInteger(UInt8(ascii: "0") + channel)
            message.writeString(Data(bytes.readableBytesView).base64EncodedString())
            try await socket.send(.text, message)
        } else {
            message.writeInteger(channel)
            var bytes = bytes
            message.writeBuffer(&bytes)
            try await socket.send(.binary, message)
        }
    }

    /// v5: tells the client that `channel` has ended. Earlier protocols cannot say it.
    public func close(channel: UInt8) async throws {
        guard ChannelProtocol.supportsClose(protocolName) else { return }
        var message = socket.connection.allocator.buffer(capacity: 2)
        message.writeInteger(ChannelProtocol.close)
        message.writeInteger(channel)
        try await socket.send(.binary, message)
    }

    /// Reads the client's messages until it closes the WebSocket. An empty message is skipped
    /// (wsstream does); a v5 close signal must be exactly `255, n` and `n` one of `channels`
    /// (kubelet ends the connection otherwise). Data for other channels is passed on: the
    /// session decides what it reads.
    public func read(channels: Int, _ handler: (ChannelEvent) async throws -> Void) async throws {
        var channel: UInt8?
        var closing: [UInt8]?
        var carry: [UInt8] = []  // base64 characters not yet a whole quantum
        try await socket.read { fragment in
            if fragment.isFirst {
                channel = nil
                closing = nil
                carry = []
            }
            var payload = fragment.payload
            if channel == nil && closing == nil {
                guard let first = payload.readInteger(as: UInt8.self) else { return }
                if ChannelProtocol.supportsClose(protocolName) && first == ChannelProtocol.close {
                    closing = []
                } else {
                    let number = base64 ? first &- UInt8(ascii: "0") : first
                    channel = number
                }
            }
            if closing != nil {
                closing?.append(contentsOf: payload.readableBytesView)
                guard fragment.isLast else {
                    if (closing?.count ?? 0) > 1 { throw WebSocketProtocolError("a channel close signal longer than 2 bytes") }
                    return
                }
                guard let target = closing, target.count == 1, Int(target[0]) < channels else {
                    throw WebSocketProtocolError("a channel close signal must name one of \(channels) channels, got \(closing ?? [])")
                }
                try await handler(.closed(channel: target[0]))
                return
            }
            guard let channel else { return }
            if base64 {
                carry += payload.readableBytesView.filter { $0 != UInt8(ascii: "\n") && $0 != UInt8(ascii: "\r") }
                let whole = fragment.isLast ? carry.count : carry.count - carry.count % 4
                guard whole > 0 else { return }
                guard let decoded = Data(base64Encoded: Data(carry[..<whole])) else {
                    throw WebSocketProtocolError("channel \(channel): invalid base64 data", closeCode: WebSocketCloseCode.invalidData)
                }
                carry.removeFirst(whole)
                try await handler(.data(channel: channel, ByteBuffer(bytes: decoded)))
            } else if payload.readableBytes > 0 {
                try await handler(.data(channel: channel, payload))
            }
        }
    }
}
