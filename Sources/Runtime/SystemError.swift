import CShims
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
        return "\(what): \(Errno.text(errno))"
    }
}

/// Symbolic errno names: users search for `EBUSY`, not for "Device or resource busy".
public enum Errno {
    /// `EBUSY (Device or resource busy)`.
    public static func text(_ code: Int32) -> String {
        var buffer = [CChar](repeating: 0, count: 160)
        return String(cString: sl_errno_text(code, &buffer, UInt(buffer.count)))
    }
}

/// Retries a call while it fails with EINTR; the one place that does.
@discardableResult
func retryingEINTR<T: SignedInteger>(_ call: () -> T) -> T {
    while true {
        let rc = call()
        if rc >= 0 || errno != EINTR { return rc }
    }
}
