@testable import APIMachinery
@testable import APIRegistry
import APITestSupport
import EtcdStorage
import Foundation
import KubeAPI
import Server
import ServerTestSupport
import Storage
import Testing
import TestSupport

/// Two API servers on one datastore (issue 19): the Service IP and node port bitmaps live in
/// the store and every change is a compare-and-swap, so neither server hands out what the
/// other holds, a release by one is seen by the other, and a stored bitmap that is damaged or
/// for another range is rebuilt from the Services. On SQLite and on a real etcd.
@Suite(.requires(TestEtcd.isInstalled, "needs etcd (Debian's etcd-server)"))
struct ServiceAllocationHATests {
    /// Runs `body` with two handles on one datastore, as two servers have it: the same SQLite
    /// store (two handles on one file would each count revisions), or two clients of one etcd.
    private static func withSharedDatastore(_ backend: TestBackend,
                                            _ body: (any TestStorage, any TestStorage) async throws -> Void) async throws {
        switch backend {
        case .sqlite:
            let scratch = try TemporaryDirectory()
            try await closing(try SQLiteStorage(path: scratch.path + "/state.db")) { try await body($0, $0) }
        case .etcd:
            try await withTestEtcd { etcd in
                try await closing(try await EtcdStorage(client: try etcd.client(), compactionInterval: nil)) { first in
                    try await closing(try await EtcdStorage(client: try etcd.client(), compactionInterval: nil)) { second in
                        try await body(first, second)
                    }
                }
            }
        }
    }

    private static func message(_ result: Result<KubeObject, APIError>) -> String {
        if case .failure(let error) = result { return error.message }
        return "created"
    }

    private static func nodePort(_ service: KubeObject) -> Int64? {
        service.value(at: ["spec", "ports"])?.arrayValue?.first?["nodePort"]?.intValue
    }

