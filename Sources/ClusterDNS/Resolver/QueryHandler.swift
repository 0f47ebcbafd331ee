/// Answers one query: from the cluster zone (authoritative), from reverse names of cluster
/// addresses, from the forwarder's cache, or hands it to the forwarder. One handler per
/// serving thread: it owns scratch space so the common paths allocate nothing.
final class QueryHandler {
    enum Outcome {
        /// Send the first `Int` octets of the reply buffer.
        case reply(Int)
        case drop
        case forward(ForwardRequest)
    }

    let config: ResolverConfig
    let cache: ResponseCache?
    /// Whether anything can be forwarded (upstreams known); SERVFAIL otherwise.
    let canForward: Bool
    let scratch = NameScratch()
    let other = NameScratch()
    let chase = NameScratch()
    let table = CompressionTable()

    init(config: ResolverConfig, cache: ResponseCache?, canForward: Bool) {
        self.config = config
        self.cache = cache
        self.canForward = canForward
    }

    func handle(_ packet: UnsafeRawBufferPointer, into reply: UnsafeMutableRawBufferPointer, tcp: Bool,
                snapshot: ZoneSnapshot) -> Outcome {
        switch QueryParser.parse(packet, scratch: scratch, other: other) {
        case .ignore:
            return .drop
        case .reject(let id, let flags, let code):
            guard reply.count >= DNSWire.headerLength else { return .drop }
            var w = DNSWriter(reply, limit: reply.count, table: table)
            let replyFlags = ReplyWriting.flags(client: flags, recursionAvailable: config.recursionAvailable,
                                                authoritative: false, truncated: false, rcode: code)
                | (flags & DNSWire.opcodeMask)
            w.header(id: id, flags: replyFlags, qd: 0, an: 0, ns: 0, ar: 0)
            return .reply(w.count)
        case .query(let query):
            return answer(query, into: reply, tcp: tcp, snapshot: snapshot)
        }
    }

    /// A reply being written: the writer, what the header will say, and the counts.
    struct Reply {
        var w: DNSWriter
        var query: ParsedQuery
        var an = 0
        var ns = 0
        var ar = 0
        var truncated = false
        var authoritative = true
    }

    private func answer(_ query: ParsedQuery, into buffer: UnsafeMutableRawBufferPointer, tcp: Bool,
                        snapshot: ZoneSnapshot) -> Outcome {
        let udpLimit = query.hasEDNS ? min(query.udpPayloadSize, config.maxUDPPayload) : DNSWire.classicUDPSize
        let limit = tcp ? min(buffer.count, 65535) : min(buffer.count, udpLimit)
        var r = Reply(w: DNSWriter(buffer, limit: limit - (query.hasEDNS ? 11 : 0), table: table), query: query)
        guard ReplyWriting.start(&r.w, id: query.id, question: scratch.originalBytes, type: query.type,
                                 recordClass: query.recordClass) else {
            return .drop
        }
        if query.hasEDNS && query.ednsVersion != 0 { return finish(&r, .badVersion) }
        guard query.recordClass == DNSWire.classIN else { return finish(&r, .refused) }
        let type = RecordType(rawValue: query.type)
        if type == .axfr || type == .ixfr { return finish(&r, .refused) }
        let name = scratch.lowerBytes
        if snapshot.contains(name) { return clusterAnswer(&r, snapshot: snapshot) }
        // Reverse names of cluster addresses are ours; other reverse lookups go upstream
        // (k3s' Corefile: `fallthrough in-addr.arpa ip6.arpa`).
        if type == .ptr, ReverseName.isReverse(name), let node = snapshot.node(hash: scratch.hash, name: name),
           !node.records.ptr.isEmpty {
            for target in node.records.ptr where !r.truncated {
                write(&r, owner: scratch.originalBytes, type: .ptr, ttl: node.records.ttl) { w in
                    target.withUnsafeBytes { w.name($0) }
                }
            }
            return finish(&r, .noError)
        }
        r.authoritative = false
        return forwardOrCache(&r, upstreamName: name, hash: scratch.hash, prefix: [], limit: limit)
    }

    /// Patches the header, adds the OPT record when the query had one.
    func finish(_ r: inout Reply, _ rcode: ResponseCode) -> Outcome {
        if r.query.hasEDNS {
            r.w.limit += 11
            if r.w.opt(payloadSize: UInt16(config.maxUDPPayload), extendedRcode: UInt8(rcode.rawValue >> 4)) { r.ar += 1 }
        }
        r.w.patch16(at: 2, ReplyWriting.flags(client: r.query.flags, recursionAvailable: config.recursionAvailable,
                                              authoritative: r.authoritative, truncated: r.truncated, rcode: rcode))
        r.w.patch16(at: 6, UInt16(r.an))
        r.w.patch16(at: 8, UInt16(r.ns))
        r.w.patch16(at: 10, UInt16(r.ar))
        return .reply(r.w.count)
    }

