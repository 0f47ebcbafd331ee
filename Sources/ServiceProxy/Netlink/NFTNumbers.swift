/// The nf_tables and nfnetlink numbers the proxy speaks, copied from the kernel's uapi headers
/// (linux/netfilter/nf_tables.h, nfnetlink.h, nfnetlink_conntrack.h; names in comments). They
/// are ABI: they never change once released. Tests check the messages they make against the
/// bytes nft 1.0.6 sends for the same commands.
enum NFTNumbers {
    static let subsystemNFTables: UInt16 = 10       // NFNL_SUBSYS_NFTABLES
    static let subsystemConntrack: UInt16 = 1       // NFNL_SUBSYS_CTNETLINK
    static let batchBegin: UInt16 = 0x10            // NFNL_MSG_BATCH_BEGIN
    static let batchEnd: UInt16 = 0x11              // NFNL_MSG_BATCH_END
    static let familyIPv4: UInt8 = 2                // NFPROTO_IPV4

    // enum nf_tables_msg_types
    static let delTable: UInt16 = 2
    static let newChain: UInt16 = 3
    static let getChain: UInt16 = 4
    static let delChain: UInt16 = 5
    static let newRule: UInt16 = 6
    static let delRule: UInt16 = 8
    static let newSet: UInt16 = 9
    static let getSet: UInt16 = 10
    static let delSet: UInt16 = 11
    static let newSetElem: UInt16 = 12
    static let delSetElem: UInt16 = 14

    // netlink header flags
    static let request: UInt16 = 0x1                // NLM_F_REQUEST
    static let ack: UInt16 = 0x4                    // NLM_F_ACK
    static let dump: UInt16 = 0x300                 // NLM_F_DUMP (ROOT | MATCH)
    static let create: UInt16 = 0x400               // NLM_F_CREATE
    static let append: UInt16 = 0x800               // NLM_F_APPEND

    // enum nft_table_attributes
    static let tableName: UInt16 = 1
    // enum nft_chain_attributes
    static let chainTable: UInt16 = 1
    static let chainName: UInt16 = 3
    // enum nft_rule_attributes
    static let ruleTable: UInt16 = 1
    static let ruleChain: UInt16 = 2
    static let ruleExpressions: UInt16 = 4
    // enum nft_set_attributes
    static let setTable: UInt16 = 1
    static let setName: UInt16 = 2
    static let setFlags: UInt16 = 3
    static let setKeyType: UInt16 = 4
    static let setKeyLength: UInt16 = 5
    static let setDataType: UInt16 = 6
    static let setDataLength: UInt16 = 7
    static let setDescription: UInt16 = 9
    static let setID: UInt16 = 10
    static let setTimeout: UInt16 = 11
    static let setUserData: UInt16 = 13
    static let setDescriptionSize: UInt16 = 1       // NFTA_SET_DESC_SIZE
    // enum nft_set_flags
    static let setAnonymous: UInt32 = 0x1
    static let setConstant: UInt32 = 0x2
    static let setMap: UInt32 = 0x8
    static let setTimeoutFlag: UInt32 = 0x10
    static let setEvaluation: UInt32 = 0x20         // "dynamic"
    // enum nft_set_elem_list_attributes / nft_set_elem_attributes
    static let elementsTable: UInt16 = 1
    static let elementsSet: UInt16 = 2
    static let elementsList: UInt16 = 3
    static let elementsSetID: UInt16 = 4
    static let elementKey: UInt16 = 1
    static let elementData: UInt16 = 2
    // enum nft_list_attributes, nft_expr_attributes, nft_data_attributes, nft_verdict_attributes
    static let listElement: UInt16 = 1
    static let expressionName: UInt16 = 1
    static let expressionData: UInt16 = 2
    static let dataValue: UInt16 = 1
    static let dataVerdict: UInt16 = 2
    static let verdictCode: UInt16 = 1
    static let verdictChain: UInt16 = 2
    /// NFT_DATA_VERDICT: a set's data type when it maps to verdicts.
    static let dataTypeVerdict: UInt32 = 0xffff_ff00
    // nft's datatype numbers (src/datatype.h: TYPE_INTEGER, TYPE_IPADDR), kept in NFTA_SET_KEY_TYPE.
    static let typeInteger: UInt32 = 4
    static let typeIPv4Address: UInt32 = 7

    // Registers (enum nft_registers).
    static let registerVerdict: UInt32 = 0
    static let register1: UInt32 = 1
    static let register2: UInt32 = 2
}

/// Numbers of the conntrack netlink subsystem (linux/netfilter/nfnetlink_conntrack.h).
enum ConntrackNumbers {
    static let messageNew: UInt16 = 0               // IPCTNL_MSG_CT_NEW
    static let messageGet: UInt16 = 1               // IPCTNL_MSG_CT_GET
    static let messageDelete: UInt16 = 2            // IPCTNL_MSG_CT_DELETE
    static let tupleOriginal: UInt16 = 1            // CTA_TUPLE_ORIG
    static let tupleReply: UInt16 = 2               // CTA_TUPLE_REPLY
    static let tupleIP: UInt16 = 1                  // CTA_TUPLE_IP
    static let tupleProtocol: UInt16 = 2            // CTA_TUPLE_PROTO
    static let ipv4Source: UInt16 = 1               // CTA_IP_V4_SRC
    static let ipv4Destination: UInt16 = 2          // CTA_IP_V4_DST
    static let protocolNumber: UInt16 = 1           // CTA_PROTO_NUM
    static let protocolSourcePort: UInt16 = 2       // CTA_PROTO_SRC_PORT
    static let protocolDestinationPort: UInt16 = 3  // CTA_PROTO_DST_PORT
    static let familyIPv4: UInt8 = 2                // AF_INET
}
