import Foundation
import Glibc
import Testing
@testable import NodeNetwork

/// The allocator on a temp directory: order, idempotence, exhaustion, reuse, persistence.
@Suite("host-local address allocator")
struct HostLocalAllocatorTests {
    final class TempDir {
        let path: String
        init() throws {
            var template = Array("/tmp/swiftlet-ipam-XXXXXX".utf8CString)
            guard let made = mkdtemp(&template) else { throw NetworkError.system(step: "mkdtemp", detail: "", errno: errno) }
            path = String(cString: made)
        }
        deinit { try? FileManager.default.removeItem(atPath: path) }
        func files() -> [String] { ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted() }
    }

    func allocator(_ dir: TempDir, _ cidr: String = "10.42.0.0/24") throws -> HostLocalAllocator {
        let subnet = try #require(IPv4Subnet(cidr))
        return try HostLocalAllocator(directory: dir.path, subnet: subnet, gateway: subnet.address(at: 1))
    }

    @Test func addressesStartAfterTheGatewayAndRepeatForTheSamePod() throws {
        let dir = try TempDir()
        let ipam = try allocator(dir)
        let a = try ipam.allocate(podUID: "pod-a")
        let b = try ipam.allocate(podUID: "pod-b")
        #expect(a.address.description == "10.42.0.2" && a.fresh)
        #expect(b.address.description == "10.42.0.3" && b.fresh)
        let again = try ipam.allocate(podUID: "pod-a")
        #expect(again.address == a.address && !again.fresh)
        // CNI host-local's layout: one file per address holding the pod UID, plus the last reserved one.
        #expect(dir.files() == ["10.42.0.2", "10.42.0.3", "last_reserved_ip.0"])
        #expect(try String(contentsOfFile: dir.path + "/10.42.0.2", encoding: .utf8) == "pod-a\neth0\n")
        #expect(try String(contentsOfFile: dir.path + "/last_reserved_ip.0", encoding: .utf8) == "10.42.0.3")
    }

    @Test func exhaustionSaysWhichRangeIsFullAndSkipsNetworkGatewayBroadcast() throws {
        let dir = try TempDir()
        let ipam = try allocator(dir, "10.42.0.0/29") // .0 network, .1 gateway, .7 broadcast: .2-.6 usable
        let given = try (1...5).map { try ipam.allocate(podUID: "p\($0)").address.description }
        #expect(given == ["10.42.0.2", "10.42.0.3", "10.42.0.4", "10.42.0.5", "10.42.0.6"])
        #expect(throws: NetworkError.addressesExhausted(range: "10.42.0.0/29")) { try ipam.allocate(podUID: "p6") }
        do {
            _ = try ipam.allocate(podUID: "p6")
        } catch {
            #expect("\(error)" == "no IP addresses available in range 10.42.0.0/29")
        }
        #expect(!dir.files().contains { $0.hasPrefix(".") }, "temporary files left: \(dir.files())")
    }

    @Test func aReleasedAddressIsReusedOnlyAfterTheRangeWrapsAround() throws {
        let dir = try TempDir()
        let ipam = try allocator(dir, "10.42.0.0/29")
        for uid in ["p1", "p2", "p3"] { _ = try ipam.allocate(podUID: uid) } // .2 .3 .4
        try ipam.release(podUID: "p1")
        try ipam.release(podUID: "p1") // idempotent
        #expect(!dir.files().contains("10.42.0.2"))
        #expect(try ipam.allocate(podUID: "p4").address.description == "10.42.0.5") // round-robin, not .2 at once
        #expect(try ipam.allocate(podUID: "p5").address.description == "10.42.0.6")
        #expect(try ipam.allocate(podUID: "p6").address.description == "10.42.0.2") // wrapped
    }

    @Test func allocationsSurviveARestartAndNoAddressIsGivenTwice() throws {
        let dir = try TempDir()
        let first = try allocator(dir)
        let a = try first.allocate(podUID: "pod-a").address
        // A second allocator on the same directory (the agent restarted) knows pod-a's address...
        let second = try allocator(dir)
        #expect(try second.scan() == [a: "pod-a"])
        let again = try second.allocate(podUID: "pod-a")
        #expect(again.address == a && !again.fresh)
        // ...and two allocators racing never hand out one address twice: the file is the claim.
        let b = try first.allocate(podUID: "pod-b").address
        let c = try second.allocate(podUID: "pod-c").address
        #expect(Set([a, b, c]).count == 3)
        // A release through one is seen by the other, which does not have it in memory.
        try second.release(podUID: "pod-b")
        #expect(try first.scan() == [a: "pod-a", c: "pod-c"])
    }

    @Test func foreignFilesAndOtherSubnetsAreIgnored() throws {
        let dir = try TempDir()
        try "x\n".write(toFile: dir.path + "/lock", atomically: false, encoding: .utf8)
        try "old-pod\n".write(toFile: dir.path + "/10.99.0.5", atomically: false, encoding: .utf8)
        let ipam = try allocator(dir)
        #expect(try ipam.scan().isEmpty)
        #expect(try ipam.allocate(podUID: "p").address.description == "10.42.0.2")
    }

    @Test func tooSmallSubnetsAndBadUIDsAreRefused() throws {
        let dir = try TempDir()
        #expect(throws: NetworkError.self) { try allocator(dir, "10.42.0.0/31") }
        let ipam = try allocator(dir)
        #expect(throws: NetworkError.self) { try ipam.allocate(podUID: "../etc") }
        #expect(throws: NetworkError.self) { try ipam.allocate(podUID: "") }
    }
}
