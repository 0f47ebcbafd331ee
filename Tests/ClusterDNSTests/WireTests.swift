import Testing
@testable import ClusterDNS

/// Hostile and malformed messages: the reader refuses them with a reason, the handler answers
/// FORMERR (or nothing) and never reads outside the message.
@Suite struct WireTests {
    static let header: [UInt8] = [0xab, 0xcd, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]

    static func harness() throws -> HandlerHarness {
        let store = try ClusterRecordStore()
        store.replace(services: [Fixtures.service("web")], endpointSlices: [])
        return HandlerHarness(store: store)
    }

    func rcode(_ packet: [UInt8]) throws -> ResponseCode? {
        guard case .reply(let bytes) = try Self.harness().run(packet) else { return nil }
        let message = try DNSMessage.parse(bytes)
        #expect(message.id == UInt16(packet[0]) << 8 | UInt16(packet[1]))
        return message.rcode
    }

    @Test func shorterThanAHeaderIsDropped() throws {
        for length in 0..<12 { #expect(try rcode(Array(Self.header.prefix(length))) == nil) }
    }

    @Test func responsesAreNotAnswered() throws {
        var packet = QueryBytes.make("web.default.svc.cluster.local")
        packet[2] |= 0x80
        #expect(try rcode(packet) == nil)
    }

    @Test func truncatedQuestionIsFORMERR() throws {
        let full = QueryBytes.make("web.default.svc.cluster.local")
        for cut in 13..<full.count { #expect(try rcode(Array(full.prefix(cut))) == .formatError, "cut at \(cut)") }
    }

    @Test func compressionLoopIsRefused() throws {
        // The question name is a pointer to itself.
        #expect(try rcode(Self.header + [0xC0, 12, 0, 1, 0, 1]) == .formatError)
        // Two labels then a pointer back to the first: a loop through backward pointers.
        #expect(try rcode(Self.header + [1, 0x61, 0xC0, 12, 0, 1, 0, 1]) == .formatError)
    }

    @Test func forwardPointerIsRefused() throws {
        #expect(try rcode(Self.header + [0xC0, 16, 0, 1, 0, 1, 1, 0x61, 0]) == .formatError)
        let bytes = Self.header + [0xC0, 16, 0, 1, 0, 1, 1, 0x61, 0]
        let error = bytes.withUnsafeBytes { raw -> DNSWireError? in
            var reader = DNSReader(raw, offset: 12)
            do throws(DNSWireError) { try reader.name(into: NameScratch()) } catch { return error }
            return nil
        }
        #expect(error?.kind == .forwardPointer)
    }

    @Test func pointerIntoTheHeaderIsRefused() throws {
        #expect(try rcode(Self.header + [0xC0, 2, 0, 1, 0, 1]) == .formatError)
    }

    @Test func oversizedLabelsAndNamesAreRefused() throws {
        // 0x40 and 0x80 length octets are the obsolete extended label types.
        #expect(try rcode(Self.header + [64] + [UInt8](repeating: 0x61, count: 64) + [0, 0, 1, 0, 1]) == .formatError)
        // 5 labels of 63 octets: 320 octets, over 255.
        var long: [UInt8] = []
        for _ in 0..<5 { long += [63] + [UInt8](repeating: 0x61, count: 63) }
        #expect(try rcode(Self.header + long + [0, 0, 1, 0, 1]) == .formatError)
        #expect(throws: DNSWireError.self) { try DNSName(String(repeating: "a", count: 64) + ".local") }
        #expect(throws: DNSWireError.self) { try DNSName(Array(repeating: String(repeating: "a", count: 63), count: 5).joined(separator: ".")) }
        #expect(throws: DNSWireError.self) { try DNSName("a..b") }
    }

    @Test func hugeCountsAreRefusedBeforeLooping() throws {
        var packet = QueryBytes.make("web.default.svc.cluster.local")
        packet[4] = 0xFF
        packet[5] = 0xFF
        #expect(try rcode(packet) == .formatError)
        packet = QueryBytes.make("web.default.svc.cluster.local")
        packet[6] = 0xFF  // ancount 65280
        #expect(try rcode(packet) == .formatError)
        let message = [UInt8](Self.header.prefix(4)) + [0, 1, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF] + (try DNSName("a")).wire + [0, 1, 0, 1]
        #expect(throws: DNSWireError.self) { try DNSMessage.parse(message) }
    }

    @Test func zeroOrSeveralQuestionsAreFORMERR() throws {
        var none = Self.header
        none[5] = 0
        #expect(try rcode(none) == .formatError)
        var two = QueryBytes.make("web.default.svc.cluster.local")
        two[5] = 2
        two += (try DNSName("a")).wire + [0, 1, 0, 1]
        #expect(try rcode(two) == .formatError)
    }

    @Test func trailingGarbageIsFORMERR() throws {
        #expect(try rcode(QueryBytes.make("web.default.svc.cluster.local") + [1, 2, 3]) == .formatError)
    }

    @Test func ednsRules() throws {
        let h = try Self.harness()
        // Two OPT records.
        var two = QueryBytes.make("web.default.svc.cluster.local", edns: 1232)
        two[11] = 2
        two += [0, 0, 41, 4, 0, 0, 0, 0, 0, 0, 0]
        #expect(try rcode(two) == .formatError)
        // OPT not owned by the root.
        var owned = QueryBytes.make("web.default.svc.cluster.local")
        owned[11] = 1
        owned += [1, 0x61, 0, 0, 41, 4, 0, 0, 0, 0, 0, 0, 0]
        #expect(try rcode(owned) == .formatError)
        // Version 1: BADVERS (extended rcode 16) with an OPT in the reply.
        guard case .reply(let bytes) = h.run(QueryBytes.make("web.default.svc.cluster.local", edns: 1232, ednsVersion: 1)) else {
            Issue.record("no reply")
            return
        }
        let reply = try DNSMessage.parse(bytes)
        #expect(reply.rcode == .badVersion)
        #expect(reply.edns?.udpPayloadSize == 1232)
    }

    @Test func otherOpcodesAreNOTIMPAndOtherClassesREFUSED() throws {
        #expect(try rcode(QueryBytes.make("web.default.svc.cluster.local", flags: 0x2100)) == .notImplemented)
        #expect(try rcode(QueryBytes.make("web.default.svc.cluster.local", recordClass: 3)) == .refused)
    }

    /// Thousands of mutated queries: every one is answered with a message that parses, or
    /// dropped; nothing crashes (Swift's bounds checks would trap on a read outside the message).
    @Test func mutatedQueriesNeverBreakTheHandler() throws {
        let h = try Self.harness()
        var generator = SplitMix(seed: 0x5eed_d0e5)
        let seeds: [[UInt8]] = [
            QueryBytes.make("web.default.svc.cluster.local"),
            QueryBytes.make("_http._tcp.web.default.svc.cluster.local", .srv, edns: 4096),
            QueryBytes.make("20.0.43.10.in-addr.arpa", .ptr),
            Self.header + [1, 0x61, 0xC0, 12, 0, 1, 0, 1],
        ]
        var answered = 0, dropped = 0
        for round in 0..<6000 {
            var packet = seeds[round % seeds.count]
            let edits = 1 + Int(generator.next() % 4)
            for _ in 0..<edits {
                switch generator.next() % 4 {
                case 0: packet[Int(generator.next() % UInt64(packet.count))] = UInt8(truncatingIfNeeded: generator.next())
                case 1: packet = Array(packet.prefix(Int(generator.next() % UInt64(packet.count + 1))))
                case 2: packet.insert(UInt8(truncatingIfNeeded: generator.next()), at: Int(generator.next() % UInt64(packet.count + 1)))
                default: packet += (0..<Int(generator.next() % 8)).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
                }
                if packet.isEmpty { packet = [0] }
            }
            switch h.run(packet) {
            case .reply(let bytes):
                _ = try DNSMessage.parse(bytes)
                answered += 1
            case .drop, .forward:
                dropped += 1
            }
        }
        // Random bytes too.
        for _ in 0..<2000 {
            let packet = (0..<Int(generator.next() % 600)).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
            if case .reply(let bytes) = h.run(packet) { _ = try DNSMessage.parse(bytes) }
            _ = packet.withUnsafeBytes { try? DNSMessage.parse($0) }
        }
        #expect(answered > 1000)
    }
}

/// A small deterministic generator, so a failing mutation can be replayed.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