    @Test(arguments: TestBackend.allCases)
    func concurrentCreatesOnTwoServersNeverShareAnAddressOrAPort(_ backend: TestBackend) async throws {
        try await Self.withSharedDatastore(backend) { one, two in
            // Small ranges, nearly filled: 61 of 62 addresses (with the kubernetes Service's), 60 of 70 ports.
            let first = try await ControlPlane(storage: one, serviceCIDR: "10.96.0.0/26", serviceNodePortRange: 30000...30069)
            let second = try await ControlPlane(storage: two, serviceCIDR: "10.96.0.0/26", serviceNodePortRange: 30000...30069)
            let created = try await withThrowingTaskGroup(of: KubeObject.self) { group in
                for index in 0..<60 {
                    let api = index % 2 == 0 ? first.service : second.service
                    group.addTask {
                        try await api.createService(#"{"metadata":{"name":"s\#(index)"},"spec":{"type":"NodePort","ports":[{"port":80}]}}"#).get()
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            let addresses = created.compactMap { $0.string(at: ["spec", "clusterIP"]) }
            let ports = created.compactMap(Self.nodePort)
            #expect(addresses.count == 60 && Set(addresses).count == 60 && !addresses.contains("10.96.0.1"), "\(addresses.sorted())")
            #expect(ports.count == 60 && Set(ports).count == 60, "\(ports.sorted())")
            // The stored bitmaps hold exactly these, and neither server's repair finds anything wrong.
            let counts = try await second.service.services.counts
            #expect(counts.ips == 61 && counts.nodePorts == 60, "\(counts)")
            #expect(try await first.service.repairServiceAllocations() == [])
            #expect(try await second.service.repairServiceAllocations() == [])
        }
    }

    @Test(arguments: TestBackend.allCases)
    func aValueHeldByOneServerIsRefusedByTheOtherUntilReleased(_ backend: TestBackend) async throws {
        try await Self.withSharedDatastore(backend) { one, two in
            let first = try await ControlPlane(storage: one).service
            let second = try await ControlPlane(storage: two).service
            let web = #"{"metadata":{"name":"web"},"spec":{"type":"NodePort","clusterIP":"10.43.0.50","ports":[{"port":80,"nodePort":30100}]}}"#
            _ = try await first.createService(web).get()
            // The same words as on one server.
            let sameIP = #"{"metadata":{"name":"other"},"spec":{"type":"NodePort","clusterIP":"10.43.0.50","ports":[{"port":80,"nodePort":30100}]}}"#
            #expect(Self.message(try await second.createService(sameIP))
                    == #"Service "other" is invalid: spec.clusterIPs: Invalid value: ["10.43.0.50"]: failed to allocate IP 10.43.0.50: provided IP is already allocated"#)
            #expect(Self.message(try await second.createService(sameIP, dryRun: true)).hasSuffix("provided IP is already allocated"))
            #expect(Self.message(try await second.createService(#"{"metadata":{"name":"other"},"spec":{"type":"NodePort","ports":[{"port":80,"nodePort":30100}]}}"#))
                    == #"Service "other" is invalid: spec.ports[0].nodePort: Invalid value: 30100: provided port is already allocated"#)
            // Refused creates gave back what they took on the way.
            let counts = try await first.services.counts
            #expect(counts.ips == 2 && counts.nodePorts == 1, "\(counts)")

            // Deleted on the first server: the second may take both at once.
            _ = try await first.delete(resource: first.store(group: "", name: "services").resource, namespace: "default", name: "web",
                                       options: DeleteOptions(), context: first.context())
            let other = try await second.createService(sameIP).get()
            #expect(other.string(at: ["spec", "clusterIP"]) == "10.43.0.50" && Self.nodePort(other) == 30100)
            #expect(try await first.services.isAllocated(ip: "10.43.0.50"))
            #expect(try await first.services.isAllocated(nodePort: 30100))
            #expect(Self.message(try await first.createService(web)).hasSuffix("provided IP is already allocated"))
        }
    }

    @Test(arguments: TestBackend.allCases)
    func aRepairOnOneServerKeepsTheOthersFreshAllocationForThreeRounds(_ backend: TestBackend) async throws {
        try await Self.withSharedDatastore(backend) { one, two in
            let first = try await ControlPlane(storage: one).service
            let second = try await ControlPlane(storage: two).service
            // Taken on the first server, its Service not written yet.
            _ = try await first.services.allocateIP(requested: "10.43.0.81")
            _ = try await first.services.allocateNodePort(requested: 30500)
            for _ in 0..<2 {
                _ = try await second.repairServiceAllocations()
                #expect(try await first.services.isAllocated(ip: "10.43.0.81"))
                #expect(try await first.services.isAllocated(nodePort: 30500))
            }
            _ = try await second.repairServiceAllocations()
            #expect(try await !first.services.isAllocated(ip: "10.43.0.81"))
            #expect(try await !first.services.isAllocated(nodePort: 30500))
            #expect(try await first.services.isAllocated(ip: "10.43.0.1"))
        }
    }

    /// Values for one stored range object that are not a usable allocation of it.
    private static func damaged(range: String) -> [(String, [UInt8])] {
        let prefix = #"{"apiVersion":"v1","kind":"RangeAllocation","range":"\#(range)","data":""#
        return [
            ("garbage", [0xFF, 0x00, 0x13, 0x37, 0x0A]),
            ("truncated JSON", Array(#"{"apiVersion":"v1","kind":"RangeAl"#.utf8)),
            ("the wrong JSON", Array(#"{"kind":"RangeAllocation","range":["\#(range)"],"data":{}}"#.utf8)),
            ("a bitmap too long", Array((prefix + Data(repeating: 0xFF, count: 9000).base64EncodedString() + #""}"#).utf8)),
            // etcd takes at most 1.5 MiB a request.
            ("huge base64", Array((prefix + String(repeating: "QUJD", count: 350_000) + #""}"#).utf8)),
        ]
    }

    @Test(arguments: TestBackend.allCases)
    func damagedStoredAllocationsAreRebuiltFromTheServices(_ backend: TestBackend) async throws {
        try await Self.withSharedDatastore(backend) { one, two in
            let first = try await ControlPlane(storage: one).service
            let log = LogRecorder()
            let second = try await ControlPlane(storage: two, logger: log.logger).service
            _ = try await first.createService(#"{"metadata":{"name":"web"},"spec":{"type":"NodePort","clusterIP":"10.43.0.50","ports":[{"port":80,"nodePort":30100}]}}"#).get()
            let damages = Array(zip(Self.damaged(range: "10.43.0.0/16"), Self.damaged(range: "30000-32767")).enumerated())
            for (index, ((what, ipValue), (_, portValue))) in damages {
                let logged = log.recorded.count
                _ = try await one.update(ServiceAllocator.clusterIPsKey, value: ipValue, expectedRevision: nil)
                _ = try await one.update(ServiceAllocator.nodePortsKey, value: portValue, expectedRevision: nil)
                // Still refused: the Services say who holds what.
                #expect(Self.message(try await second.createService(#"{"metadata":{"name":"x"},"spec":{"clusterIP":"10.43.0.50","ports":[{"port":80}]}}"#))
                        .hasSuffix("provided IP is already allocated"), "\(what)")
                #expect(Self.message(try await second.createService(#"{"metadata":{"name":"x"},"spec":{"type":"NodePort","ports":[{"port":80,"nodePort":30100}]}}"#))
                        .hasSuffix("provided port is already allocated"), "\(what)")
                // New Services get new values, on either server.
                let fresh = try await second.createService(#"{"metadata":{"name":"n\#(index)"},"spec":{"type":"NodePort","ports":[{"port":80}]}}"#).get()
                #expect(fresh.string(at: ["spec", "clusterIP"]) != "10.43.0.50" && Self.nodePort(fresh) != 30100, "\(what)")
                _ = try await first.createService(#"{"metadata":{"name":"m\#(index)"},"spec":{"type":"NodePort","ports":[{"port":80}]}}"#).get()
                let warnings = log.recorded.dropFirst(logged)
                #expect(warnings.contains { $0.hasPrefix("warning: the stored allocations \(ServiceAllocator.clusterIPsKey) cannot be used") }, "\(what)")
                #expect(warnings.contains { $0.hasPrefix("warning: the stored allocations \(ServiceAllocator.nodePortsKey) cannot be used") }, "\(what)")
                try await Self.expectStoredAllocationsHoldEveryService(one, first, "\(what)")
            }
            // Damaged between repairs: the periodic repair rebuilds it too.
            _ = try await one.update(ServiceAllocator.clusterIPsKey, value: [0xFF], expectedRevision: nil)
            _ = try await second.repairServiceAllocations()
            try await Self.expectStoredAllocationsHoldEveryService(one, first, "after a repair")
            // Nothing stored was lost: every Service is there.
            let names = try await one.list(prefix: "/registry/services/specs/").objects.map(\.key)
            #expect(names.count == 2 + 2 * damages.count, "\(names)")
        }
    }

    /// Both stored objects decode, and hold every value the stored Services use, once.
    private static func expectStoredAllocationsHoldEveryService(_ storage: any Storage, _ api: APIService, _ comment: String) async throws {
        let services = try await storage.list(prefix: "/registry/services/specs/").objects.map { try KubeObject(json: $0.value) }
        for kind in [ServiceAllocator.Kind.clusterIPs, .nodePorts] {
            let range = api.services.range(kind)
            let stored = try #require(try await storage.get(range.key), "\(comment)")
            let allocation = try RangeAllocationSnapshot.decode(stored.value, range: range.range, empty: range.empty)
            let used = services.flatMap { api.services.values(of: $0, in: kind).compactMap { $0.offset } }
            #expect(Set(used).count == used.count && used.allSatisfy(allocation.has), "\(comment): \(kind)")
            #expect(allocation.count == used.count, "\(comment): \(kind) holds \(allocation.count), the Services \(used.count)")
        }
    }

    @Test(arguments: TestBackend.allCases)
    func aChangedServiceCIDRAndNodePortRangeAreRebuilt(_ backend: TestBackend) async throws {
        try await Self.withSharedDatastore(backend) { one, two in
            let before = try await ControlPlane(storage: one).service
            _ = try await before.createService(#"{"metadata":{"name":"web"},"spec":{"type":"NodePort","clusterIP":"10.43.0.50","ports":[{"port":80,"nodePort":30100}]}}"#).get()
            // The operator restarts with other ranges (--service-cidr, --service-node-port-range).
            let log = LogRecorder()
            let after = try await ControlPlane(storage: two, serviceCIDR: "10.44.0.0/16", serviceNodePortRange: 31000...31999, logger: log.logger).service
            #expect(log.recorded.contains { $0.contains("it is for the range 10.43.0.0/16, not the configured 10.44.0.0/16") }, "\(log.recorded)")
            #expect(log.recorded.contains { $0.contains("it is for the range 30000-32767, not the configured 31000-31999") }, "\(log.recorded)")
            for (key, range) in [(ServiceAllocator.clusterIPsKey, "10.44.0.0/16"), (ServiceAllocator.nodePortsKey, "31000-31999")] {
                let stored = try #require(try await two.get(key))
                #expect(try KubeObject(json: stored.value).string(at: ["range"]) == range)
            }
            // Values outside the new ranges are reported as before.
            let problems = try await after.repairServiceAllocations()
            #expect(problems.contains("Cluster IP [IPv4]:10.43.0.50 is not within the configured Service CIDR 10.44.0.0/16; please recreate service default/web"), "\(problems)")
            #expect(problems.contains("Port 30100 is not within the port range 31000-31999; please recreate service default/web"), "\(problems)")
            let fresh = try await after.createService(#"{"metadata":{"name":"fresh"},"spec":{"type":"NodePort","ports":[{"port":80}]}}"#).get()
            #expect(fresh.string(at: ["spec", "clusterIP"])?.hasPrefix("10.44.") == true)
            #expect((31000...31999).contains(Self.nodePort(fresh) ?? 0))
            let counts = try await after.services.counts
            #expect(counts.ips == 1 && counts.nodePorts == 1, "\(counts)")
        }
    }
}
