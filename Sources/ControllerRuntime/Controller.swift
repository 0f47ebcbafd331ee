import APIMachinery
import Logging
import Synchronization

/// A control loop of the server (kube-controller-manager's controllers and the scheduler): it
/// registers informer handlers that enqueue keys when constructed, then `run` processes keys
/// until the task is cancelled.
package protocol Controller: Sendable {
    var name: String { get }
    func run() async
}

/// Processes the keys of `queue` with `workers` concurrent workers until the task is cancelled:
/// a key whose sync throws is retried with back-off (client-go's `processNextWorkItem`).
package func runWorkers(name: String, queue: WorkQueue, workers: Int, logger: Logger,
                sync: @escaping @Sendable (String) async throws -> Void) async {
    await withTaskCancellationHandler {
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<max(workers, 1) {
                group.addTask {
                    while let key = await queue.next() {
                        do {
                            try await sync(key)
                            await queue.forget(key)
                        } catch {
                            // Conflicts are routine (a stale cache); other errors are worth a line.
                            if (error as? APIError)?.code != 409 {
                                logger.warning("sync failed", metadata: ["controller": "\(name)", "key": "\(key)", "error": "\(error)"])
                            }
                            await queue.addRateLimited(key)
                        }
                        await queue.done(key)
                    }
                }
            }
        }
    } onCancel: {
        Task { await queue.shutdown() }
    }
}

/// Mutable state a controller shares between its informer handlers and its workers: a
/// `Mutex` in a class, because a controller is a struct and a struct holding a `Mutex` could
/// not be copied.
package final class ControllerState<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>

    package init(_ value: Value) {
        mutex = Mutex(value)
    }

    package func withLock<Result: Sendable>(_ body: (inout Value) -> Result) -> Result {
        mutex.withLock { value in body(&value) }
    }
}
