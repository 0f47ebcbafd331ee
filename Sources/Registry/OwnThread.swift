import Foundation

/// Runs blocking work (unpacking a layer: decompression, tar, file creation) on a thread of its
/// own and awaits it, so it never holds one of Swift's few cooperative threads.
enum OwnThread {
    static func run<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        let result: Result<T, any Error> = await withCheckedContinuation { continuation in
            let thread = Thread { continuation.resume(returning: Result { try work() }) }
            // Layer unpacking recurses only through directory removal on failure; 1 MiB is ample.
            thread.stackSize = 1 << 20
            thread.start()
        }
        return try result.get()
    }
}
