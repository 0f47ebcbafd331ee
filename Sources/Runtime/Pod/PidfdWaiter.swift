import Dispatch
import Glibc

/// Waiting for a process that is not our child (a monitor) to exit: its pidfd becomes readable.
///
/// One dispatch read source per pidfd, all on one serial queue: libdispatch watches every source
/// from its one epoll loop, so a node with hundreds of containers waits on them with no thread
/// per container. (A `poll` blocked per container cost a thread each, its stack and, once more
/// threads ran than glibc has arenas, malloc arenas: about 180 KiB of the agent's anonymous memory
/// per running pod; docs/benchmarks.md "Agent memory".) kubelet's PLEG likewise watches every
/// container from one loop rather than a goroutine blocked per container.
///
/// libdispatch asks a readable descriptor how many bytes wait (FIONREAD); a pidfd answers that
/// with ENOTTY or EINVAL, which libdispatch takes as "readable, size unknown".
enum PidfdWaiter {
    private static let queue = DispatchQueue(label: "swiftlet.pidfd-waiter")

    /// Returns once the process behind `pidfd` has exited. The caller keeps `pidfd` open until
    /// then (libdispatch must stop watching a descriptor before it is closed; it has by the time
    /// this returns, since the cancel handler resumes the wait).
    static func waitReadable(_ pidfd: Int32) async {
        guard pidfd >= 0 else { return }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let source = DispatchSource.makeReadSource(fileDescriptor: pidfd, queue: queue)
            // The handler holds the source until it cancels it; cancelling releases both handlers.
            source.setEventHandler { source.cancel() }
            source.setCancelHandler { continuation.resume() }
            source.activate()
        }
    }
}
