import Foundation
import Glibc
import Logging
import NIOCore
import NIOPosix
import Runtime
import Streaming

/// `kubectl port-forward` on this node (kubelet's pkg/kubelet/cri/streaming/portforward with
/// containerd's PortForward behind): each forwarded connection is a TCP connection to
/// `localhost:port` inside the pod's network namespace, copied both ways; after one direction
/// ends the other gets a second to finish (containerd's socat-like grace), then both close.
/// - SPDY (`portforward.k8s.io`, raw or tunnelled in a WebSocket): the client opens a pair of
///   streams per connection, `error` and `data`, with the same `requestID` and `port`
///   headers; many pairs, so many concurrent connections, share one session.
/// - WebSocket channels (v4): one connection per `?port=`, channels 2n (data) and 2n+1
///   (error), each opened with the port as two little-endian bytes.
/// A connection that cannot be made is reported on its error stream or channel as kubelet
/// words it: `error forwarding port P to pod NAME, uid UID: ...`.
struct PortForwarder: Sendable {
    let pod: String
    let uid: String
    let target: any PortForwardTarget
    let logger: Logger

    /// The ports of a WebSocket port-forward (kubelet's portforward `newOptions`).
    static func ports(_ query: [(name: String, value: String)]) -> Result<[UInt16], UpgradeRefusal> {
        var ports: [UInt16] = []
        for (name, value) in query where name == "port" {
            guard let port = UInt16(value) else {
                return .failure(UpgradeRefusal(status: 400, text: "unable to parse \"\(value)\" as a port: the value must be a number from 1 to 65535"))
            }
            guard port > 0 else { return .failure(UpgradeRefusal(status: 400, text: "port \"\(value)\" must be > 0")) }
            ports.append(port)
        }
        guard !ports.isEmpty else { return .failure(UpgradeRefusal(status: 400, text: "query parameter \"port\" is required")) }
        guard ports.count <= 64 else { return .failure(UpgradeRefusal(status: 400, text: "at most 64 ports can be forwarded at once, not \(ports.count)")) }
        return .success(ports)
    }

    func failure(_ port: UInt16, _ error: any Error) -> String {
        "error forwarding port \(port) to pod \(pod), uid \(uid): \(error)"
    }

