import Foundation
import NIOCore

/// A bounded queue from an async producer (a response body arriving on NIO's event loops) to a
/// consumer on a thread of its own (hashing and writing a blob): the file I/O and SHA-256 of a
/// download never run on Swift's cooperative threads, and a slow disk slows the download
/// (the producer awaits while `capacity` bytes are queued) instead of filling memory.
final class ChunkPipe: @unchecked Sendable {
    enum Item {
        case data(ByteBuffer)
        /// Drop what was written so far (a resumed download had to start over).
        case reset
    }

    private let condition = NSCondition()
    // Guarded by `condition`.
    private var items: [Item] = []
    private var head = 0
    private var queuedBytes = 0
    private var finished = false
    private var consumerError: (any Error)?
    private var consumerStopped = false
    private var waitingProducer: CheckedContinuation<Void, Never>?
    private var abortError: (any Error)?
    private let capacity: Int

    init(capacity: Int = 4 << 20) {
        self.capacity = capacity
    }

    /// Queues an item, waiting while the queue is full. Throws what stopped the consumer.
    func push(_ item: Item) async throws {
        while true {
            let accepted: Bool = condition.withLock {
                if consumerStopped { return true }
                guard queuedBytes < capacity else { return false }
                enqueue(item)
                return true
            }
            if accepted { break }
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow: Bool = condition.withLock {
                    if consumerStopped || queuedBytes < capacity { return true }
                    waitingProducer = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        }
        if let error = condition.withLock({ consumerError }) { throw error }
    }

    private func enqueue(_ item: Item) {
        if case .data(let buffer) = item { queuedBytes += buffer.readableBytes }
        items.append(item)
        condition.signal()
    }

    /// No more items: the consumer drains the queue and then sees nil.
    func finish() {
        condition.withLock {
            finished = true
            condition.signal()
        }
    }

    /// The producer gives up (its download failed): the consumer stops at once, writing nothing
    /// more and committing nothing.
    func abort(_ error: any Error) {
        condition.withLock {
            abortError = error
            finished = true
            condition.signal()
        }
    }

    /// Why the producer aborted, if it did.
    var aborted: (any Error)? { condition.withLock { abortError } }

    /// The next item, waiting for one; nil once `finish` was called and the queue is empty, or
    /// at once after `abort`. Called by the consumer thread only.
    func next() -> Item? {
        condition.lock()
        while head == items.count && !finished { condition.wait() }
        guard head < items.count, abortError == nil else {
            condition.unlock()
            return nil
        }
        let item = items[head]
        head += 1
        if head > 64 && head * 2 > items.count {
            items.removeFirst(head)
            head = 0
        }
        if case .data(let buffer) = item { queuedBytes -= buffer.readableBytes }
        let waiter = queuedBytes < capacity ? waitingProducer : nil
        if waiter != nil { waitingProducer = nil }
        condition.unlock()
        waiter?.resume()
        return item
    }

    /// The consumer has stopped (with `error` when it failed): the producer's next push throws it.
    func stopConsumer(_ error: (any Error)?) {
        let waiter: CheckedContinuation<Void, Never>? = condition.withLock {
            consumerStopped = true
            if consumerError == nil { consumerError = error }
            items = []
            head = 0
            queuedBytes = 0
            let waiter = waitingProducer
            waitingProducer = nil
            return waiter
        }
        waiter?.resume()
    }
}
