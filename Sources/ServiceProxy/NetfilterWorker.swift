import Foundation
import NodeNetwork

/// The proxy's kernel side: the NETLINK_NETFILTER socket and the libnftables context, used
/// only on threads of their own. Netlink calls block (sendmsg runs a whole transaction, a
/// dump waits for the kernel), and Swift's cooperative pool has only a couple of threads here,
/// so each operation runs on a fresh thread the caller awaits (as Runtime's BlockingCall does).
/// Operations never overlap: ServiceProxy runs one at a time.
final class NetfilterWorker: @unchecked Sendable {
    private let socket: NetfilterSocket
    private let commands: NFTables

    init(netns: Int32) throws {
        socket = try NetfilterSocket(netns: netns)
        commands = try NFTables(netns: netns)
    }

    /// Runs `work` with the socket and libnftables on a thread of its own.
    func perform<T: Sendable>(_ work: @escaping @Sendable (NetfilterSocket, NFTables) throws -> T) async throws -> T {
        let socket = self.socket, commands = self.commands
        let result: Result<T, Error> = await withCheckedContinuation { continuation in
            let thread = Thread {
                continuation.resume(returning: Result { try work(socket, commands) })
            }
            // Full syncs build multi-megabyte batches on this thread's heap, not its stack.
            thread.stackSize = 1 << 20
            thread.start()
        }
        return try result.get()
    }
}
