/// One nf_tables transaction as netlink messages: everything between BATCH_BEGIN and BATCH_END
/// is applied by the kernel all at once or not at all (nfnetlink_rcv_batch). The proxy builds
/// these itself instead of writing nft text because libnftables 1.0.6 re-reads every chain and
/// set of the namespace before each command it runs (its cache), which made changing one
/// service among thousands cost as much as listing them all (see docs/network.md).
///
/// Messages carry no NLM_F_ACK, as nft sends them: the kernel answers only errors, each with
/// the sequence number of the message it refused; `describe(sequence:)` names that step.
struct NFTBatch {
    private(set) var buffer = NetlinkBuffer(reservingCapacity: 16 * 1024)
    private var sequence: UInt32
    private let firstSequence: UInt32
    /// What each message does, by sequence number minus `firstSequence`, for error messages.
    private var steps: [String] = []
    /// IDs name sets created in this transaction until the kernel names them.
    var nextSetID: UInt32 = 1
    /// The number of commands (messages between begin and end).
    var count: Int { steps.count - 1 }

    init(firstSequence: UInt32) {
        self.firstSequence = firstSequence
        self.sequence = firstSequence
        let begin = buffer.beginMessage(type: NFTNumbers.batchBegin, flags: NFTNumbers.request, sequence: sequence,
                                        family: 0, resourceID: NFTNumbers.subsystemNFTables)
        buffer.end(message: begin)
        steps.append("commit")
        sequence &+= 1
    }

    /// The finished datagram (with BATCH_END).
    func finished() -> [UInt8] {
        var copy = buffer
        let end = copy.beginMessage(type: NFTNumbers.batchEnd, flags: NFTNumbers.request, sequence: sequence,
                                    family: 0, resourceID: NFTNumbers.subsystemNFTables)
        copy.end(message: end)
        return copy.bytes
    }

    /// The sequence number after this batch's last one (for the next batch on the socket).
    var nextSequence: UInt32 { sequence &+ 1 }

    /// What the message with `sequence` did ("add rule to chain X"), or nil if not ours.
    func describe(sequence number: UInt32) -> String? {
        let index = Int(number &- firstSequence)
        return index >= 0 && index < steps.count ? steps[index] : nil
    }

    private mutating func message(_ type: UInt16, flags: UInt16, step: String, _ body: (inout NetlinkBuffer) -> Void) {
        let start = buffer.beginMessage(type: NFTNumbers.subsystemNFTables << 8 | type, flags: NFTNumbers.request | flags,
                                        sequence: sequence, family: NFTNumbers.familyIPv4)
        body(&buffer)
        buffer.end(message: start)
        steps.append(step)
        sequence &+= 1
    }

    // MARK: Chains and rules

    /// `add chain`: creates a regular chain, no error when it exists.
    mutating func addChain(table: String, _ name: String) {
        message(NFTNumbers.newChain, flags: NFTNumbers.create, step: "add chain \(table) \(name)") {
            $0.put(NFTNumbers.chainTable, string: table)
            $0.put(NFTNumbers.chainName, string: name)
        }
    }

    /// `flush chain`: deletes every rule of the chain.
    mutating func flushChain(table: String, _ name: String) {
        message(NFTNumbers.delRule, flags: 0, step: "flush chain \(table) \(name)") {
            $0.put(NFTNumbers.ruleTable, string: table)
            $0.put(NFTNumbers.ruleChain, string: name)
        }
    }

    /// `delete chain`: the chain must be empty and unreferenced.
    mutating func deleteChain(table: String, _ name: String) {
        message(NFTNumbers.delChain, flags: 0, step: "delete chain \(table) \(name)") {
            $0.put(NFTNumbers.chainTable, string: table)
            $0.put(NFTNumbers.chainName, string: name)
        }
    }

    /// `add rule`: appends a rule made of `expressions` to `chain`.
    mutating func addRule(table: String, chain: String, _ expressions: [NFTExpression], text: String) {
        message(NFTNumbers.newRule, flags: NFTNumbers.create | NFTNumbers.append, step: "add rule \(table) \(chain) \(text)") {
            $0.put(NFTNumbers.ruleTable, string: table)
            $0.put(NFTNumbers.ruleChain, string: chain)
            $0.nest(NFTNumbers.ruleExpressions) { list in
                for expression in expressions { expression.encode(into: &list) }
            }
        }
    }

