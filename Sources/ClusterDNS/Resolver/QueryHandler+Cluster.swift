/// Answers for names in the cluster zone, as CoreDNS's kubernetes plugin gives them
/// (plugin/kubernetes/handler.go, plugin/backend_lookup.go): records of the asked type;
/// NOERROR without records (NODATA) when the name exists with other types; NXDOMAIN when it
/// does not; the zone's SOA in the authority section of both negative answers.
extension QueryHandler {
    func clusterAnswer(_ r: inout Reply, snapshot: ZoneSnapshot) -> Outcome {
        let type = RecordType(rawValue: r.query.type)
        guard let node = snapshot.node(hash: scratch.hash, name: scratch.lowerBytes) else {
            if let outcome = podAnswer(&r, snapshot: snapshot) { return outcome }
            return negative(&r, snapshot: snapshot, exists: false)
        }
        let records = node.records
        if let target = records.cname, type != .cname {
            return chaseCNAME(&r, first: target, ttl: records.ttl, snapshot: snapshot)
        }
        let written = writeRecords(&r, node: node, type: type, owner: scratch.originalBytes, snapshot: snapshot)
        return written ? finish(&r, .noError) : negative(&r, snapshot: snapshot, exists: true)
    }

    /// NXDOMAIN (or NODATA when `exists`) with the SOA; SERVFAIL for a missing name before the
    /// store has synced (CoreDNS: "SERVFAIL to any request ... not yet synchronized").
    func negative(_ r: inout Reply, snapshot: ZoneSnapshot, exists: Bool) -> Outcome {
        if !exists && !snapshot.synced {
            r.authoritative = false
            return finish(&r, .serverFailure)
        }
        let soa = snapshot.soa
        let mark = r.w.mark
        if r.w.record(soa) { r.ns += 1 } else { r.w.rollback(to: mark) }
        return finish(&r, exists ? .noError : .nameError)
    }

    /// Writes the node's records of `type` under `owner`; false when it has none (NODATA).
    func writeRecords(_ r: inout Reply, node: ZoneNode, type: RecordType, owner: UnsafeRawBufferPointer,
                      snapshot: ZoneSnapshot) -> Bool {
        let records = node.records
        let ttl = records.ttl
        switch type {
        case .a, .aaaa:
            let addresses = type == .a ? records.a : records.aaaa
            for address in addresses where !r.truncated {
                write(&r, owner: owner, type: type, ttl: ttl) { w in
                    guard w.fits(address.count) else { return false }
                    w.putBytes(address)
                    return true
                }
            }
            return !addresses.isEmpty
        case .srv:
            for srv in records.srv where !r.truncated {
                write(&r, owner: owner, type: .srv, ttl: ttl) { w in
                    guard w.fits(6) else { return false }
                    w.put16(srv.priority)
                    w.put16(srv.weight)
                    w.put16(srv.port)
                    // SRV targets are never compressed (RFC 2782), but later names may point at them.
                    return srv.target.withUnsafeBytes { w.name($0, compress: false) }
                }
            }
            // The targets' addresses as additional data (spec §2.3.2, §2.4.2: "may include").
            if !r.truncated {
                for (index, srv) in records.srv.enumerated() {
                    if records.srv[0..<index].contains(where: { $0.target == srv.target }) { continue }
                    guard let targetNode = snapshot.node(srv.target) else { continue }
                    writeAddresses(&r, of: targetNode, owner: srv.target)
                }
            }
            return !records.srv.isEmpty
        case .ptr:
            for target in records.ptr where !r.truncated {
                write(&r, owner: owner, type: .ptr, ttl: ttl) { w in target.withUnsafeBytes { w.name($0) } }
            }
            return !records.ptr.isEmpty
        case .txt:
            for string in records.txt where !r.truncated {
                write(&r, owner: owner, type: .txt, ttl: ttl) { w in
                    guard string.count <= 255, w.fits(1 + string.count) else { return false }
                    w.put8(UInt8(string.count))
                    w.putBytes(string)
                    return true
                }
            }
            return !records.txt.isEmpty
        case .cname:
            guard let target = records.cname else { return false }
            write(&r, owner: owner, type: .cname, ttl: ttl) { w in target.withUnsafeBytes { w.name($0) } }
            return true
        case .soa:
            guard records.apex else { return false }
            let mark = r.w.mark
            if r.w.record(snapshot.soa) { r.an += 1 } else {
                r.w.rollback(to: mark)
                r.truncated = true
            }
            return true
        case .ns:
            guard records.apex, let ns = try? DNSName(validatedWire: snapshot.zone).prepending("dns").prepending("ns")
            else { return false }
            write(&r, owner: owner, type: .ns, ttl: ttl) { w in w.name(ns) }
            if let nsNode = snapshot.node(ns.wire) { writeAddresses(&r, of: nsNode, owner: ns.wire) }
            return true
        default:
            // Every other type (MX, ANY, ...) has no data here: NODATA, as CoreDNS answers.
            return false
        }
    }

