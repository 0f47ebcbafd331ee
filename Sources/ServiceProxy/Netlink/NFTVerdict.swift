/// A verdict: where a rule or a verdict-map element sends the packet.
enum NFTVerdict: Hashable, Sendable {
    case accept
    case drop
    case jump(String)
    case goto(String)
    /// Back to the chain that jumped here (a chain reached by `goto` returns to its caller's caller).
    case `return`

    /// The kernel's code (NF_ACCEPT, NF_DROP, NFT_JUMP, NFT_GOTO, NFT_RETURN).
    var code: Int32 {
        switch self {
        case .accept: return 1
        case .drop: return 0
        case .jump: return -3
        case .goto: return -4
        case .return: return -5
        }
    }

    var chain: String? {
        switch self {
        case .jump(let chain), .goto(let chain): return chain
        case .accept, .drop, .return: return nil
        }
    }

    /// As nft prints it: `goto service-...`, `drop`.
    var text: String {
        switch self {
        case .accept: return "accept"
        case .drop: return "drop"
        case .jump(let chain): return "jump \(chain)"
        case .goto(let chain): return "goto \(chain)"
        case .return: return "return"
        }
    }

    /// `NFTA_DATA_VERDICT { code, chain }` inside the current attribute.
    func encode(into buffer: inout NetlinkBuffer) {
        buffer.nest(NFTNumbers.dataVerdict) { verdict in
            verdict.put(NFTNumbers.verdictCode, be32: UInt32(bitPattern: code))
            if let chain { verdict.put(NFTNumbers.verdictChain, string: chain) }
        }
    }
}
