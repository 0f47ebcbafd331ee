import Foundation

/// Runs a blocking call (waitid, poll, socket I/O) on a thread of its own and awaits its
/// result, so it never holds one of the few cooperative threads Swift concurrency has.
public enum BlockingCall {
    public static func run<T: Sendable>(stackSize: Int = 64 * 1024, _ work: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            let thread = Thread { continuation.resume(returning: work()) }
            thread.stackSize = stackSize
            thread.start()
        }
    }
}