    /// Writes one record into the answer (or, with `section` 2/3, authority/additional); an
    /// answer or authority record that does not fit sets TC, an additional one is dropped.
    @inline(__always)
    func write(_ r: inout Reply, owner: UnsafeRawBufferPointer, type: RecordType, ttl: UInt32, section: Int = 1,
               rdata: (inout DNSWriter) -> Bool) {
        let mark = r.w.mark
        guard r.w.name(owner), r.w.fits(10) else {
            r.w.rollback(to: mark)
            if section < 3 { r.truncated = true }
            return
        }
        r.w.put16(type.rawValue)
        r.w.put16(DNSWire.classIN)
        r.w.put32(ttl)
        let lengthAt = r.w.count
        r.w.put16(0)
        guard rdata(&r.w) else {
            r.w.rollback(to: mark)
            if section < 3 { r.truncated = true }
            return
        }
        r.w.patch16(at: lengthAt, UInt16(r.w.count - lengthAt - 2))
        switch section {
        case 1: r.an += 1
        case 2: r.ns += 1
        default: r.ar += 1
        }
    }

    /// Answers from the cache, or hands the query to the forwarder.
    func forwardOrCache(_ r: inout Reply, upstreamName: UnsafeRawBufferPointer, hash: UInt64,
                        prefix: [ResourceRecord], limit: Int) -> Outcome {
        let query = r.query
        let now = Monotonic.now()
        if let cache, let hit = cache.lookup(hash: hash, name: upstreamName, type: query.type,
                                              recordClass: query.recordClass, now: now) {
            if prefix.isEmpty, let length = copyCached(hit, query: query, into: r.w.base, limit: limit, now: now) {
                return .reply(length)
            }
            let request = forwardRequest(query, upstreamName: upstreamName, prefix: prefix, limit: limit)
            let bytes = ReplyWriting.forwarded(request, answer: hit, rcode: hit.rcode, age: hit.age(now: now),
                                               recursionAvailable: config.recursionAvailable,
                                               maxUDPPayload: config.maxUDPPayload, table: table)
            guard bytes.count <= limit else { return .drop }
            bytes.withUnsafeBytes { r.w.base.copyMemory(from: $0.baseAddress!, byteCount: bytes.count) }
            return .reply(bytes.count)
        }
        guard canForward else {
            r.authoritative = false
            return finish(&r, .serverFailure)
        }
        return .forward(forwardRequest(query, upstreamName: upstreamName, prefix: prefix, limit: limit))
    }

    private func forwardRequest(_ query: ParsedQuery, upstreamName: UnsafeRawBufferPointer, prefix: [ResourceRecord],
                                limit: Int) -> ForwardRequest {
        ForwardRequest(clientID: query.id, clientFlags: query.flags, question: Array(scratch.originalBytes),
                       type: query.type, recordClass: query.recordClass, upstreamName: Array(upstreamName),
                       prefix: prefix, clientEDNS: query.hasEDNS, dnssecOK: query.dnssecOK, limit: limit)
    }

    /// The fast cache hit: copy the pre-encoded reply, patch id, flags, the question's case and
    /// the TTLs, append OPT. Nil when it would not fit (the slow path truncates).
    private func copyCached(_ hit: ForwardedAnswer, query: ParsedQuery, into base: UnsafeMutableRawPointer,
                            limit: Int, now: UInt64) -> Int? {
        let total = hit.encoded.count + (query.hasEDNS ? 11 : 0)
        guard total <= limit, hit.encoded.count >= DNSWire.headerLength + scratch.length + 4 else { return nil }
        hit.encoded.withUnsafeBytes { base.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        let w = DNSWriter(UnsafeMutableRawBufferPointer(start: base, count: limit), limit: limit, table: table)
        w.patch16(at: 0, query.id)
        w.patch16(at: 2, ReplyWriting.flags(client: query.flags, recursionAvailable: config.recursionAvailable,
                                            authoritative: false, truncated: false, rcode: hit.rcode))
        (base + DNSWire.headerLength).copyMemory(from: scratch.original, byteCount: scratch.length)
        let age = hit.age(now: now)
        let remaining = hit.lifetime > age ? hit.lifetime - age : 0
        for offset in hit.ttlOffsets {
            let ttl = UInt32(base.load(fromByteOffset: offset, as: UInt8.self)) << 24
                | UInt32(base.load(fromByteOffset: offset + 1, as: UInt8.self)) << 16
                | UInt32(base.load(fromByteOffset: offset + 2, as: UInt8.self)) << 8
                | UInt32(base.load(fromByteOffset: offset + 3, as: UInt8.self))
            let aged = min(ttl > age ? ttl - age : 0, remaining)
            w.patch16(at: offset, UInt16(aged >> 16))
            w.patch16(at: offset + 2, UInt16(aged & 0xFFFF))
        }
        guard query.hasEDNS else { return hit.encoded.count }
        var end = DNSWriter(UnsafeMutableRawBufferPointer(start: base + hit.encoded.count, count: 11), limit: 11,
                            table: table)
        _ = end.opt(payloadSize: UInt16(config.maxUDPPayload))
        let ar = UInt16(base.load(fromByteOffset: 10, as: UInt8.self)) << 8 | UInt16(base.load(fromByteOffset: 11, as: UInt8.self))
        w.patch16(at: 10, ar + 1)
        return total
    }
}
