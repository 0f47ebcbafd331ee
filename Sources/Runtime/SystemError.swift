import Glibc

/// A failed system call, named by the step and the object it worked on, as in
/// `setns(/run/swiftlet/pods/x/ns/net): EPERM (Operation not permitted)`.
public struct SystemError: Error, CustomStringConvertible, Equatable {
    public let step: String
    public let detail: String
    public let errno: Int32

    public init(_ step: String, _ detail: String = "", errno: Int32 = Glibc.errno) {
        self.step = step
        self.detail = detail
        self.errno = errno
    }

    public var description: String {
        let what = detail.isEmpty ? step : "\(step)(\(detail))"
        return "\(what): \(Errno.name(errno)) (\(String(cString: strerror(errno))))"
    }
}

/// Symbolic errno names: users search for `EBUSY`, not for "Device or resource busy".
public enum Errno {
    public static func name(_ code: Int32) -> String {
        names[code] ?? "errno \(code)"
    }

    private static let names: [Int32: String] = [
        EPERM: "EPERM", ENOENT: "ENOENT", ESRCH: "ESRCH", EINTR: "EINTR", EIO: "EIO", ENXIO: "ENXIO",
        E2BIG: "E2BIG", ENOEXEC: "ENOEXEC", EBADF: "EBADF", ECHILD: "ECHILD", EAGAIN: "EAGAIN",
        ENOMEM: "ENOMEM", EACCES: "EACCES", EFAULT: "EFAULT", EBUSY: "EBUSY", EEXIST: "EEXIST",
        EXDEV: "EXDEV", ENODEV: "ENODEV", ENOTDIR: "ENOTDIR", EISDIR: "EISDIR", EINVAL: "EINVAL",
        ENFILE: "ENFILE", EMFILE: "EMFILE", ENOTTY: "ENOTTY", ETXTBSY: "ETXTBSY", EFBIG: "EFBIG",
        ENOSPC: "ENOSPC", ESPIPE: "ESPIPE", EROFS: "EROFS", EMLINK: "EMLINK", EPIPE: "EPIPE",
        ERANGE: "ERANGE", ENAMETOOLONG: "ENAMETOOLONG", ENOSYS: "ENOSYS", ENOTEMPTY: "ENOTEMPTY",
        ELOOP: "ELOOP", EPROTO: "EPROTO", EOPNOTSUPP: "EOPNOTSUPP", ENOTSUP: "ENOTSUP",
        ETIMEDOUT: "ETIMEDOUT", ECONNREFUSED: "ECONNREFUSED", EADDRINUSE: "EADDRINUSE",
    ]
}

/// Retries a call while it fails with EINTR; the one place that does.
@discardableResult
func retryingEINTR<T: SignedInteger>(_ call: () -> T) -> T {
    while true {
        let rc = call()
        if rc >= 0 || errno != EINTR { return rc }
    }
}
