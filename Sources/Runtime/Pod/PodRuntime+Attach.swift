import CShims
import Foundation
import Glibc

/// `kubectl attach`'s runtime half: a connection to the attach socket the container's monitor
/// serves (Monitor/monitor.c), as containerd's CRI Attach reaches the container's own stdio
/// through its shim.
extension PodRuntime {
    /// A connected stream socket (blocking, CLOEXEC, ours to close) to the monitor of
    /// `container`. The socket's place derives from the container's directory, so a container
    /// adopted after an agent restart is reached the same way. Blocking (short): call it from a
    /// thread of its own.
    public func attach(to container: RunningContainer) throws -> Int32 {
        guard case .monitored = container.process else {
            throw RuntimeError.unsupported("container \"\(container.name)\" has no monitor: only containers the agent started under swiftlet-monitor can be attached to")
        }
        let fd = sl_attach_connect(container.directory)
        guard fd >= 0 else {
            let err = errno
            if err == ENOENT || err == ECONNREFUSED {
                throw RuntimeError.notFound("container \"\(container.name)\" is not running (its monitor serves no attach socket: \(Errno.text(err)))")
            }
            throw SystemError("connect", container.directory + "/" + MonitoredStdio.attachSocketName, errno: err)
        }
        return fd
    }
}
