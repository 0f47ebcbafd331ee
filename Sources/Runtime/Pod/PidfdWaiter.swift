import Glibc

/// Waiting for a process that is not our child (a monitor) to exit: its pidfd becomes readable.
enum PidfdWaiter {
    static func waitReadable(_ pidfd: Int32) async {
        guard pidfd >= 0 else { return }
        await BlockingCall.run {
            var entry = pollfd(fd: pidfd, events: Int16(POLLIN), revents: 0)
            while poll(&entry, 1, -1) < 0 && errno == EINTR {}
        }
    }
}
