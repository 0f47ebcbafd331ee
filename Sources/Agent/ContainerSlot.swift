import Foundation
import Images
import KubeAPI
import Runtime

/// What the pod worker knows about one container of its pod, across restarts.
struct ContainerSlot {
    enum Kind { case initContainer, app, ephemeral }

    /// The container's spec. Boxed: a `Container` is 1.3 KB, and a slot is copied out of the
    /// worker's dictionary and back at most steps, and into the worker's async frames (a heap
    /// profile found 28 copies of a 1.8 KB slot in one frame of `start`).
    var spec: Container { specBox.value }
    private let specBox: SpecBox
    var kind: Kind
    /// An ephemeral container's target: it joins that container's PID namespace.
    var targetContainerName: String?
    /// The running start, if any.
    var current: RunningContainer?
    /// The most recent start that ended, kept until the next start removes it.
    var previous: RunningContainer?
    /// How the last start ended, and the one before (kubelet's state / lastState).
    var lastExit: ContainerExit?
    var exitBeforeLast: ContainerExit?
    /// Starts so far; the next start's restart count (and log file number) is this value.
    var starts = 0
    var backoff: RestartBackoff
    /// Why it is not running, when it is waiting (ContainerCreating, CrashLoopBackOff, ...).
    var waitingReason: String?
    var waitingMessage: String?
    var ready = false
    /// The startup probe passed (true when there is none).
    var started = false
    var probes: [Task<Void, Never>] = []
    var wakeTimer: Task<Void, Never>?
    /// The image made sure of for the next start (kubelet's EnsureImageExists succeeded).
    var readyImage: Image?
    /// The image check or pull for the next start, while it runs.
    var imageTask: Task<Void, Never>?
    /// No new image attempt before this: the pull back-off after a failure.
    var imageRetryAt: Date?
    /// A start was decided (a first start, or a restart past its back-off) and waits for the image.
    var startPending = false

    init(spec: Container, kind: Kind, backoff: RestartBackoff) {
        specBox = SpecBox(spec)
        self.kind = kind
        self.backoff = backoff
        waitingReason = kind == .initContainer ? "PodInitializing" : "ContainerCreating"
    }

    init(ephemeral: EphemeralContainer, backoff: RestartBackoff) {
        self.init(spec: ephemeral.container, kind: .ephemeral, backoff: backoff)
        targetContainerName = ephemeral.targetContainerName
    }

    var restartCount: Int { max(starts - 1, 0) }
    var isRunning: Bool { current != nil }

    private final class SpecBox: Sendable {
        let value: Container
        init(_ value: Container) { self.value = value }
    }

    mutating func cancelTasks() {
        for task in probes { task.cancel() }
        probes = []
        wakeTimer?.cancel()
        wakeTimer = nil
        imageTask?.cancel()
        imageTask = nil
    }
}
