@testable import APIMachinery
@testable import APIRegistry
import Foundation
import KubeAPI
import Testing

/// The stored form of the service IP and node port bitmaps: upstream's `RangeAllocation`
/// object with `big.Int.Bytes()` data, and what is refused when reading it back.
@Suite struct RangeAllocationTests {
    private static let ips = RangeAllocation(size: 65534, staticBand: 256)

    @Test func theBitmapIsStoredAsUpstreamsBigEndianNumber() throws {
        var allocation = Self.ips
        #expect(allocation.bytes == [])
        allocation.allocate(0)
        allocation.allocate(9)
        // 2^0 + 2^9 = 0x0201, no leading zero bytes (Go's big.Int.Bytes).
        #expect(allocation.bytes == [0x02, 0x01])
        allocation.allocate(65533)
        #expect(allocation.bytes.count == 8192 && allocation.bytes.first == 0x20)
        let restored = try #require(RangeAllocation(size: 65534, staticBand: 256, bytes: allocation.bytes))
        #expect(restored == allocation && restored.taken == [0, 9, 65533] && restored.count == 3)
        // Leading zero bytes within the range's length are the same number.
        #expect(RangeAllocation(size: 65534, staticBand: 256, bytes: [0, 0, 0x02, 0x01])?.taken == [0, 9])
    }

    @Test func aBitmapThatDoesNotFitTheRangeIsRefused() {
        // Longer than the range needs, even when the extra bytes are zero.
        #expect(RangeAllocation(size: 16, staticBand: 0, bytes: [0, 0, 1]) == nil)
        // A bit past the last value (offset 20 of a 20-value range).
        #expect(RangeAllocation(size: 20, staticBand: 0, bytes: [0x10, 0, 0]) == nil)
        #expect(RangeAllocation(size: 12, staticBand: 0, bytes: [0x10, 0]) == nil)
        #expect(RangeAllocation(size: 12, staticBand: 0, bytes: [0x0F, 0xFF])?.count == 12)
    }

    @Test func theStoredObjectIsARangeAllocation() throws {
        var allocation = Self.ips
        allocation.allocate(0)
        allocation.allocate(9)
        let value = RangeAllocationSnapshot.encode(allocation, range: "10.43.0.0/16")
        #expect(String(decoding: value, as: UTF8.self)
                == #"{"apiVersion":"v1","kind":"RangeAllocation","data":"AgE=","range":"10.43.0.0/16"}"#)
        #expect(try RangeAllocationSnapshot.decode(value, range: "10.43.0.0/16", empty: Self.ips) == allocation)
        // Nothing taken: Go leaves the empty data out.
        let empty = Array(#"{"apiVersion":"v1","kind":"RangeAllocation","range":"10.43.0.0/16"}"#.utf8)
        #expect(try RangeAllocationSnapshot.decode(empty, range: "10.43.0.0/16", empty: Self.ips) == Self.ips)
    }

    @Test(arguments: [
        ("\u{1}garbage", "it is not JSON"),
        (#"{"kind":"RangeAllocation","range":"10.43.0.0/16","data":"AgE=""#, "it is not JSON"),
        (#"["RangeAllocation"]"#, "it is not a RangeAllocation object"),
        (#"{"kind":"Service","range":"10.43.0.0/16"}"#, "it is not a RangeAllocation object"),
        (#"{"kind":"RangeAllocation","data":"AgE="}"#, "it names no range"),
        (#"{"kind":"RangeAllocation","range":"10.42.0.0/16","data":"AgE="}"#, "it is for the range 10.42.0.0/16, not the configured 10.43.0.0/16"),
        (#"{"kind":"RangeAllocation","range":"10.43.0.0/16","data":"***"}"#, "its data is not base64"),
        (#"{"kind":"RangeAllocation","range":"10.43.0.0/16","data":7}"#, "its data is not base64"),
        (#"{"kind":"RangeAllocation","range":"10.43.0.0/16","data":"\#(Data(repeating: 0xFF, count: 8192).base64EncodedString())"}"#,
         "its bitmap (8192 bytes) does not fit the 65534 values of 10.43.0.0/16"),
        (#"{"kind":"RangeAllocation","range":"10.43.0.0/16","data":"\#(String(repeating: "A", count: 20_000))"}"#,
         "it is 20059 bytes, more than a bitmap of 10.43.0.0/16 can take (11960)"),
    ])
    func aDamagedObjectSaysWhy(_ value: String, _ reason: String) {
        do {
            _ = try RangeAllocationSnapshot.decode(Array(value.utf8), range: "10.43.0.0/16", empty: Self.ips)
            Issue.record("accepted \(value.prefix(80))")
        } catch {
            // Parse errors go on with the parser's words.
            #expect(error.description == reason || error.description.hasPrefix(reason + ": "), "\(error)")
        }
    }

    @Test func noResourceKeyCanReachTheStoredRanges() {
        for key in [ServiceAllocator.clusterIPsKey, ServiceAllocator.nodePortsKey] {
            for resource in ResourceRegistry.builtIn {
                #expect(!key.hasPrefix(resource.keyPrefix), "\(resource.name) lists \(key)")
                #expect(!resource.keyPrefix.hasPrefix("/registry/ranges/"), "\(resource.name)")
            }
        }
    }
}
