import Foundation

/// The wall clock by which controllers judge time rules that live in the objects themselves:
/// a pod Ready for `minReadySeconds`, a rollout past its `progressDeadlineSeconds`. Tests
/// substitute a clock they move by hand (client-go's `clock.Clock` / `FakeClock` play this role
/// in kube-controller-manager), so an assertion such as "not available yet" does not depend on
/// how fast a loaded machine runs the test. Delays of the work queues stay on real time.
public struct ControllerClock: Sendable {
    private let read: @Sendable () -> Date

    public init(now: @escaping @Sendable () -> Date) {
        self.read = now
    }

    /// The current time.
    public func now() -> Date { read() }

    /// The system's clock.
    public static let system = ControllerClock { Date() }
}
