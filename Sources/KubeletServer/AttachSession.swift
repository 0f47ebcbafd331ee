import Glibc
import Logging
import NIOCore
import NIOPosix
import Runtime
import Streaming

/// One `kubectl attach` (or `kubectl run -i`) on this node, once the client's streams are up:
/// bridges them to the attach socket of the container's monitor (kubelet's ServeAttach with
/// containerd's ContainerIO.Attach behind it):
/// - the client gets the container's output from now on, as the monitor sends it;
/// - its input, its stdin's end and its window sizes go to the monitor as frames (the monitor
///   decides what stdinOnce means); input for a container without `stdin: true` is dropped
///   here already, as containerd's ContainerIO.Attach ignores it (the monitor would too);
/// - the container's end (the monitor closes the socket once it has exited and its output is
///   drained) ends the session with a Success status, as kubelet's ServeAttach does when
///   AttachContainer returns; kubectl attach then exits;
/// - a client that goes away detaches: the container runs on.
struct AttachSession {
    let container: String
    /// The container's spec has `stdin: true`: only then does its input go anywhere.
    let containerStdin: Bool
    let logger: Logger

    enum Event: Sendable {
        case outputEnded
        case clientEnded
    }

    func run(_ streams: some RemoteCommandStreams, connect: @escaping @Sendable () throws -> Int32) async {
        let connected = await BlockingCall.run(stackSize: 256 * 1024) { Result { try connect() } }
        let fd: Int32
        switch connected {
        case .success(let value): fd = value
        case .failure(let error):
            await streams.finish(status: .internalError("error attaching to container: \(error)"))
            return
        }
        let channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>
        do {
            channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .withConnectedSocket(fd) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                    }
                }
        } catch {
            close(fd)
            await streams.finish(status: .internalError("error attaching to container: \(error)"))
            return
        }
        let options = streams.options
        let forwardInput = options.stdin && containerStdin
        let logger = self.logger
        try? await channel.executeThenClose { inbound, outbound in
            await withTaskGroup(of: Event.self) { group in
                group.addTask {
                    var decoder = AttachFrameDecoder()
                    do {
                        for try await chunk in inbound {
                            decoder.append(chunk.readableBytesView)
                            while let frame = try decoder.next() {
                                // Streams the client did not ask for are not sent (kubelet
                                // passes nil writers for them).
                                if frame.kind == .stdout && options.stdout {
                                    try await streams.write(.stdout, ByteBuffer(bytes: frame.payload))
                                } else if frame.kind == .stderr && options.stderr {
                                    try await streams.write(.stderr, ByteBuffer(bytes: frame.payload))
                                }
                            }
                        }
                        return .outputEnded
                    } catch let error as AttachProtocolError {
                        logger.warning("attach ended", metadata: ["error": "\(error)"])
                        return .outputEnded
                    } catch {
                        // The client stopped taking output (gone): a detach.
                        return .clientEnded
                    }
                }
                group.addTask {
                    do {
                        try await streams.readInput { event in
                            switch event {
                            case .stdin(let bytes):
                                guard forwardInput else { return }
                                for frame in AttachFrame.stdin(bytes.readableBytesView) {
                                    try await outbound.write(ByteBuffer(bytes: frame.encoded))
                                }
                            case .stdinClosed:
                                guard forwardInput else { return }
                                try await outbound.write(ByteBuffer(bytes: AttachFrame(kind: .stdinEOF).encoded))
                            case .resize(let size):
                                let frame = AttachFrame.resize(rows: size.height, columns: size.width)
                                try await outbound.write(ByteBuffer(bytes: frame.encoded))
                            }
                        }
                    } catch {
                        logger.debug("attach input ended", metadata: ["error": "\(error)"])
                    }
                    return .clientEnded
                }
                if await group.next() == .outputEnded {
                    if options.stdout { await streams.finish(.stdout) }
                    if options.stderr { await streams.finish(.stderr) }
                    await streams.finish(status: .success)
                }
                group.cancelAll()
            }
        }
    }
}
