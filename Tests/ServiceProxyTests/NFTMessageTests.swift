import NodeNetwork
import Testing
@testable import ServiceProxy

/// The netlink messages the proxy sends, byte for byte against what nft 1.0.6 sends for the
/// same commands (CapturedNFTMessages). No root needed: nothing is sent.
@Suite("nf_tables messages")
struct NFTMessageTests {
    static func hex(_ bytes: some Collection<UInt8>) -> String { bytes.map { String(format: "%02x", $0) }.joined() }

    /// The messages of a datagram, each as hex.
    static func messages(_ datagram: [UInt8]) -> [String] {
        var result: [String] = []
        var offset = 0
        while offset + 16 <= datagram.count {
            let length = Int(NetlinkReader.host32(datagram, offset))
            result.append(hex(datagram[offset..<(offset + length)]))
            offset += (length + 3) & ~3
        }
        return result
    }

    @Test func rulesEncodeAsNftEncodesThem() {
        var batch = NFTBatch(firstSequence: 0)
        let address = IPv4Address("10.42.0.5")!
        ProxyRule.masqueradeIfSourceIs(address).add(to: &batch, table: "sp", chain: "ext1")
        // nft names an existing set by its cache ID as well; the proxy's own rules do not need to.
        batch.addRule(table: "sp", chain: "ext1", [.payload(transport: false, offset: 12, length: 4), .dynsetUpdate(set: "affinity-X", setID: 3)],
                      text: "update @affinity-X { ip saddr }")
        ProxyRule.dnat(.udp, address, 53).add(to: &batch, table: "sp", chain: "ext1")
        batch.addRule(table: "sp", chain: "ext1", [.payload(transport: false, offset: 12, length: 4),
                                      .lookup(set: "affinity-X", setID: 3, verdictMap: false), .verdict(.goto("ext1"))],
                      text: "ip saddr @affinity-X goto ext1")
        ProxyRule.masqueradeOffCluster(clusterIP: IPv4Address("10.96.0.10")!, .tcp, 80, clusterCIDR: IPv4Subnet("10.42.0.0/16")!)
            .add(to: &batch, table: "sp", chain: "ext1")
        ProxyRule.masqueradeIfFromNode.add(to: &batch, table: "sp", chain: "ext1")
        ProxyRule.gotoIfSourceIn(IPv4Subnet("10.42.0.0/17")!, "ext1").add(to: &batch, table: "sp", chain: "ext1")
        ProxyRule.goto("ext1").add(to: &batch, table: "sp", chain: "ext1")
        batch.nextSetID = 10
        ProxyRule.balance(["ext1", "mark-for-masquerade"]).add(to: &batch, table: "sp", chain: "ext1")
        batch.addElements(table: "sp", "service-ips", [(ElementKey.serviceIP(.serviceIPs, IPv4Address("10.96.0.11")!, .udp, 53).bytes,
                                           .goto("ext1"))])
        let ours = Self.messages(batch.finished())
        #expect(ours.count == CapturedNFTMessages.rules.count)
        for (index, (mine, theirs)) in zip(ours, CapturedNFTMessages.rules).enumerated() {
            #expect(mine == theirs, "message \(index) differs")
        }
    }

    @Test func objectsEncodeAsNftEncodesThem() {
        var batch = NFTBatch(firstSequence: 0)
        batch.addChain(table: "sp", "newchain-a/b")
        batch.flushChain(table: "sp", "newchain-a/b")
        batch.addAffinitySet(table: "sp", "affinity-Q", timeoutSeconds: 10800)
        let key = ElementKey.serviceIP(.serviceIPs, IPv4Address("10.96.0.11")!, .udp, 53)
        batch.deleteElements(table: "sp", "service-ips", [key.bytes])
        batch.flushSet(table: "sp", "service-ips")
        batch.deleteSet(table: "sp", "affinity-Q")
        batch.deleteChain(table: "sp", "newchain-a/b")
        batch.addElements(table: "sp", "cluster-ips", [(ElementKey.clusterIP(IPv4Address("10.96.0.11")!).bytes, nil)])
        let ours = Self.messages(batch.finished())
        #expect(ours.count == CapturedNFTMessages.objects.count)
        for (index, (mine, theirs)) in zip(ours, CapturedNFTMessages.objects).enumerated() {
            #expect(mine == theirs, "message \(index) differs")
        }
    }

