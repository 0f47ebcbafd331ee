import NIOCore

/// A timeout that moves often and fires rarely, without a scheduled task per move: the one task
/// scheduled fires at the earliest deadline it was set to, finds the current deadline later,
/// and re-arms for it (the lazy timer of nginx's and Netty's idle handlers). Moving a deadline
/// later, as every read of a busy connection does, costs a store, not an allocation.
/// Used on its event loop only.
final class DeadlineTimer {
    private let eventLoop: EventLoop
    private var deadline: NIODeadline?
    private var scheduled: Scheduled<Void>?
    private var scheduledFor: NIODeadline?
    /// Called on the event loop when the deadline passes.
    var onExpire: (() -> Void)?

    init(eventLoop: EventLoop) {
        self.eventLoop = eventLoop
    }

    /// Arms the timer for `timeout` from now.
    func set(in timeout: TimeAmount) {
        set(NIODeadline.now() + timeout)
    }

    /// Arms the timer for `deadline`, or disarms it with nil.
    func set(_ deadline: NIODeadline?) {
        self.deadline = deadline
        guard let deadline else { return }
        if let pending = scheduledFor, pending <= deadline { return }
        scheduled?.cancel()
        schedule(at: deadline)
    }

    /// Disarms the timer for good and drops the callback (which usually holds the owner).
    func cancel() {
        deadline = nil
        scheduled?.cancel()
        scheduled = nil
        scheduledFor = nil
        onExpire = nil
    }

    private func schedule(at when: NIODeadline) {
        scheduledFor = when
        scheduled = eventLoop.assumeIsolated().scheduleTask(deadline: when) { [weak self] in
            self?.fire()
        }
    }

    private func fire() {
        scheduled = nil
        scheduledFor = nil
        guard let deadline else { return }
        if deadline <= NIODeadline.now() {
            self.deadline = nil
            onExpire?()
        } else {
            schedule(at: deadline)
        }
    }
}