    /// A connection to `port` in the pod, as an async channel (half-closable both ways).
    func connect(_ port: UInt16) async throws -> NIOAsyncChannel<ByteBuffer, ByteBuffer> {
        let target = self.target
        let fd = try await BlockingCall.run(stackSize: 256 * 1024) { Result { try target.connect(port: port) } }.get()
        do {
            return try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .channelOption(ChannelOptions.allowRemoteHalfClosure, value: true)
                .withConnectedSocket(fd) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel,
                                                                     configuration: .init(isOutboundHalfClosureEnabled: true))
                    }
                }
        } catch {
            close(fd)
            throw error
        }
    }

    /// Copies between the pod's connection and the client until both directions are done (or
    /// one is and the other has had a second).
    static func splice(_ connection: NIOAsyncChannel<ByteBuffer, ByteBuffer>,
                       fromClient: @escaping @Sendable () async -> ByteBuffer?,
                       toClient: @escaping @Sendable (ByteBuffer) async throws -> Void) async {
        try? await connection.executeThenClose { inbound, _ in
            await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    // Written through the channel itself so that each write completes once the
                    // kernel has it: the connection may close soon after the last one.
                    let channel = connection.channel
                    while let bytes = await fromClient() {
                        do { try await channel.writeAndFlush(bytes) } catch { break }
                    }
                    try? await channel.close(mode: .output)
                }
                group.addTask {
                    do {
                        for try await bytes in inbound { try await toClient(bytes) }
                    } catch {}
                }
                _ = await group.next()
                group.addTask { try? await Task.sleep(for: .seconds(1)) }
                _ = await group.next()
                group.cancelAll()
            }
        }
    }

    // MARK: - SPDY

    func serveSPDY(_ transport: SPDYTransport) async {
        let session: SPDYSession
        do { session = try SPDYSession(transport: transport, logger: logger) } catch { return }
        let (pairs, newPair) = AsyncStream.makeStream(of: (error: SPDYStream, data: SPDYStream).self)
        let table = PairTable()
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                await session.run { stream in
                    // kubelet's httpStreamReceived: a port and a stream type are required.
                    guard let portText = stream.header("port"), let port = UInt16(portText), port > 0,
                          let type = stream.header("streamType"), type == "error" || type == "data" else {
                        await stream.reset(status: SPDYFrame.Status.protocolError)
                        return
                    }
                    _ = port
                    try? await session.accept(stream)
                    // kubelet's requestID fallback for clients without one: the error stream's
                    // id, the data stream's id minus 2.
                    let requestID = stream.header("requestID") ?? String(type == "error" ? stream.id : stream.id &- 2)
                    switch await table.add(stream, type: type, requestID: requestID) {
                    case .complete(let error, let data): newPair.yield((error, data))
                    case .duplicate: await stream.reset(status: SPDYFrame.Status.protocolError)
                    case .waiting: break
                    }
                }
                newPair.finish()
            }
            for await pair in pairs {
                group.addTask { await forward(pair.error, pair.data, session: session) }
            }
            await session.goAway()
        }
    }

    private func forward(_ error: SPDYStream, _ data: SPDYStream, session: SPDYSession) async {
        error.discardInput()  // kubectl closes its side of the error stream at once
        let port = UInt16(data.header("port") ?? "") ?? 0
        do {
            let connection = try await connect(port)
            await Self.splice(connection, fromClient: { await data.read() }, toClient: { try await data.write($0) })
        } catch let failure {
            logger.debug("port-forward failed", metadata: ["port": "\(port)", "error": "\(failure)"])
            try? await error.write(ByteBuffer(string: self.failure(port, failure)))
        }
        await data.close()
        await error.close()
        session.remove(data)
        session.remove(error)
    }

    // MARK: - WebSocket channels

    func serveWebSocket(_ channels: ChannelConnection, ports: [UInt16]) async {
        // Every channel opens with its port, data first then error (kubelet's order).
        for (index, port) in ports.enumerated() {
            var bytes = ByteBuffer()
            bytes.writeInteger(port, endianness: .little)
            do {
                try await channels.write(channel: UInt8(2 * index), bytes)
                try await channels.write(channel: UInt8(2 * index + 1), bytes)
            } catch {
                return
            }
        }
        // One queue per port for what the client sends, fed by the read loop below (which
        // waits for a port whose connection does not take its data, as kubelet's pipes do).
        let inputs = ports.map { _ in ByteQueue(limit: 256 * 1024) }
        await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                try? await channels.read(channels: 2 * ports.count) { event in
                    if case .data(let channel, let bytes) = event, channel % 2 == 0, Int(channel / 2) < ports.count {
                        await inputs[Int(channel / 2)].deliver(bytes)
                    }
                }
                for input in inputs { input.end() }
                return true
            }
            for (index, port) in ports.enumerated() {
                group.addTask {
                    let data = UInt8(2 * index)
                    do {
                        let connection = try await connect(port)
                        await Self.splice(connection, fromClient: { await inputs[index].read() },
                                          toClient: { try await channels.write(channel: data, $0) })
                    } catch {
                        try? await channels.write(channel: data + 1, ByteBuffer(string: failure(port, error)))
                    }
                    return false
                }
            }
            // The session ends when every port's connection has ended, or the client left
            // (the splices then finish what they were sending).
            var remaining = ports.count
            while remaining > 0, let clientLeft = await group.next() {
                if clientLeft { break }
                remaining -= 1
            }
            await channels.socket.close(code: WebSocketCloseCode.normal)
            group.cancelAll()
        }
    }
}

/// The error and data streams of each port-forward request, paired by request ID.
private actor PairTable {
    enum Outcome { case waiting, complete(SPDYStream, SPDYStream), duplicate }
    private var pending: [String: (error: SPDYStream?, data: SPDYStream?)] = [:]

    func add(_ stream: SPDYStream, type: String, requestID: String) -> Outcome {
        var pair = pending[requestID] ?? (nil, nil)
        if type == "error" {
            guard pair.error == nil else { return .duplicate }
            pair.error = stream
        } else {
            guard pair.data == nil else { return .duplicate }
            pair.data = stream
        }
        if let error = pair.error, let data = pair.data {
            pending[requestID] = nil
            return .complete(error, data)
        }
        pending[requestID] = pair
        return .waiting
    }
}
