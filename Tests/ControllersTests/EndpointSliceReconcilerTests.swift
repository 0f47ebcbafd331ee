@testable import APIMachinery
import APITestSupport
@testable import ControllerRuntime
@testable import Controllers
@testable import Scheduler
import Foundation
import KubeAPI
import Testing

/// The EndpointSlice reconciler alone: which slices a Service's pods make, and how existing
/// slices are changed (k8s.io/endpointslice's reconciler tests, on the same cases).
@Suite struct EndpointSliceReconcilerTests {
    static let reconciler = EndpointSliceReconciler(maxEndpointsPerSlice: 100)

    static func service(_ extra: String = "", ports: String = #"[{"name":"http","port":80,"targetPort":"http","protocol":"TCP"}]"#) throws -> KubeObject {
        KubeObject(fields: try json("""
            {"apiVersion":"v1","kind":"Service","metadata":{"name":"web","namespace":"default","uid":"svc-uid","labels":{"team":"a"}},
             "spec":{"selector":{"app":"web"},"clusterIP":"10.43.1.5","clusterIPs":["10.43.1.5"],"ipFamilies":["IPv4"],\(extra)"ports":\(ports)}}
            """).objectValue ?? [:])
    }

    /// A pod running on `node` with `ip`, its container port `http` being `port`.
    static func pod(_ name: String, ip: String?, ready: Bool = true, port: Int = 8080, node: String = "n1", phase: String = "Running",
                    deleting: Bool = false) throws -> KubeObject {
        var pod = KubeObject(fields: try json("""
            {"metadata":{"name":"\(name)","namespace":"default","uid":"uid-\(name)","labels":{"app":"web"}},
             "spec":{"nodeName":"\(node)","containers":[{"name":"c","ports":[{"name":"http","containerPort":\(port),"protocol":"TCP"}]}]},
             "status":{"phase":"\(phase)","conditions":[{"type":"Ready","status":"\(ready ? "True" : "False")"}]}}
            """).objectValue ?? [:])
        if let ip {
            pod.set(.string(ip), at: ["status", "podIP"])
            pod.set(.array([.object(["ip": .string(ip)])]), at: ["status", "podIPs"])
        }
        if deleting { pod.deletionTimestamp = "2026-01-01T00:00:00Z" }
        return pod
    }

    static let nodes: @Sendable (String) -> KubeObject? = { name in
        KubeObject(fields: ["metadata": .object(["name": .string(name), "labels": .object(["topology.kubernetes.io/zone": .string("zone-a")])])])
    }

    /// The plan's slices as if created, named slice-0, slice-1, ...
    static func stored(_ plan: EndpointSlicePlan) -> [KubeObject] {
        plan.creates.enumerated().map { index, slice in
            var named = slice
            named.name = "slice-\(index)"
            named.resourceVersion = "1"
            return named
        }
    }

    static func addresses(_ slice: KubeObject) -> [String] {
        (slice.fields["endpoints"]?.arrayValue ?? []).flatMap { ($0["addresses"]?.arrayValue ?? []).compactMap(\.stringValue) }
    }

