import CShims
import Glibc

/// What went wrong while programming the node, named by the failing step so an operator can
/// look at it by hand (`nft list table ip swiftlet-proxy`, `conntrack -L`).
public enum ServiceProxyError: Error, CustomStringConvertible, Equatable {
    /// The kernel refused a command of an nf_tables transaction (nothing of it was applied):
    /// `nf_tables transaction refused at "add rule endpoint-... meta l4proto tcp dnat to ...": ENOENT`.
    case transaction(step: String, errno: Int32, message: String?)
    /// A netlink request other than a transaction failed (a dump, conntrack).
    case netlink(step: String, errno: Int32, message: String?)
    /// A system call failed.
    case system(step: String, errno: Int32)
    /// A configuration that cannot work, with what to change.
    case invalidConfiguration(String)

    public var description: String {
        switch self {
        case .transaction(let step, let errno, let message):
            return Self.join("nf_tables transaction refused at \"\(step)\": \(Self.errnoText(errno))", message)
        case .netlink(let step, let errno, let message):
            return Self.join("\(step): \(Self.errnoText(errno))", message)
        case .system(let step, let errno):
            return "\(step): \(Self.errnoText(errno))"
        case .invalidConfiguration(let message):
            return message
        }
    }

    private static func join(_ base: String, _ message: String?) -> String {
        guard let message, !message.isEmpty else { return base }
        return "\(base): \(message)"
    }

    /// `EEXIST (File exists)`: the symbolic name users search for, then the text.
    static func errnoText(_ code: Int32) -> String {
        var buffer = [CChar](repeating: 0, count: 160)
        return String(cString: sl_errno_text(code, &buffer, UInt(buffer.count)))
    }
}
