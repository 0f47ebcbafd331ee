import Glibc
import NIOCore
import NIOPosix

/// A process's pipe or terminal fd as an async NIO channel on the shared event loops: reads and
/// writes never block a thread, and a write waits while the process does not read (its pipe is
/// full), which in turn stops reading the client.
enum ProcessPipes {
    typealias Channel = NIOAsyncChannel<ByteBuffer, ByteBuffer>

    /// The channel reading `fd`; NIO owns the fd from here (also when this throws).
    static func reading(_ fd: Int32) async throws -> Channel {
        do {
            return try await NIOPipeBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .takingOwnershipOfDescriptor(input: fd) { channel in
                    channel.eventLoop.makeCompletedFuture { try Channel(wrappingChannelSynchronously: channel) }
                }
        } catch {
            close(fd)
            throw error
        }
    }

    /// The channel writing `fd` (the command's stdin, or its terminal).
    static func writing(_ fd: Int32) async throws -> ProcessInput {
        do {
            return ProcessInput(channel: try await NIOPipeBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .takingOwnershipOfDescriptor(output: fd).get())
        } catch {
            close(fd)
            throw error
        }
    }
}

/// The command's input. Each write completes once its bytes are in the pipe, so closing after
/// the last one loses nothing: an output-only pipe channel's half-close is a full close, which
/// drops writes still pending (kubectl cp into a slow `tar` lost its tail that way).
struct ProcessInput: Sendable {
    let channel: any Channel

    /// Writes `bytes`, waiting until the command's pipe has taken them (its back-pressure).
    func write(_ bytes: ByteBuffer) async throws {
        try await channel.writeAndFlush(bytes)
    }

    /// The command's EOF; the fd is closed.
    func close() async {
        try? await channel.close()
    }
}