    @Test func namedPortsResolvedPerPodMakeSeparateSlices() throws {
        let plan = Self.reconciler.reconcile(service: try Self.service(), pods: [
            try Self.pod("a", ip: "10.42.0.5", port: 8080), try Self.pod("b", ip: "10.42.0.6", port: 9090),
            try Self.pod("c", ip: "10.42.0.7", port: 8080),
        ], existing: [], node: Self.nodes)
        #expect(plan.updates.isEmpty && plan.deletes.isEmpty && plan.skippedPods.isEmpty)
        #expect(plan.creates.count == 2)
        let byPort = Dictionary(uniqueKeysWithValues: plan.creates.map {
            ($0.fields["ports"]?.arrayValue?.first?["port"]?.intValue ?? 0, Self.addresses($0))
        })
        #expect(byPort[8080] == ["10.42.0.5", "10.42.0.7"])
        #expect(byPort[9090] == ["10.42.0.6"])
        let slice = try #require(plan.creates.first)
        #expect(slice.fields["ports"] == .array([.object(["name": .string("http"), "port": .int(8080), "protocol": .string("TCP")])]))
        #expect(slice.metadata["generateName"] == .string("web-"))
        #expect(slice.labels == ["team": "a", "kubernetes.io/service-name": "web", "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io"])
        #expect(slice.metadata["ownerReferences"] == .array([.object([
            "apiVersion": .string("v1"), "kind": .string("Service"), "name": .string("web"), "uid": .string("svc-uid"),
            "controller": .bool(true), "blockOwnerDeletion": .bool(true),
        ])]))
        let endpoint = try #require(slice.fields["endpoints"]?.arrayValue?.first)
        #expect(endpoint == .object([
            "addresses": .array([.string("10.42.0.5")]), "nodeName": .string("n1"), "zone": .string("zone-a"),
            "conditions": .object(["ready": .bool(true), "serving": .bool(true), "terminating": .bool(false)]),
            "targetRef": .object(["kind": .string("Pod"), "namespace": .string("default"), "name": .string("a"), "uid": .string("uid-a")]),
        ]))
    }

    @Test func conditionsFollowReadinessAndTermination() throws {
        let pods = [
            try Self.pod("ready", ip: "10.42.0.1"), try Self.pod("unready", ip: "10.42.0.2", ready: false),
            try Self.pod("leaving", ip: "10.42.0.3", deleting: true), try Self.pod("done", ip: "10.42.0.4", phase: "Succeeded"),
            try Self.pod("new", ip: nil),
        ]
        func conditions(_ service: KubeObject) -> [String: JSONValue] {
            let plan = Self.reconciler.reconcile(service: service, pods: pods, existing: [], node: Self.nodes)
            var result: [String: JSONValue] = [:]
            for endpoint in plan.creates.flatMap({ $0.fields["endpoints"]?.arrayValue ?? [] }) {
                result[endpoint["targetRef"]?["name"]?.stringValue ?? ""] = endpoint["conditions"]
            }
            return result
        }
        func flags(_ ready: Bool, _ serving: Bool, _ terminating: Bool) -> JSONValue {
            .object(["ready": .bool(ready), "serving": .bool(serving), "terminating": .bool(terminating)])
        }
        // Finished pods and pods without an address are not endpoints at all.
        #expect(conditions(try Self.service()) == [
            "ready": flags(true, true, false), "unready": flags(false, false, false), "leaving": flags(false, true, true),
        ])
        #expect(conditions(try Self.service(#""publishNotReadyAddresses":true,"#)) == [
            "ready": flags(true, true, false), "unready": flags(true, false, false), "leaving": flags(true, true, true),
        ])
    }

    @Test func manyEndpointsFillSeveralSlices() throws {
        let pods = try (0..<250).map { try Self.pod("p\($0)", ip: "10.42.\($0 / 200).\($0 % 200 + 1)") }
        let plan = Self.reconciler.reconcile(service: try Self.service(), pods: pods, existing: [], node: Self.nodes)
        #expect(plan.creates.map { Self.addresses($0).count } == [100, 100, 50])
        #expect(Set(plan.creates.flatMap(Self.addresses)).count == 250)

        // Stored, then two pods go and one comes: only the slices holding them change, and
        // the newcomer fills a slice being rewritten anyway.
        let existing = Self.stored(plan)
        var changed = pods.filter { $0.name != "p0" && $0.name != "p1" }
        changed.append(try Self.pod("q", ip: "10.42.9.9"))
        let next = Self.reconciler.reconcile(service: try Self.service(), pods: changed, existing: existing, node: Self.nodes)
        #expect(next.creates.isEmpty && next.deletes.isEmpty)
        #expect(next.updates.count == 1)
        let updated = try #require(next.updates.first)
        #expect(updated.resourceVersion == "1")
        #expect(Self.addresses(updated).count == 99 && Self.addresses(updated).contains("10.42.9.9"))
        #expect(!Self.addresses(updated).contains("10.42.0.1") && !Self.addresses(updated).contains("10.42.0.2"))

        // Nothing changed: nothing to write.
        let same = Self.reconciler.reconcile(service: try Self.service(), pods: pods, existing: existing, node: Self.nodes)
        #expect(same.isEmpty)
    }

    @Test func aServiceWithoutEndpointsKeepsOnePlaceholder() throws {
        let plan = Self.reconciler.reconcile(service: try Self.service(), pods: [], existing: [], node: Self.nodes)
        #expect(plan.creates.count == 1)
        let placeholder = try #require(plan.creates.first)
        #expect(placeholder.fields["endpoints"] == .array([]) && placeholder.fields["ports"] == .array([]))
        let again = Self.reconciler.reconcile(service: try Self.service(), pods: [], existing: Self.stored(plan), node: Self.nodes)
        #expect(again.isEmpty)
        // Pods arrive: the placeholder is rewritten rather than deleted and replaced.
        let filled = Self.reconciler.reconcile(service: try Self.service(), pods: [try Self.pod("a", ip: "10.42.0.5")],
                                               existing: Self.stored(plan), node: Self.nodes)
        #expect(filled.creates.isEmpty && filled.deletes.isEmpty)
        #expect(filled.updates.map(\.name) == ["slice-0"])
        #expect(filled.updates.first.map(Self.addresses) == ["10.42.0.5"])
    }

    @Test func podsOnUnknownNodesAreLeftOutAndReported() throws {
        let plan = Self.reconciler.reconcile(service: try Self.service(), pods: [
            try Self.pod("a", ip: "10.42.0.5"), try Self.pod("b", ip: "10.42.0.6", node: "gone"),
        ], existing: [], node: { $0 == "n1" ? Self.nodes($0) : nil })
        #expect(plan.creates.flatMap(Self.addresses) == ["10.42.0.5"])
        #expect(plan.skippedPods == ["skipping Pod b for Service default/web: Node gone Not Found"])
    }

    @Test func headlessServicesAndForeignSlices() throws {
        var service = try Self.service(ports: "[]")
        service.set(.string("None"), at: ["spec", "clusterIP"])
        service.set(.array([.string("None")]), at: ["spec", "clusterIPs"])
        let plan = Self.reconciler.reconcile(service: service, pods: [try Self.pod("a", ip: "10.42.0.5")], existing: [], node: Self.nodes)
        let slice = try #require(plan.creates.first)
        #expect(slice.labels["service.kubernetes.io/headless"] == "")
        #expect(slice.fields["ports"] == .array([]))
        #expect(Self.addresses(slice) == ["10.42.0.5"])
        // A slice owned by an older Service of the same name is replaced.
        var foreign = Self.stored(plan)[0]
        foreign.metadata["ownerReferences"] = .array([.object(["apiVersion": .string("v1"), "kind": .string("Service"), "uid": .string("old")])])
        let next = Self.reconciler.reconcile(service: service, pods: [try Self.pod("a", ip: "10.42.0.5")], existing: [foreign], node: Self.nodes)
        #expect(next.deletes.map(\.name) == ["slice-0"])
        #expect(next.creates.count == 1)
    }
}
