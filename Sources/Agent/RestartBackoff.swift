import Foundation

/// kubelet's container restart back-off (k8s.io/client-go/util/flowcontrol.Backoff as used by
/// kuberuntime's doBackOff): a container that keeps exiting waits `initial`, then twice as long
/// each time up to `max`; a container that ran longer than `reset` (kubelet: 2 × max, ten
/// minutes) starts again from `initial`.
public struct RestartBackoff: Sendable, Equatable {
    public var initial: Duration
    public var max: Duration
    public var reset: Duration

    /// The current delay and when it was last applied; nil before the first restart.
    var delay: Duration?
    var lastUpdate: Date?

    public init(initial: Duration = .seconds(10), max: Duration = .seconds(300), reset: Duration? = nil) {
        self.initial = initial
        self.max = max
        self.reset = reset ?? max * 2
    }

    /// kubelet's IsInBackOffSince: still waiting, for a container that exited at `finishedAt`?
    /// Returns the moment the wait ends, or nil when it may restart now.
    func waitUntil(exitedAt finishedAt: Date, now: Date) -> Date? {
        guard let delay, let lastUpdate, !expired(finishedAt, lastUpdate) else { return nil }
        let end = finishedAt.addingTimeInterval(delay.seconds)
        return now < end ? end : nil
    }

    /// kubelet's Next: called when the container is restarted.
    mutating func recordRestart(exitedAt finishedAt: Date, now: Date) {
        if let current = delay, let lastUpdate, !expired(finishedAt, lastUpdate) {
            delay = Swift.min(current * 2, max)
        } else {
            delay = initial
        }
        lastUpdate = now
    }

    /// The delay the next wait will use, for the CrashLoopBackOff message.
    var currentDelay: Duration { delay ?? initial }

    private func expired(_ eventTime: Date, _ lastUpdate: Date) -> Bool {
        eventTime.timeIntervalSince(lastUpdate) > reset.seconds
    }
}

extension Duration {
    var seconds: Double {
        let parts = components
        return Double(parts.seconds) + Double(parts.attoseconds) / 1e18
    }

    /// "10s", "5m0s" as Go prints durations in kubelet's messages.
    var goString: String {
        let total = Int(seconds.rounded())
        if total < 60 { return "\(total)s" }
        if total < 3600 { return "\(total / 60)m\(total % 60)s" }
        return "\(total / 3600)h\((total % 3600) / 60)m\(total % 60)s"
    }
}
