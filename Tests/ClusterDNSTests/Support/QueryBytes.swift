@testable import ClusterDNS

/// Query messages as a stub resolver writes them, and the handler run on them directly.
enum QueryBytes {
    static func make(_ name: String, _ type: RecordType = .a, id: UInt16 = 0x1234, edns: UInt16? = nil,
                     ednsVersion: UInt8 = 0, recordClass: UInt16 = 1, flags: UInt16 = 0x0100) -> [UInt8] {
        var bytes: [UInt8] = [UInt8(id >> 8), UInt8(id & 0xFF), UInt8(flags >> 8), UInt8(flags & 0xFF), 0, 1, 0, 0, 0, 0, 0,
                              edns == nil ? 0 : 1]
        bytes += (try! DNSName(name)).wire
        bytes += [UInt8(type.rawValue >> 8), UInt8(type.rawValue & 0xFF), UInt8(recordClass >> 8), UInt8(recordClass & 0xFF)]
        if let edns {
            bytes += [0, 0, 41, UInt8(edns >> 8), UInt8(edns & 0xFF), 0, ednsVersion, 0, 0, 0, 0]
        }
        return bytes
    }
}

/// A handler over a store, as one serving thread has it.
final class HandlerHarness {
    let store: ClusterRecordStore
    let handler: QueryHandler
    let cache: ResponseCache

    init(store: ClusterRecordStore, canForward: Bool = true, config: ResolverConfig = ResolverConfig()) {
        self.store = store
        cache = ResponseCache()
        handler = QueryHandler(config: config, cache: cache, canForward: canForward)
    }

    enum Result {
        case reply([UInt8])
        case drop
        case forward(ForwardRequest)
    }

    func run(_ packet: [UInt8], tcp: Bool = false) -> Result {
        var out = [UInt8](repeating: 0, count: 65535)
        let outcome = packet.withUnsafeBytes { input in
            out.withUnsafeMutableBytes { handler.handle(input, into: $0, tcp: tcp, snapshot: store.snapshot) }
        }
        switch outcome {
        case .reply(let n): return .reply(Array(out[0..<n]))
        case .drop: return .drop
        case .forward(let request): return .forward(request)
        }
    }

    /// The reply to a query, decoded; fails the test when there is none.
    func ask(_ name: String, _ type: RecordType = .a, edns: UInt16? = nil, tcp: Bool = false) throws -> DNSMessage {
        guard case .reply(let bytes) = run(QueryBytes.make(name, type, edns: edns), tcp: tcp) else {
            throw HarnessError(description: "no reply to \(name) \(type)")
        }
        return try DNSMessage.parse(bytes)
    }
}

struct HarnessError: Error, CustomStringConvertible {
    let description: String
}

extension DNSMessage {
    /// Answer data as text, in order ("10.43.0.20", "0 100 80 web.default.svc.cluster.local.").
    var answerData: [String] { answers.map { $0.data.description } }
}
