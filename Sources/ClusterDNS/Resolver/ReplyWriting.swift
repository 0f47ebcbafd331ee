/// Replies built from upstream answers: the forwarder's replies, cache hits that do not fit
/// the fast copy, and CNAME chains from the cluster zone into forwarded names.
enum ReplyWriting {
    /// Writes header and question (the client's case); the writer is left after the question.
    static func start(_ w: inout DNSWriter, id: UInt16, question: UnsafeRawBufferPointer, type: UInt16,
                      recordClass: UInt16) -> Bool {
        w.header(id: id, flags: 0, qd: 1, an: 0, ns: 0, ar: 0)
        guard w.name(question, compress: false), w.fits(4) else { return false }
        w.put16(type)
        w.put16(recordClass)
        return true
    }

    /// Header flags of a reply: QR, the client's RD and CD, RA, AA when authoritative, TC, and
    /// the low four bits of the response code.
    static func flags(client: UInt16, recursionAvailable: Bool, authoritative: Bool, truncated: Bool,
                      rcode: ResponseCode) -> UInt16 {
        var flags = DNSWire.flagQR | (client & (DNSWire.flagRD | DNSWire.flagCD)) | (rcode.rawValue & 0x000F)
        if recursionAvailable { flags |= DNSWire.flagRA }
        if authoritative { flags |= DNSWire.flagAA }
        if truncated { flags |= DNSWire.flagTC }
        return flags
    }

    /// A whole reply from a forwarded answer (or a SERVFAIL/REFUSED without one) for `request`,
    /// with TTLs aged by `age` seconds and capped by the cache lifetime, truncated to the limit.
    static func forwarded(_ request: ForwardRequest, answer: ForwardedAnswer?, rcode: ResponseCode, age: UInt32,
                          recursionAvailable: Bool, maxUDPPayload: Int, table: CompressionTable) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: max(request.limit, DNSWire.classicUDPSize))
        let length = bytes.withUnsafeMutableBytes { buffer -> Int in
            let reserve = request.clientEDNS ? 11 : 0
            var w = DNSWriter(buffer, limit: buffer.count - reserve, table: table)
            let ok = request.question.withUnsafeBytes {
                start(&w, id: request.clientID, question: $0, type: request.type, recordClass: request.recordClass)
            }
            guard ok else { return 0 }
            var counts = (an: 0, ns: 0, ar: 0)
            var truncated = false
            for record in request.prefix {
                if w.record(record) { counts.an += 1 } else { truncated = true }
            }
            let finalRcode = answer?.rcode ?? rcode
            if let answer, !truncated {
                let remaining = answer.lifetime > age ? answer.lifetime - age : 0
                func aged(_ record: ResourceRecord) -> UInt32 {
                    min(record.ttl > age ? record.ttl - age : 0, remaining)
                }
                for record in answer.answers where !truncated {
                    if w.record(record, ttl: aged(record)) { counts.an += 1 } else { truncated = true }
                }
                for record in answer.authorities where !truncated {
                    if w.record(record, ttl: aged(record)) { counts.ns += 1 } else { truncated = true }
                }
                // Additional data is optional: what does not fit is left out without TC.
                for record in answer.additionals where !truncated {
                    if w.record(record, ttl: aged(record)) { counts.ar += 1 }
                }
            }
            if request.clientEDNS {
                w.limit += reserve
                if w.opt(payloadSize: UInt16(maxUDPPayload)) { counts.ar += 1 }
            }
            w.patch16(at: 2, flags(client: request.clientFlags, recursionAvailable: recursionAvailable,
                                   authoritative: false, truncated: truncated, rcode: finalRcode))
            w.patch16(at: 6, UInt16(counts.an))
            w.patch16(at: 8, UInt16(counts.ns))
            w.patch16(at: 10, UInt16(counts.ar))
            return w.count
        }
        return Array(bytes[0..<length])
    }
}
