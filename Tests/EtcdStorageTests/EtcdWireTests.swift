@testable import EtcdStorage
import Foundation
import Testing
import TestSupport

private func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

/// The hand-written etcd messages, checked against protoc's own reading of the bytes
/// (`protoc --decode_raw`, Debian's protobuf-compiler) and against hostile replies.
@Suite struct EtcdWireTests {
    /// protoc's field-number view of a message.
    private func decodeRaw(_ message: [UInt8]) async throws -> String {
        let result = await TestProcess.runCapturing(["/usr/bin/protoc", "--decode_raw"], input: message)
        guard result.status == 0 else { throw FixtureError(message: "protoc --decode_raw: \(result.stderr)") }
        return result.stdout
    }

    @Test func aCreateTransactionIsWhatEtcdExpects() async throws {
        let request = EtcdTxnRequest(
            compare: [EtcdCompare(key: bytes("/k"), result: .equal, target: .modRevision(0))],
            success: [.put(EtcdPutRequest(key: bytes("/k"), value: bytes("v")))],
            failure: [.range(EtcdRangeRequest(key: bytes("/k")))])
        let raw = try await decodeRaw(ProtoWriter.encode { request.encode(into: &$0) })
        // compare{target MOD(2), key, mod_revision 0 present}; success{request_put{key, value}};
        // failure{request_range{key}}. result EQUAL is proto3's default and not written.
        #expect(raw == """
            1 {
              2: 2
              3: "/k"
              6: 0
            }
            2 {
              2 {
                1: "/k"
                2: "v"
              }
            }
            3 {
              1 {
                1: "/k"
              }
            }

            """)
    }

    @Test func aPagedRangeAndAWatchCarryTheirFields() async throws {
        let range = EtcdRangeRequest(key: bytes("/a"), rangeEnd: bytes("/b"), limit: 500, revision: -1, countOnly: true)
        #expect(try await decodeRaw(ProtoWriter.encode { range.encode(into: &$0) }) == """
            1: "/a"
            2: "/b"
            3: 500
            4: 18446744073709551615
            9: 1

            """)
        let watch = EtcdWatchCreateRequest(key: [0], rangeEnd: [0], startRevision: 42)
        #expect(try await decodeRaw(ProtoWriter.encode { watch.encode(into: &$0) }) == """
            1 {
              1: "\\000"
              2: "\\000"
              3: 42
              6: 1
            }

            """)
    }

    @Test func repliesParseFieldByFieldAndSkipUnknownFields() throws {
        var kv = ProtoWriter()
        kv.bytes(1, bytes("/k"))
        kv.int64(2, 5)
        kv.int64(3, 7)
        kv.int64(4, 2)
        kv.bytes(5, bytes("value"))
        kv.int64(99, 1)  // a field a newer etcd might add
        var reply = ProtoWriter()
        reply.message(1) { $0.int64(3, 9) }
        reply.message(2) { $0 = kv }
        reply.bool(3, true)
        let parsed = try EtcdRangeResponse(bytes: reply.bytes)
        #expect(parsed.header.revision == 9)
        #expect(parsed.kvs == [EtcdKeyValue(key: bytes("/k"), createRevision: 5, modRevision: 7, version: 2, value: bytes("value"))])
        #expect(parsed.more)
    }

    @Test(arguments: [
        ([0x0A, 0x05, 0x18], "claims 5 bytes"),                               // header longer than the reply
        ([0x12], "truncated varint"),                                          // a tag and nothing
        ([0x08] + [UInt8](repeating: 0xFF, count: 11), "longer than ten bytes"), // runaway varint
        ([0x00, 0x01], "field number 0"),
        ([0x0B], "unsupported wire type 3"),                                   // groups are not proto3
    ] as [([UInt8], String)])
    func hostileRepliesAreErrorsNamingTheProblem(_ reply: [UInt8], _ problem: String) {
        do {
            _ = try EtcdRangeResponse(bytes: reply)
            Issue.record("a malformed reply parsed")
        } catch {
            #expect(error.description.contains(problem), "\(error)")
        }
    }

    @Test func endpointsParseAsTheFlagTakesThem() throws {
        let endpoints = try EtcdEndpoint.list("https://10.0.0.1:2379, http://etcd-2,http://[fd00::3]:12379/")
        #expect(endpoints.map(\.description) == ["https://10.0.0.1:2379", "http://etcd-2:2379", "http://[fd00::3]:12379"])
        #expect(endpoints[0].hostIsIPAddress && !endpoints[1].hostIsIPAddress && endpoints[2].hostIsIPAddress)
        for hostile in ["10.0.0.1:2379", "unix:///run/etcd.sock", "http://", "http://a:0", "http://a:99999", "http://a:b",
                        "http://user@a:2379", "http://a:2379/v3/kv", "http://[fd00::1", "http://a b:1", "http://a,,http://b", ""] {
            #expect(throws: EtcdConfigurationError.self, "\(hostile)") { try EtcdEndpoint.list(hostile) }
        }
    }

    @Test func grpcMessagesArePercentDecoded() {
        #expect(GRPCMessages.percentDecoded("etcdserver: mvcc: required revision has been compacted") ==
                "etcdserver: mvcc: required revision has been compacted")
        #expect(GRPCMessages.percentDecoded("a%20b%zz%4") == "a b%zz%4")
    }
}
