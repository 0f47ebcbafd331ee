import Dispatch

/// Waiting for a process that is not our child (a monitor) to exit: its pidfd becomes readable.
///
/// One dispatch read source per pidfd, all on one serial queue: libdispatch watches every source
/// from its one epoll loop, so a node with hundreds of containers waits on them without a thread
/// per container (a `poll` blocked on a thread of its own per container made 100 pods 106
/// threads; kubelet's PLEG likewise watches every container from one loop).
///
/// On a readable descriptor libdispatch asks how many bytes wait (SIOCINQ); a pidfd refuses that
/// ioctl with ENOTTY or EINVAL, which libdispatch remembers and reports as one byte
/// (`_dispatch_get_buffer_size` in libdispatch's src/event/event_epoll.c). It must not see the
/// descriptor closed while the source is registered ("Do not close random Unix descriptors").
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
