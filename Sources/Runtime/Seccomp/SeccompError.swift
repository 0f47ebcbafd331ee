import CShims

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Why a seccomp profile could not be read or compiled.
public enum SeccompError: Error, CustomStringConvertible, Equatable {
    /// The profile is not JSON, or not a JSON object; `detail` is the decoder's complaint.
    case invalidJSON(detail: String)
    /// A field of a JSON profile has a value swiftlet cannot use. `field` is its path
    /// (`syscalls[3].action`), `problem` says what is wrong and what is accepted.
    case invalidProfile(field: String, problem: String)
    /// A rule depends on the kernel version, which could not be read from `uname(2)`.
    case unknownKernelVersion(syscalls: [String])
    /// libseccomp rejected a call. `call` names the function and its subject, e.g.
    /// `seccomp_rule_add(ptrace)`; `errno` is the positive errno it returned.
    case libseccomp(call: String, errno: Int32)
    /// A system call made around libseccomp (the temporary file the program is exported to) failed.
    case system(call: String, errno: Int32)

    public var description: String {
        switch self {
        case .invalidJSON(let detail):
            return "seccomp profile is not valid JSON: \(detail)"
        case .invalidProfile(let field, let problem):
            return "seccomp profile field \(field): \(problem)"
        case .unknownKernelVersion(let syscalls):
            return "seccomp rule for \(syscalls.joined(separator: ", ")) depends on the kernel version, "
                + "but the running kernel's release (uname -r) could not be parsed"
        case .libseccomp(let call, let errno):
            return "\(call): \(Self.describe(errno: errno)) (libseccomp \(Self.libseccompVersion))"
        case .system(let call, let errno):
            return "\(call): \(Self.describe(errno: errno))"
        }
    }

    /// `strerror` text with the number, e.g. `Invalid argument (errno 22)`.
    static func describe(errno: Int32) -> String {
        "\(String(cString: strerror(errno))) (errno \(errno))"
    }

    private static var libseccompVersion: String {
        guard let version = seccomp_version() else { return "unknown version" }
        return "\(version.pointee.major).\(version.pointee.minor).\(version.pointee.micro)"
    }
}
