import NIOCore
import Synchronization

/// Bytes handed from one producer to one consumer with a bound: past `limit` queued bytes the
/// producer waits for the consumer. A connection's read loop feeds per-stream queues this
/// way (SPDY streams, WebSocket port-forward channels), so a slow consumer slows the peer
/// instead of growing memory, as the io.Pipe behind each kubelet stream does.
public final class ByteQueue: Sendable {
    public let limit: Int

    private struct State {
        var chunks: [ByteBuffer] = []
        var queued = 0
        var ended = false
        var discarding = false
        var reader: CheckedContinuation<ByteBuffer?, Never>?
        var producer: CheckedContinuation<Void, Never>?
    }
    private let state = Mutex(State())

    public init(limit: Int) {
        self.limit = limit
    }

    /// Queues bytes; waits while more than `limit` are unread (or until cancelled).
    public func deliver(_ bytes: ByteBuffer) async {
        let (reader, wait): (CheckedContinuation<ByteBuffer?, Never>?, Bool) = state.withLock { state in
            if state.ended || state.discarding { return (nil, false) }
            if let reader = state.reader {
                state.reader = nil
                return (reader, false)
            }
            state.chunks.append(bytes)
            state.queued += bytes.readableBytes
            return (nil, state.queued > limit)
        }
        reader?.resume(returning: bytes)
        guard wait else { return }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let now: Bool = state.withLock { state in
                    if state.queued <= limit || state.ended || state.discarding || Task.isCancelled { return true }
                    state.producer = continuation
                    return false
                }
                if now { continuation.resume() }
            }
        } onCancel: {
            takeProducer()?.resume()
        }
    }

    /// No more bytes will come; the consumer reads what is queued, then nil.
    public func end() {
        let (reader, producer): (CheckedContinuation<ByteBuffer?, Never>?, CheckedContinuation<Void, Never>?) = state.withLock { state in
            state.ended = true
            defer {
                state.reader = nil
                state.producer = nil
            }
            return (state.chunks.isEmpty ? state.reader : nil, state.producer)
        }
        reader?.resume(returning: nil)
        producer?.resume()
    }

    /// The next bytes, or nil once ended and drained (or when cancelled).
    public func read() async -> ByteBuffer? {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<ByteBuffer?, Never>) in
                let (result, producer): (ByteBuffer??, CheckedContinuation<Void, Never>?) = state.withLock { state in
                    if !state.chunks.isEmpty {
                        let chunk = state.chunks.removeFirst()
                        state.queued -= chunk.readableBytes
                        var producer: CheckedContinuation<Void, Never>?
                        if state.queued <= limit {
                            producer = state.producer
                            state.producer = nil
                        }
                        return (.some(chunk), producer)
                    }
                    if state.ended || Task.isCancelled { return (.some(nil), nil) }
                    state.reader = continuation
                    return (nil, nil)
                }
                producer?.resume()
                if let result { continuation.resume(returning: result) }
            }
        } onCancel: {
            let reader = state.withLock { state -> CheckedContinuation<ByteBuffer?, Never>? in
                defer { state.reader = nil }
                return state.reader
            }
            reader?.resume(returning: nil)
        }
    }

    /// Drops what is queued and whatever comes later.
    public func discard() {
        let producer = state.withLock { state -> CheckedContinuation<Void, Never>? in
            state.discarding = true
            state.chunks = []
            state.queued = 0
            defer { state.producer = nil }
            return state.producer
        }
        producer?.resume()
    }

    private func takeProducer() -> CheckedContinuation<Void, Never>? {
        state.withLock { state in
            defer { state.producer = nil }
            return state.producer
        }
    }
}
