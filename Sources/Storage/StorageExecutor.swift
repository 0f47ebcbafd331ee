import Dispatch

/// A serial executor on a private dispatch queue, for actors that block in system calls.
///
/// SQLite commits wait for fsync (milliseconds); doing that on Swift's cooperative pool (one
/// thread per core, two here) would stall every request. Jobs run in order on the queue's
/// own thread instead.
final class StorageExecutor: SerialExecutor {
    private let queue: DispatchQueue

    init(label: String) {
        self.queue = DispatchQueue(label: label, qos: .userInitiated)
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let executor = asUnownedSerialExecutor()
        queue.async {
            job.runSynchronously(on: executor)
        }
    }

    func asUnownedSerialExecutor() -> UnownedSerialExecutor {
        UnownedSerialExecutor(ordinary: self)
    }
}
