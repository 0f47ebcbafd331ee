/// A running watch: the events, and a way to stop it early.
public struct StorageWatch: Sendable {
    /// Events in revision order. The stream ends with `StorageError.watcherTooSlow` when the
    /// consumer falls behind, or `.closed` when the store closes.
    public let events: AsyncThrowingStream<StorageEvent, any Error>
    private let stop: @Sendable () -> Void

    public init(events: AsyncThrowingStream<StorageEvent, any Error>, stop: @escaping @Sendable () -> Void) {
        self.events = events
        self.stop = stop
    }

    /// Stops delivering events; the stream finishes.
    public func cancel() {
        stop()
    }
}
