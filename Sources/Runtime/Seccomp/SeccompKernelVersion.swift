#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A kernel version as seccomp profiles compare it: `<kernel>.<major>`, e.g. `4.8`.
///
/// Like moby's `KernelVersion`, minor revisions and distribution suffixes are ignored, so
/// `4.8.0-1-amd64`, `4.8.17` and `4.8` are all `4.8`.
public struct SeccompKernelVersion: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The kernel version (the `4` in `4.8.17`).
    public var kernel: UInt32
    /// The major revision (the `8` in `4.8.17`).
    public var major: UInt32

    /// `kernel.major`, e.g. `SeccompKernelVersion(4, 8)`.
    public init(_ kernel: UInt32, _ major: UInt32) {
        self.kernel = kernel
        self.major = major
    }

    /// Parses a kernel release such as `6.1.0-18-amd64` (what `uname -r` prints) or a
    /// profile's `4.8`; nil unless it starts with `<digits>.<digits>`.
    public init?(release: String) {
        let parts = release.split(separator: ".", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count >= 2,
              let kernel = UInt32(parts[0]),
              let major = UInt32(parts[1].prefix(while: { $0.isASCII && $0.isNumber }))
        else { return nil }
        self.init(kernel, major)
    }

    /// The running kernel's version (from `uname(2)`), or nil if it cannot be read or parsed.
    public static var running: SeccompKernelVersion? {
        var name = utsname()
        guard uname(&name) == 0 else { return nil }
        let release = withUnsafeBytes(of: &name.release) { raw in
            String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
        }
        return SeccompKernelVersion(release: release)
    }

    public static func < (lhs: SeccompKernelVersion, rhs: SeccompKernelVersion) -> Bool {
        (lhs.kernel, lhs.major) < (rhs.kernel, rhs.major)
    }

    /// `kernel.major`, the format profiles use.
    public var description: String { "\(kernel).\(major)" }
}
