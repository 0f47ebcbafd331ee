import Glibc

/// A thread of our own for a blocking loop (recvmmsg, epoll_wait): serving must never hold
/// one of Swift concurrency's cooperative threads (two on a two-core machine).
final class WorkerThread: @unchecked Sendable {
    private var thread = pthread_t()

    private final class Box {
        let body: () -> Void
        init(_ body: @escaping () -> Void) { self.body = body }
    }

    /// Starts `body` on a new thread with a 512 KiB stack.
    init(name: String, _ body: @escaping @Sendable () -> Void) throws {
        var attributes = pthread_attr_t()
        pthread_attr_init(&attributes)
        defer { pthread_attr_destroy(&attributes) }
        pthread_attr_setstacksize(&attributes, 512 * 1024)
        let box = Unmanaged.passRetained(Box(body)).toOpaque()
        let rc = pthread_create(&thread, &attributes, { raw in
            let box = Unmanaged<Box>.fromOpaque(raw!).takeRetainedValue()
            box.body()
            return nil
        }, box)
        guard rc == 0 else {
            Unmanaged<Box>.fromOpaque(box).release()
            throw DNSServerError("pthread_create for \(name): \(String(cString: strerror(rc)))")
        }
    }

    /// Waits for the thread to end (blocks the caller).
    func join() {
        pthread_join(thread, nil)
    }
}