    @Test func errorsNameTheRefusedCommand() {
        var batch = NFTBatch(firstSequence: 100)
        batch.addChain(table: "t", "a")
        ProxyRule.goto("missing").add(to: &batch, table: "t", chain: "a")
        #expect(batch.describe(sequence: 100) == "commit")
        #expect(batch.describe(sequence: 101) == "add chain t a")
        #expect(batch.describe(sequence: 102) == "add rule t a goto missing")
        #expect(batch.describe(sequence: 103) == nil)
        #expect(batch.count == 2)

        // An NLMSG_ERROR with NLM_F_CAPPED|NLM_F_ACK_TLVS and the extended-ack text.
        var reply = NetlinkBuffer()
        var payload: [UInt8] = withUnsafeBytes(of: Int32(-2)) { Array($0) }
        payload += [UInt8](repeating: 0, count: 16)
        withUnsafeBytes(of: UInt32(102)) { payload.replaceSubrange(12..<16, with: $0) }
        let start = reply.beginMessage(type: 2, flags: 0x300, sequence: 102, family: 0)
        _ = start
        var bytes = reply.bytes.prefix(16)
        bytes += payload
        var tlv = NetlinkBuffer()
        tlv.put(1, string: "chain not found")
        bytes += tlv.bytes
        var datagram = Array(bytes)
        withUnsafeBytes(of: UInt32(datagram.count)) { datagram.replaceSubrange(0..<4, with: $0) }
        let message = NetlinkReader.messages(datagram)
        #expect(message.count == 1)
        let error = message.first.flatMap(NetlinkReader.error)
        #expect(error?.errno == 2 && error?.sequence == 102 && error?.text == "chain not found", "\(String(describing: error))")
        let failure = ServiceProxyError.transaction(step: batch.describe(sequence: 102)!, errno: 2, message: error?.text)
        #expect(failure.description == "nf_tables transaction refused at \"add rule t a goto missing\": ENOENT (No such file or directory): chain not found")
    }

    @Test func longElementListsAreSplitUnderTheAttributeLimit() {
        var batch = NFTBatch(firstSequence: 1)
        let chain = "service-0123ABCD-" + String(repeating: "n", count: 63) + "/" + String(repeating: "s", count: 63) + "/tcp/http"
        let elements = (0..<5000).map { index in
            (key: ElementKey.serviceIP(.serviceIPs, IPv4Address(UInt32(0x0a60_0000 + index)), .tcp, 80).bytes, verdict: Optional(NFTVerdict.goto(chain)))
        }
        batch.addElements(table: "sp", "service-ips", elements)
        _ = batch.addAnonymousVerdictMap(table: "swiftlet-proxy-0", (0..<3000).map { _ in .goto(chain) })
        #expect(!batch.buffer.oversized)
        let messages = NetlinkReader.messages(batch.finished())
        let elementMessages = messages.filter { $0.type == NFTNumbers.subsystemNFTables << 8 | NFTNumbers.newSetElem }
        #expect(elementMessages.count > 2)
        var total = 0
        for message in elementMessages {
            let list = NetlinkReader.attributes(message.payload.dropFirst(4))[NFTNumbers.elementsList]
            #expect((list?.count ?? 0) < 40 * 1024)
            var offset = list?.startIndex ?? 0
            while let list, offset + 4 <= list.endIndex {
                total += 1
                offset += (Int(NetlinkReader.host16(list, offset)) + 3) & ~3
            }
        }
        #expect(total == 8000)
        // One transaction still: a single begin and end around all of them.
        #expect(messages.first?.type == NFTNumbers.batchBegin && messages.last?.type == NFTNumbers.batchEnd)
    }

    @Test func truncatedRepliesYieldNothingInsteadOfCrashing() {
        #expect(NetlinkReader.messages([1, 2, 3]).isEmpty)
        #expect(NetlinkReader.messages([255, 0, 0, 0] + [UInt8](repeating: 0, count: 20)).isEmpty)
        #expect(NetlinkReader.attributes([9, 0, 1, 0, 1, 2][...]).isEmpty)
        #expect(NetlinkReader.attributes([3, 0, 1, 0][...]).isEmpty)
        let short = NetlinkReader.Message(type: 2, flags: 0, sequence: 1, payload: [1, 2][...])
        #expect(NetlinkReader.error(short) == nil)
        #expect(ConntrackCleaner.parse([4, 0, 1, 0x80][...]) == nil)
    }
}