    /// `delete table`: the table and everything in it.
    mutating func deleteTable(_ name: String) {
        message(NFTNumbers.delTable, flags: 0, step: "delete table \(name)") {
            $0.put(NFTNumbers.tableName, string: name)
        }
    }

    // MARK: Sets and maps

    /// An anonymous constant verdict map keyed by 0..<n, for `numgen random mod n vmap {...}`:
    /// created with the kernel-assigned name `__map%d` and referred to by the returned ID in
    /// the same transaction. Its user data is what nft stores (key in host byte order, typeof
    /// numgen), so `nft list` prints it the way nft would have written it.
    mutating func addAnonymousVerdictMap(table: String, _ verdicts: [NFTVerdict]) -> (name: String, id: UInt32) {
        let id = nextSetID
        nextSetID += 1
        let name = "__map%d"
        message(NFTNumbers.newSet, flags: NFTNumbers.create, step: "add anonymous verdict map to \(table)") {
            $0.put(NFTNumbers.setTable, string: table)
            $0.put(NFTNumbers.setName, string: name)
            $0.put(NFTNumbers.setFlags, be32: NFTNumbers.setAnonymous | NFTNumbers.setConstant | NFTNumbers.setMap)
            $0.put(NFTNumbers.setKeyType, be32: NFTNumbers.typeInteger)
            $0.put(NFTNumbers.setKeyLength, be32: 4)
            $0.put(NFTNumbers.setDataType, be32: NFTNumbers.dataTypeVerdict)
            $0.put(NFTNumbers.setDataLength, be32: 0)
            $0.put(NFTNumbers.setID, be32: id)
            $0.nest(NFTNumbers.setDescription) { $0.put(NFTNumbers.setDescriptionSize, be32: UInt32(verdicts.count)) }
            $0.put(NFTNumbers.setUserData, Self.numgenMapUserData)
        }
        let elements = verdicts.enumerated().map { index, verdict in
            (key: withUnsafeBytes(of: UInt32(index)) { Array($0) }, verdict: Optional(verdict))  // key in host order
        }
        for chunk in Self.chunks(elements) {
            message(NFTNumbers.newSetElem, flags: NFTNumbers.create, step: "add elements to an anonymous verdict map of \(table)") {
                $0.put(NFTNumbers.elementsTable, string: table)
                $0.put(NFTNumbers.elementsSet, string: name)
                $0.put(NFTNumbers.elementsSetID, be32: id)
                Self.encode(chunk, into: &$0)
            }
        }
        return (name, id)
    }

    /// nft's user data for a `numgen ... vmap` map: key byte order host (1), data byte order
    /// (0), key typeof numgen, data typeof verdict. Copied from nft 1.0.6's own message.
    static let numgenMapUserData: [UInt8] = [
        0x00, 0x04, 0x01, 0x00, 0x00, 0x00, 0x01, 0x04, 0x00, 0x00, 0x00, 0x00, 0x04, 0x08,
        0x00, 0x04, 0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x06, 0x04, 0x00, 0x00, 0x00, 0x00,
    ]

    /// `add set <name> { type ipv4_addr; flags dynamic,timeout; timeout <n>s; }`: the addresses
    /// of clients that recently used one endpoint (session affinity). No error when it exists
    /// with the same properties.
    mutating func addAffinitySet(table: String, _ name: String, timeoutSeconds: Int) {
        let id = nextSetID
        nextSetID += 1
        message(NFTNumbers.newSet, flags: NFTNumbers.create, step: "add set \(table) \(name)") {
            $0.put(NFTNumbers.setTable, string: table)
            $0.put(NFTNumbers.setName, string: name)
            $0.put(NFTNumbers.setFlags, be32: NFTNumbers.setTimeoutFlag | NFTNumbers.setEvaluation)
            $0.put(NFTNumbers.setKeyType, be32: NFTNumbers.typeIPv4Address)
            $0.put(NFTNumbers.setKeyLength, be32: 4)
            $0.put(NFTNumbers.setID, be32: id)
            $0.put(NFTNumbers.setTimeout, be64: UInt64(timeoutSeconds) * 1000)
            $0.put(NFTNumbers.setUserData, [0x00, 0x04, 0x02, 0x00, 0x00, 0x00])  // key byte order: big endian
        }
    }

