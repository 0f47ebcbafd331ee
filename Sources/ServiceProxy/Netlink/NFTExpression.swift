/// One nf_tables expression, the bytecode rules are made of (what `nft --debug=netlink` prints
/// between brackets). Only the kinds the service rules need; their attributes are laid out in
/// the order libnftnl writes them, so the messages equal nft's byte for byte.
enum NFTExpression: Hashable, Sendable {
    /// `[ payload load <length>b @ <network|transport> header + <offset> => reg 1 ]`
    case payload(transport: Bool, offset: UInt32, length: UInt32)
    /// `[ cmp eq|neq reg 1 <data> ]`
    case compare(equal: Bool, data: [UInt8])
    /// `[ bitwise reg 1 = ( reg 1 & <mask> ) ^ 0 ]`
    case mask([UInt8])
    /// `[ meta load l4proto => reg 1 ]`
    case metaL4Protocol
    /// `[ immediate reg 0 <verdict> ]`
    case verdict(NFTVerdict)
    /// `[ immediate reg <register> <data> ]`
    case immediate(register: UInt32, data: [UInt8])
    /// `[ lookup reg 1 set <name> ]`, with `dreg 0` for a verdict map; `setID` when the set is
    /// created in the same transaction (anonymous sets have no name yet).
    case lookup(set: String, setID: UInt32?, verdictMap: Bool)
    /// `[ dynset update reg_key 1 set <name> ]`: adds or refreshes the source address.
    case dynsetUpdate(set: String, setID: UInt32?)
    /// `[ numgen reg 1 = random mod <modulus> ]`
    case randomNumber(modulus: UInt32)
    /// `[ nat dnat ip addr_min reg 1 proto_min reg 2 flags 0x2 ]`
    case dnatFromRegisters
    /// `[ fib saddr type => reg 1 ]`: the route type of the source address (local or not).
    case fibSourceAddressType

    func encode(into buffer: inout NetlinkBuffer) {
        buffer.nest(NFTNumbers.listElement) { element in
            element.put(NFTNumbers.expressionName, string: name)
            element.nest(NFTNumbers.expressionData) { data in encodeData(into: &data) }
        }
    }

    private var name: String {
        switch self {
        case .payload: return "payload"
        case .compare: return "cmp"
        case .mask: return "bitwise"
        case .metaL4Protocol: return "meta"
        case .verdict, .immediate: return "immediate"
        case .lookup: return "lookup"
        case .dynsetUpdate: return "dynset"
        case .randomNumber: return "numgen"
        case .dnatFromRegisters: return "nat"
        case .fibSourceAddressType: return "fib"
        }
    }

    private func encodeData(into data: inout NetlinkBuffer) {
        let r1 = NFTNumbers.register1
        switch self {
        case .payload(let transport, let offset, let length):
            data.put(1, be32: r1)                          // NFTA_PAYLOAD_DREG
            data.put(2, be32: transport ? 2 : 1)           // NFTA_PAYLOAD_BASE
            data.put(3, be32: offset)                      // NFTA_PAYLOAD_OFFSET
            data.put(4, be32: length)                      // NFTA_PAYLOAD_LEN
        case .compare(let equal, let bytes):
            data.put(1, be32: r1)                          // NFTA_CMP_SREG
            data.put(2, be32: equal ? 0 : 1)               // NFTA_CMP_OP: NFT_CMP_EQ / NEQ
            data.nest(3) { $0.put(NFTNumbers.dataValue, bytes) }  // NFTA_CMP_DATA
        case .mask(let mask):
            data.put(1, be32: r1)                          // NFTA_BITWISE_SREG
            data.put(2, be32: r1)                          // NFTA_BITWISE_DREG
            data.put(3, be32: UInt32(mask.count))          // NFTA_BITWISE_LEN
            data.nest(4) { $0.put(NFTNumbers.dataValue, mask) }  // NFTA_BITWISE_MASK
            data.nest(5) { $0.put(NFTNumbers.dataValue, [UInt8](repeating: 0, count: mask.count)) }  // XOR
        case .metaL4Protocol:
            data.put(2, be32: 16)                          // NFTA_META_KEY: NFT_META_L4PROTO
            data.put(1, be32: r1)                          // NFTA_META_DREG
        case .verdict(let verdict):
            data.put(1, be32: NFTNumbers.registerVerdict)  // NFTA_IMMEDIATE_DREG
            data.nest(2) { verdict.encode(into: &$0) }     // NFTA_IMMEDIATE_DATA
        case .immediate(let register, let bytes):
            data.put(1, be32: register)
            data.nest(2) { $0.put(NFTNumbers.dataValue, bytes) }
        case .lookup(let set, let setID, let verdictMap):
            data.put(2, be32: r1)                          // NFTA_LOOKUP_SREG
            if verdictMap { data.put(3, be32: NFTNumbers.registerVerdict) }  // NFTA_LOOKUP_DREG
            data.put(1, string: set)                       // NFTA_LOOKUP_SET
            if let setID { data.put(4, be32: setID) }      // NFTA_LOOKUP_SET_ID
        case .dynsetUpdate(let set, let setID):
            data.put(4, be32: r1)                          // NFTA_DYNSET_SREG_KEY
            data.put(3, be32: 1)                           // NFTA_DYNSET_OP: NFT_DYNSET_OP_UPDATE
            data.put(1, string: set)                       // NFTA_DYNSET_SET_NAME
            if let setID { data.put(2, be32: setID) }      // NFTA_DYNSET_SET_ID
        case .randomNumber(let modulus):
            data.put(1, be32: r1)                          // NFTA_NG_DREG
            data.put(2, be32: modulus)                     // NFTA_NG_MODULUS
            data.put(3, be32: 1)                           // NFTA_NG_TYPE: NFT_NG_RANDOM
            data.put(4, be32: 0)                           // NFTA_NG_OFFSET
        case .dnatFromRegisters:
            data.put(1, be32: 1)                           // NFTA_NAT_TYPE: NFT_NAT_DNAT
            data.put(2, be32: UInt32(NFTNumbers.familyIPv4))  // NFTA_NAT_FAMILY
            data.put(3, be32: r1)                          // NFTA_NAT_REG_ADDR_MIN
            data.put(5, be32: NFTNumbers.register2)        // NFTA_NAT_REG_PROTO_MIN
            data.put(7, be32: 0x2)                         // NFTA_NAT_FLAGS: NF_NAT_RANGE_PROTO_SPECIFIED
        case .fibSourceAddressType:
            data.put(3, be32: 1)                           // NFTA_FIB_FLAGS: NFTA_FIB_F_SADDR
            data.put(2, be32: 3)                           // NFTA_FIB_RESULT: NFT_FIB_RESULT_ADDRTYPE
            data.put(1, be32: r1)                          // NFTA_FIB_DREG
        }
    }
}
