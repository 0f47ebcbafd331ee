import CShims
import Glibc

/// nft command text through libnftables, inside the node's namespace (CShims' sl_nft, which
/// NodeNetwork's NFTables also uses; that wrapper is internal to NodeNetwork, so this is its
/// twin for the proxy). Used for the table's fixed part and for listing; per-service changes go
/// through NFTBatch instead. Not thread-safe: the proxy runs one operation at a time.
final class NFTCommands: @unchecked Sendable {
    private let context: OpaquePointer
    let netns: Int32

    init(netns: Int32) throws {
        var step: UnsafePointer<CChar>? = nil
        guard let context = sl_nft_new(netns, &step) else {
            throw ServiceProxyError.system(step: step.map { String(cString: $0) } ?? "nft_ctx_new", errno: Glibc.errno)
        }
        self.context = context
        self.netns = netns
    }

    deinit { sl_nft_free(context) }

    /// Runs `commands` as one transaction; returns what they print (`list` commands).
    @discardableResult
    func run(_ commands: String, what: String) throws -> String {
        var output: UnsafePointer<CChar>? = nil
        var error: UnsafePointer<CChar>? = nil
        guard sl_nft_run(context, netns, commands, &output, &error) == 0 else {
            let text = error.map { String(cString: $0) } ?? ""
            throw ServiceProxyError.nftables(what: what, text: text.isEmpty ? ServiceProxyError.errnoText(Glibc.errno) : text)
        }
        return output.map { String(cString: $0) } ?? ""
    }
}
