import Controllers
import Foundation
import Synchronization

/// The clock of the controllers and the test kubelet in rollout tests: the system's, or a
/// frozen one that moves only when the test advances it, so that time rules (minReadySeconds,
/// progress deadlines) are asserted without racing the wall clock on a loaded machine.
package final class TestClock: Sendable {
    private let frozenAt: Mutex<Date?>

    /// The system clock, or one frozen at `frozenAt`.
    package init(frozenAt: Date? = nil) {
        self.frozenAt = Mutex(frozenAt)
    }

    package func now() -> Date {
        frozenAt.withLock { $0 } ?? Date()
    }

    /// Moves a frozen clock forward (a system clock moves by itself).
    package func advance(by seconds: TimeInterval) {
        frozenAt.withLock { time in
            if let current = time { time = current.addingTimeInterval(seconds) }
        }
    }

    package var controllerClock: ControllerClock {
        ControllerClock { [self] in now() }
    }
}
