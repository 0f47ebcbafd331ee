import CShims
import Foundation
import Glibc

/// `kubectl port-forward`'s runtime half: a connection to a port of the pod, made inside the
/// pod's network namespace as containerd's CRI PortForward makes it (the socket is created in
/// the namespace on a thread that returns to ours at once; no process is started).
extension PodRuntime {
    /// A connected TCP socket (blocking, CLOEXEC, ours to close) to `localhost:port` in the
    /// pod's network namespace: 127.0.0.1 first, then ::1, as containerd dials `tcp4` then
    /// `tcp6`. A hostNetwork pod's "localhost" is the node's. Blocking: call it from a thread
    /// of its own.
    public func connect(to port: UInt16, in sandbox: RunningSandbox) throws -> Int32 {
        let netns = sandbox.pod.spec.hostNetwork == true ? nil : sandbox.sandbox.networkNamespace
        let v4: Int32
        do {
            return try Self.connectLoopback(port: port, family: AF_INET, netns: netns)
        } catch let error as SystemError {
            v4 = error.errno
        }
        do {
            return try Self.connectLoopback(port: port, family: AF_INET6, netns: netns)
        } catch let error as SystemError {
            throw RuntimeError.notFound("failed to connect to localhost:\(port) inside the pod's network namespace, IPv4: \(Errno.text(v4)) IPv6: \(Errno.text(error.errno))")
        }
    }

    static func connectLoopback(port: UInt16, family: Int32, netns: Int32?) throws -> Int32 {
        let type = Int32(SOCK_STREAM.rawValue)
        let fd = netns.map { sl_socket_in_netns($0, family, type, 0) } ?? socket(family, type | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw SystemError("socket", family == AF_INET ? "tcp4" : "tcp6") }
        let rc: Int32
        if family == AF_INET {
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = port.bigEndian
            address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
            rc = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
        } else {
            var address = sockaddr_in6()
            address.sin6_family = sa_family_t(AF_INET6)
            address.sin6_port = port.bigEndian
            address.sin6_addr = in6addr_loopback
            rc = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size))
                }
            }
        }
        guard rc == 0 else {
            let error = SystemError("connect", "localhost:\(port)")
            close(fd)
            throw error
        }
        return fd
    }
}
