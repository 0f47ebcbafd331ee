@testable import APIMachinery
@testable import APIRegistry
import APITestSupport
import Foundation
import KubeAPI
import Storage
import Testing

/// Cluster IPs and node ports: allocated on create, given back when a create fails, when an
/// update drops them and on delete, rebuilt from the store after a restart, repaired, never
/// handed out twice.
@Suite struct ServiceAllocationTests {
    private static func message(_ result: Result<KubeObject, APIError>) -> String {
        if case .failure(let error) = result { return error.message }
        return ""
    }

    private static func update(_ api: APIService, _ object: KubeObject) async throws(APIError) -> KubeObject {
        try await api.store(group: "", name: "services").update(namespace: "default", name: object.name ?? "", object: object,
                                                                subresource: nil, context: api.context()).0
    }

    private static func delete(_ api: APIService, _ name: String) async throws(APIError) {
        let store = try api.store(group: "", name: "services")
        _ = try await api.delete(resource: store.resource, namespace: "default", name: name, options: DeleteOptions(), context: api.context())
    }

    /// An API over a fresh store with its own service network.
    private static func withAPI<T: Sendable>(serviceCIDR: String = "10.43.0.0/16", nodePorts: ClosedRange<Int64> = 30000...32767,
                                             _ body: @Sendable (APIService, String) async throws -> T) async throws -> T {
        try await withScratchDirectory(nil) { directory in
            let storage = try SQLiteStorage(path: directory + "/state.db")
            let result: Result<T, any Error>
            do {
                let api = try APIService(storage: storage, serviceCIDR: serviceCIDR, serviceNodePortRange: nodePorts)
                try await api.bootstrap()
                result = .success(try await body(api, directory))
            } catch {
                result = .failure(error)
            }
            await storage.close()
            return try result.get()
        }
    }

