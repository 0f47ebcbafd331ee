/// A watch as a `ResourceClient` hands it out (client-go's `watch.Interface`): the events in
/// order, ending when the server ends the watch (then list and watch again), and a way to stop
/// it early. It hides which implementation produces the events.
package struct ResourceWatch: AsyncSequence, Sendable {
    package typealias Element = WatchEvent
    package typealias Failure = Never

    private let makeIterator: @Sendable () -> any AsyncIteratorProtocol<WatchEvent, Never>
    private let stop: @Sendable () -> Void

    /// Wraps a sequence of events and the function that stops its source.
    package init<Events: AsyncSequence & Sendable>(_ events: Events, cancel: @escaping @Sendable () -> Void)
    where Events.Element == WatchEvent, Events.Failure == Never {
        self.makeIterator = { events.makeAsyncIterator() }
        self.stop = cancel
    }

    /// Stops the watch; the sequence ends.
    package func cancel() {
        stop()
    }

    package func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(base: makeIterator())
    }

    package struct AsyncIterator: AsyncIteratorProtocol {
        var base: any AsyncIteratorProtocol<WatchEvent, Never>

        package mutating func next() async -> WatchEvent? {
            await base.next(isolation: nil)
        }
    }
}