    /// A and AAAA records of a node in the additional section.
    private func writeAddresses(_ r: inout Reply, of node: ZoneNode, owner: [UInt8]) {
        owner.withUnsafeBytes { ownerBytes in
            for address in node.records.a + node.records.aaaa {
                write(&r, owner: ownerBytes, type: address.count == 4 ? .a : .aaaa, ttl: node.records.ttl, section: 3) { w in
                    guard w.fits(address.count) else { return false }
                    w.putBytes(address)
                    return true
                }
            }
        }
    }

    /// `<a-b-c-d>.<ns>.pod.<zone>`: CoreDNS `pods insecure` (k3s' default) answers the address
    /// written in the name, without checking a pod has it, in any namespace that exists.
    private func podAnswer(_ r: inout Reply, snapshot: ZoneSnapshot) -> Outcome? {
        guard scratch.labelCount == snapshot.zoneLabels + 3, label(scratch.label(2)) == "pod" else { return nil }
        let namespace = scratch.suffix(fromLabel: 1)
        guard snapshot.node(hash: NameHash.of(namespace), name: namespace) != nil else { return nil }
        let text = label(scratch.label(0))
        let dashes = text.filter { $0 == "-" }.count
        let ipText = dashes == 3 && !text.contains("--") ? String(text.map { $0 == "-" ? "." : $0 })
            : String(text.map { $0 == "-" ? ":" : $0 })
        guard let address = IPAddressText.parse(ipText) else { return nil }
        let type = RecordType(rawValue: r.query.type)
        guard (type == .a && address.count == 4) || (type == .aaaa && address.count == 16) else {
            return negative(&r, snapshot: snapshot, exists: true)
        }
        write(&r, owner: scratch.originalBytes, type: type, ttl: snapshot.ttl) { w in
            guard w.fits(address.count) else { return false }
            w.putBytes(address)
            return true
        }
        return finish(&r, .noError)
    }

    private func label(_ bytes: UnsafeRawBufferPointer) -> String { String(decoding: bytes, as: UTF8.self) }

    /// Follows a CNAME (an ExternalName service) inside the zone as far as it goes; a target
    /// outside the zone is answered from the cache or forwarded, after the chain.
    private func chaseCNAME(_ r: inout Reply, first: [UInt8], ttl: UInt32, snapshot: ZoneSnapshot) -> Outcome {
        let type = RecordType(rawValue: r.query.type)
        var chain: [ResourceRecord] = []
        var owner = scratch.makeName()
        var target = first
        var targetTTL = ttl
        for _ in 0..<config.maxCNAMEChain {
            let targetName = DNSName(validatedWire: target)
            chain.append(ResourceRecord(name: owner, type: .cname, ttl: targetTTL, data: .name(targetName)))
            let mark = r.w.mark
            if r.w.record(chain[chain.count - 1]) { r.an += 1 } else {
                r.w.rollback(to: mark)
                r.truncated = true
                return finish(&r, .noError)
            }
            chase.load(targetName)
            if !snapshot.contains(chase.lowerBytes) {
                r.authoritative = false
                let limit = r.w.limit + (r.query.hasEDNS ? 11 : 0)
                return forwardOrCache(&r, upstreamName: chase.lowerBytes, hash: chase.hash, prefix: chain, limit: limit)
            }
            guard let node = snapshot.node(hash: chase.hash, name: chase.lowerBytes) else {
                return negative(&r, snapshot: snapshot, exists: false)
            }
            if let next = node.records.cname {
                owner = targetName
                target = next
                targetTTL = node.records.ttl
                continue
            }
            let written = target.withUnsafeBytes { writeRecords(&r, node: node, type: type, owner: $0, snapshot: snapshot) }
            return written ? finish(&r, .noError) : negative(&r, snapshot: snapshot, exists: true)
        }
        // A loop or an over-long chain: what we have, as CoreDNS stops adding links.
        return finish(&r, .noError)
    }
}