    @Test func aDeletedServiceGivesBackItsAddressAndPorts() async throws {
        try await Self.withAPI { api, _ in
            let body = #"{"metadata":{"name":"web"},"spec":{"type":"NodePort","clusterIP":"10.43.0.50","ports":[{"port":80,"nodePort":30100}]}}"#
            _ = try await api.createService(body).get()
            // Taken: the messages name the Service asking.
            #expect(Self.message(try await api.createService(#"{"metadata":{"name":"other"},"spec":{"clusterIP":"10.43.0.50","ports":[{"port":80}]}}"#))
                    == #"Service "other" is invalid: spec.clusterIPs: Invalid value: ["10.43.0.50"]: failed to allocate IP 10.43.0.50: provided IP is already allocated"#)
            #expect(Self.message(try await api.createService(#"{"metadata":{"name":"other"},"spec":{"type":"NodePort","ports":[{"port":80,"nodePort":30100}]}}"#))
                    == #"Service "other" is invalid: spec.ports[0].nodePort: Invalid value: 30100: provided port is already allocated"#)
            #expect(Self.message(try await api.createService(#"{"metadata":{"name":"other"},"spec":{"type":"NodePort","ports":[{"port":80,"nodePort":40000}]}}"#))
                    == #"Service "other" is invalid: spec.ports[0].nodePort: Invalid value: 40000: provided port is not in the valid range. The range of valid ports is 30000-32767"#)
            #expect(Self.message(try await api.createService(#"{"metadata":{"name":"other"},"spec":{"clusterIP":"10.44.0.1","ports":[{"port":80}]}}"#))
                    == #"Service "other" is invalid: spec.clusterIPs: Invalid value: ["10.44.0.1"]: failed to allocate IP 10.44.0.1: the provided IP (10.44.0.1) is not in the valid range. The range of valid IPs is 10.43.0.0/16"#)
            #expect(Self.message(try await api.createService(#"{"metadata":{"name":"other"},"spec":{"clusterIP":"10.43.255.255","ports":[{"port":80}]}}"#))
                    .hasSuffix("the provided IP (10.43.255.255) is not in the valid range. The range of valid IPs is 10.43.0.0/16"))

            // Deleted and created again with the same values: they were given back.
            try await Self.delete(api, "web")
            #expect(try await !api.services.isAllocated(ip: "10.43.0.50"))
            #expect(try await !api.services.isAllocated(nodePort: 30100))
            let again = try await api.createService(body).get()
            #expect(again.string(at: ["spec", "clusterIP"]) == "10.43.0.50")
        }
    }

    @Test func refusedAndDryRunCreatesHoldNothing() async throws {
        try await Self.withAPI { api, _ in
            let invalid = #"{"metadata":{"name":"web"},"spec":{"type":"NodePort","clusterIP":"10.43.0.60","ports":[{"port":80,"nodePort":30200,"protocol":"ICMP"}]}}"#
            #expect(Self.message(try await api.createService(invalid)).contains("spec.ports[0].protocol: Unsupported value"))
            #expect(try await !api.services.isAllocated(ip: "10.43.0.60"))
            #expect(try await !api.services.isAllocated(nodePort: 30200))
            // A bad name is found after allocation too, and gives back the same way.
            let badName = #"{"metadata":{"name":"Web"},"spec":{"type":"NodePort","clusterIP":"10.43.0.60","ports":[{"port":80,"nodePort":30200}]}}"#
            #expect(Self.message(try await api.createService(badName)).contains("metadata.name: Invalid value: \"Web\""))
            let valid = #"{"metadata":{"name":"web"},"spec":{"type":"NodePort","clusterIP":"10.43.0.60","ports":[{"port":80,"nodePort":30200}]}}"#
            let dryRun = try await api.createService(valid, dryRun: true).get()
            #expect(dryRun.string(at: ["spec", "clusterIP"]) == "10.43.0.60")
            #expect(try await !api.services.isAllocated(ip: "10.43.0.60"))
            _ = try await api.createService(valid).get()
            #expect(try await api.services.isAllocated(ip: "10.43.0.60"))
            #expect(try await api.services.isAllocated(nodePort: 30200))
            // A second create of the same name fails at the store and gives back its own values.
            let duplicate = try await api.createService(#"{"metadata":{"name":"web"},"spec":{"type":"NodePort","ports":[{"port":80}]}}"#)
            #expect(Self.message(duplicate) == #"services "web" already exists"#)
            let counts = try await api.services.counts
            #expect(counts.ips == 2 && counts.nodePorts == 1, "\(counts)")
        }
    }

    @Test func updatesKeepReleaseAndAllocate() async throws {
        try await Self.withAPI { api, _ in
            var web = try await api.createService(#"{"metadata":{"name":"web"},"spec":{"type":"NodePort","selector":{"app":"web"},"ports":[{"name":"http","port":80}]}}"#).get()
            let address = try #require(web.string(at: ["spec", "clusterIP"]))
            let nodePort = try #require(web.value(at: ["spec", "ports"])?.arrayValue?.first?["nodePort"]?.intValue)

            // Re-submitted as written (kubectl replace/apply): the allocated values stay.
            var resubmitted = try #require(KubeObject(fields: try json(#"{"metadata":{"name":"web"},"spec":{"type":"NodePort","selector":{"app":"web"},"ports":[{"name":"http","port":80}]}}"#).objectValue ?? [:]))
            resubmitted.resourceVersion = web.resourceVersion
            web = try await Self.update(api, resubmitted)
            #expect(web.string(at: ["spec", "clusterIP"]) == address)
            #expect(web.value(at: ["spec", "ports"])?.arrayValue?.first?["nodePort"]?.intValue == nodePort)

            // A second port gets a node port of its own; removing the first gives it back.
            web.set(try json(#"[{"name":"http","port":80,"nodePort":\#(nodePort)},{"name":"admin","port":8080}]"#), at: ["spec", "ports"])
            web = try await Self.update(api, web)
            let admin = try #require(web.value(at: ["spec", "ports"])?.arrayValue?.last?["nodePort"]?.intValue)
            #expect(admin != nodePort)
            web.set(try json(#"[{"name":"admin","port":8080,"nodePort":\#(admin)}]"#), at: ["spec", "ports"])
            web = try await Self.update(api, web)
            #expect(try await !api.services.isAllocated(nodePort: nodePort))
            #expect(try await api.services.isAllocated(nodePort: admin))

            // The cluster IP may not change.
            var moved = web
            moved.set(.string("10.43.0.99"), at: ["spec", "clusterIP"])
            moved.set(.array([.string("10.43.0.99")]), at: ["spec", "clusterIPs"])
            do throws(APIError) {
                _ = try await Self.update(api, moved)
                Issue.record("the cluster IP changed")
            } catch {
                #expect(error.message == #"Service "web" is invalid: spec.clusterIPs[0]: Invalid value: ["10.43.0.99"]: may not change once set"#)
            }
            #expect(try await !api.services.isAllocated(ip: "10.43.0.99"))

            // To ClusterIP: the node ports go (the client did not ask for them).
            web.set(.string("ClusterIP"), at: ["spec", "type"])
            web = try await Self.update(api, web)
            #expect(web.value(at: ["spec", "ports"])?.arrayValue?.first?["nodePort"] == nil)
            #expect(web.value(at: ["spec", "externalTrafficPolicy"]) == nil)
            #expect(try await !api.services.isAllocated(nodePort: admin))

            // To ExternalName: the address goes; back to ClusterIP: a new one comes.
            web.set(.string("ExternalName"), at: ["spec", "type"])
            web.set(.string("example.com"), at: ["spec", "externalName"])
            web = try await Self.update(api, web)
            #expect(web.value(at: ["spec", "clusterIP"]) == nil && web.value(at: ["spec", "ipFamilies"]) == nil)
            #expect(try await !api.services.isAllocated(ip: address))
            web.set(.string("ClusterIP"), at: ["spec", "type"])
            web.set(nil, at: ["spec", "externalName"])
            web = try await Self.update(api, web)
            let newAddress = try #require(web.string(at: ["spec", "clusterIP"]))
            #expect(try await api.services.isAllocated(ip: newAddress))
        }
    }

    @Test func allocationsAreRebuiltFromTheStoreAtStart() async throws {
        try await Self.withAPI { api, directory in
            _ = try await api.createService(#"{"metadata":{"name":"a"},"spec":{"type":"NodePort","clusterIP":"10.43.0.70","ports":[{"port":80,"nodePort":30300}]}}"#).get()
            _ = try await api.createService(#"{"metadata":{"name":"b"},"spec":{"type":"NodePort","ports":[{"port":80}]}}"#).get()
            let before = try await api.services.counts
            // A second API over the same store, as after a restart.
            let storage = try SQLiteStorage(path: directory + "/state.db")
            let restarted = try APIService(storage: storage)
            try await restarted.bootstrap()
            let after = try await restarted.services.counts
            #expect(after.ips == before.ips && after.nodePorts == before.nodePorts, "\(before) \(after)")
            #expect(Self.message(try await restarted.createService(#"{"metadata":{"name":"c"},"spec":{"clusterIP":"10.43.0.70","ports":[{"port":80}]}}"#))
                    .hasSuffix("failed to allocate IP 10.43.0.70: provided IP is already allocated"))
            #expect(Self.message(try await restarted.createService(#"{"metadata":{"name":"c"},"spec":{"type":"NodePort","ports":[{"port":80,"nodePort":30300}]}}"#))
                    .hasSuffix("provided port is already allocated"))
            await storage.close()
        }
    }

    @Test func concurrentCreatesNeverShareAnAddressOrAPort() async throws {
        try await Self.withAPI { api, _ in
            let created = try await withThrowingTaskGroup(of: KubeObject.self) { group in
                for index in 0..<40 {
                    group.addTask {
                        try await api.createService(#"{"metadata":{"name":"s\#(index)"},"spec":{"type":"NodePort","ports":[{"port":80}]}}"#).get()
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            let addresses = created.compactMap { $0.string(at: ["spec", "clusterIP"]) }
            let ports = created.compactMap { $0.value(at: ["spec", "ports"])?.arrayValue?.first?["nodePort"]?.intValue }
            #expect(addresses.count == 40 && Set(addresses).count == 40)
            #expect(ports.count == 40 && Set(ports).count == 40)
            // Random picks come from above the static band (the first 256 addresses, the first
            // 86 ports), which stays free for values asked for by number.
            #expect(addresses.allSatisfy { (IPv4Text.parseIPv4($0) ?? 0) >= (IPv4Text.parseIPv4("10.43.1.1") ?? 0) }, "\(addresses)")
            #expect(ports.allSatisfy { $0 >= 30086 }, "\(ports)")
        }
    }

    @Test func aFullRangeIsReported() async throws {
        try await Self.withAPI(serviceCIDR: "10.96.0.0/29", nodePorts: 30000...30002) { api, _ in
            // Six host addresses; the kubernetes Service has the first.
            for index in 0..<5 {
                _ = try await api.createService(#"{"metadata":{"name":"s\#(index)"},"spec":{"ports":[{"port":80}]}}"#).get()
            }
            let full = try await api.createService(#"{"metadata":{"name":"s5"},"spec":{"ports":[{"port":80}]}}"#)
            guard case .failure(let error) = full else { Issue.record("a full range allocated"); return }
            #expect(error.code == 500)
            #expect(error.message == "Internal error occurred: failed to allocate a serviceIP: range is full")
            try await Self.delete(api, "s4")
            _ = try await api.createService(#"{"metadata":{"name":"n"},"spec":{"type":"NodePort","ports":[{"name":"a","port":80},{"name":"b","port":81},{"name":"c","port":82}]}}"#).get()
            try await Self.delete(api, "s3")
            #expect(Self.message(try await api.createService(#"{"metadata":{"name":"m"},"spec":{"type":"NodePort","ports":[{"port":80}]}}"#))
                    == "Internal error occurred: failed to allocate a nodePort: range is full")
        }
    }

    @Test func repairTakesBackMissingValuesAndFreesLeaks() async throws {
        try await Self.withAPI { api, _ in
            // A Service written behind the allocator's back (a restored backup, another writer).
            let stray = KubeObject(fields: try json("""
                {"apiVersion":"v1","kind":"Service","metadata":{"name":"stray","namespace":"default","uid":"u1"},
                 "spec":{"type":"NodePort","clusterIP":"10.43.0.80","clusterIPs":["10.43.0.80"],"ports":[{"port":80,"nodePort":30400}]}}
                """).objectValue ?? [:])
            _ = try await api.storage.create("/registry/services/specs/default/stray", value: stray.serialized())
            let problems = try await api.repairServiceAllocations()
            #expect(problems.contains("Cluster IP [IPv4]:10.43.0.80 is not allocated; repairing (service default/stray)"), "\(problems)")
            #expect(problems.contains("Port 30400 is not allocated; repairing (service default/stray)"), "\(problems)")
            #expect(try await api.services.isAllocated(ip: "10.43.0.80"))

            // Taken without any Service using it: kept for two repairs, freed on the third.
            _ = try await api.services.allocateIP(requested: "10.43.0.81")
            for _ in 0..<2 {
                _ = try await api.repairServiceAllocations()
                #expect(try await api.services.isAllocated(ip: "10.43.0.81"))
            }
            _ = try await api.repairServiceAllocations()
            #expect(try await !api.services.isAllocated(ip: "10.43.0.81"))
            #expect(try await api.services.isAllocated(ip: "10.43.0.80"))
        }
    }
}
