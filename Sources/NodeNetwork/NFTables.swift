import CShims
import Glibc

/// A libnftables context bound to one network namespace (the node's). Commands run in one
/// transaction per call, on the calling thread after setns into the namespace (see sl_nft.h).
/// Not thread-safe: libnftables contexts are not; its users (BridgeNetwork, the service proxy's
/// netfilter worker) serialise calls, hence the unchecked Sendable.
package final class NFTables: @unchecked Sendable {
    private let context: OpaquePointer
    /// The namespace fd commands run in (-1: the calling thread's own). Not owned.
    package let netns: Int32

    package init(netns: Int32) throws {
        var step: UnsafePointer<CChar>? = nil
        guard let context = sl_nft_new(netns, &step) else {
            throw NetworkError.system(step: step.map { String(cString: $0) } ?? "nft_ctx_new",
                                      detail: "for the node's nftables", errno: Glibc.errno)
        }
        self.context = context
        self.netns = netns
    }

    deinit { sl_nft_free(context) }

    /// Runs `commands` as one transaction; returns what they print (`list` commands).
    /// `what` names the change in errors: `nft add hostPorts of pod 1234: Error: ...`.
    @discardableResult
    package func run(_ commands: String, what: String) throws -> String {
        var output: UnsafePointer<CChar>? = nil
        var error: UnsafePointer<CChar>? = nil
        let rc = sl_nft_run(context, netns, commands, &output, &error)
        guard rc == 0 else {
            let text = error.map { String(cString: $0) } ?? ""
            throw NetworkError.nftables(what: what, text: text.isEmpty ? NetworkError.errnoText(Glibc.errno) : text)
        }
        return output.map { String(cString: $0) } ?? ""
    }
}
