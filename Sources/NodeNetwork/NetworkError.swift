import CShims
import Glibc

/// What went wrong while plumbing the node or a pod, named by the failing step so an operator
/// can repeat it by hand (`ip link add ...`, `nft list table ip swiftlet`).
public enum NetworkError: Error, CustomStringConvertible, Equatable {
    /// The kernel refused a netlink request: `RTM_NEWLINK veth swl3f2a: EEXIST (File exists)`,
    /// followed by the kernel's own explanation when it gave one (extended ack).
    case netlink(request: String, errno: Int32, message: String?)
    /// A system call failed: `setns(CLONE_NEWNET) for pod 1234: EBADF (Bad file descriptor)`.
    case system(step: String, detail: String, errno: Int32)
    /// nft refused a transaction; `text` is nft's error output.
    case nftables(what: String, text: String)
    /// Every address of the range is taken (CNI host-local's wording).
    case addressesExhausted(range: String)
    /// A configuration or argument that cannot work, with what to change.
    case invalid(String)
    /// The node is not set up (no bridge): `ensureNode()` must run before pods are plumbed.
    case nodeNotReady(String)

    /// The message for a user or a log.
    public var description: String {
        switch self {
        case .netlink(let request, let errno, let message):
            let base = "\(request): \(Self.errnoText(errno))"
            guard let message, !message.isEmpty else { return base }
            return "\(base): \(message)"
        case .system(let step, let detail, let errno):
            return detail.isEmpty ? "\(step): \(Self.errnoText(errno))" : "\(step) \(detail): \(Self.errnoText(errno))"
        case .nftables(let what, let text):
            // nft prints the error, then the command it was on, then a caret line.
            let lines = text.split(separator: "\n").filter { !$0.allSatisfy { $0 == " " || $0 == "^" || $0 == "\t" } }
            guard let first = lines.first else { return "nft \(what) failed" }
            return lines.count > 1 ? "nft \(what): \(first) (\(lines[1]))" : "nft \(what): \(first)"
        case .addressesExhausted(let range):
            return "no IP addresses available in range \(range)"
        case .invalid(let message), .nodeNotReady(let message):
            return message
        }
    }

    /// The errno of a netlink or system failure, for callers that tolerate some (ENODEV on delete).
    public var errno: Int32? {
        switch self {
        case .netlink(_, let errno, _), .system(_, _, let errno): return errno
        default: return nil
        }
    }

    /// `EEXIST (File exists)`: the symbolic name users search for, then the text.
    static func errnoText(_ code: Int32) -> String {
        var buffer = [CChar](repeating: 0, count: 160)
        return String(cString: sl_errno_text(code, &buffer, UInt(buffer.count)))
    }
}
