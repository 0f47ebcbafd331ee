import Foundation

/// Time for the node status reporter and lease: the system clock in the agent, a manual one
/// in tests so that 10-second periods take no time.
public protocol NodeClock: Sendable {
    func now() -> Date
    /// Sleeps for `duration`; throws `CancellationError` when the task is cancelled.
    func sleep(for duration: Duration) async throws
}

/// The real clock.
public struct SystemNodeClock: NodeClock {
    public init() {}

    public func now() -> Date { Date() }

    public func sleep(for duration: Duration) async throws {
        try await Task.sleep(for: duration)
    }
}
