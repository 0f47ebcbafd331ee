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

    /// The channel writing `fd`; finishing its writer closes the fd (the process's EOF).
    static func writing(_ fd: Int32) async throws -> Channel {
        do {
            return try await NIOPipeBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .takingOwnershipOfDescriptor(output: fd) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try Channel(wrappingChannelSynchronously: channel, configuration: .init(isOutboundHalfClosureEnabled: true))
                    }
                }
        } catch {
            close(fd)
            throw error
        }
    }
}