    /// `delete set`.
    mutating func deleteSet(table: String, _ name: String) {
        message(NFTNumbers.delSet, flags: 0, step: "delete set \(table) \(name)") {
            $0.put(NFTNumbers.setTable, string: table)
            $0.put(NFTNumbers.setName, string: name)
        }
    }

    /// `add element <set> { key [: verdict], ... }` on a named set or map; keys are the raw
    /// key bytes (concatenations padded to 4 bytes per field, as nft lays them out).
    mutating func addElements(table: String, _ set: String, _ elements: [(key: [UInt8], verdict: NFTVerdict?)]) {
        for chunk in Self.chunks(elements) {
            message(NFTNumbers.newSetElem, flags: NFTNumbers.create, step: "add elements to \(table) \(set)") {
                $0.put(NFTNumbers.elementsTable, string: table)
                $0.put(NFTNumbers.elementsSet, string: set)
                Self.encode(chunk, into: &$0)
            }
        }
    }

    /// `delete element <set> { key, ... }`: every key must exist.
    mutating func deleteElements(table: String, _ set: String, _ keys: [[UInt8]]) {
        for chunk in Self.chunks(keys.map { (key: $0, verdict: NFTVerdict?.none) }) {
            message(NFTNumbers.delSetElem, flags: 0, step: "delete elements from \(table) \(set)") {
                $0.put(NFTNumbers.elementsTable, string: table)
                $0.put(NFTNumbers.elementsSet, string: set)
                Self.encode(chunk, into: &$0)
            }
        }
    }

    /// An element list attribute. Its length field has 16 bits, so long lists are split over
    /// several messages by `chunks` (nft does the same); one transaction either way.
    private static func encode(_ elements: ArraySlice<(key: [UInt8], verdict: NFTVerdict?)>, into buffer: inout NetlinkBuffer) {
        buffer.nest(NFTNumbers.elementsList) { list in
            for (index, element) in elements.enumerated() {
                list.nest(elementTag(index)) { item in
                    item.nest(NFTNumbers.elementKey) { $0.put(NFTNumbers.dataValue, element.key) }
                    if let verdict = element.verdict {
                        item.nest(NFTNumbers.elementData) { verdict.encode(into: &$0) }
                    }
                }
            }
        }
    }

    /// Splits `elements` into lists of at most about 32 KiB encoded (an element's size is
    /// bounded by its key and chain name; nothing comes near the 64 KiB attribute limit).
    static func chunks(_ elements: [(key: [UInt8], verdict: NFTVerdict?)]) -> [ArraySlice<(key: [UInt8], verdict: NFTVerdict?)>] {
        var result: [ArraySlice<(key: [UInt8], verdict: NFTVerdict?)>] = []
        var start = 0, size = 0
        for (index, element) in elements.enumerated() {
            // item + key nest + value + data nest + verdict nest + code + chain, all padded.
            let bound = 4 + 4 + 4 + element.key.count + 3 + 4 + 4 + 8 + 4 + (element.verdict?.chain?.utf8.count ?? 0) + 4
            if size + bound > 32 * 1024 && index > start {
                result.append(elements[start..<index])
                start = index
                size = 0
            }
            size += bound
        }
        if start < elements.count { result.append(elements[start...]) }
        return result
    }

    /// libnftnl numbers the elements of a list 1, 2, 3... where other lists repeat
    /// NFTA_LIST_ELEM; the kernel reads either. We number them too, to send what nft sends.
    private static func elementTag(_ index: Int) -> UInt16 { UInt16(index % 0x3fff + 1) }

    /// `flush set`/`flush map`: removes every element.
    mutating func flushSet(table: String, _ set: String) {
        message(NFTNumbers.delSetElem, flags: 0, step: "flush \(table) \(set)") {
            $0.put(NFTNumbers.elementsSet, string: set)
            $0.put(NFTNumbers.elementsTable, string: table)
        }
    }
}
