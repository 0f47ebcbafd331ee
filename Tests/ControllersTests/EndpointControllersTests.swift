@testable import APIMachinery
@testable import APIRegistry
import APITestSupport
@testable import ControllerRuntime
@testable import Controllers
@testable import Scheduler
import Foundation
import KubeAPI
import Testing

/// The endpoints and endpoint-slice controllers, the kube-dns and `kubernetes` Service
/// controllers, running in the controller manager over the API in process. The tests act as
/// the kubelets: they bind pods to nodes and write their addresses and readiness.
@Suite struct EndpointControllersTests {
    /// A pod on `node` labelled `app: <app>` whose container port `http` is `port`.
    @discardableResult
    static func addPod(_ cluster: ControllerTestCluster, _ name: String, app: String = "web", port: Int = 8080,
                       node: String = "n1") async throws -> KubeObject {
        try await cluster.addPod(name, labels: ["app": app], nodeName: node, extraSpec: [
            "containers": try json(#"[{"name":"c","image":"busybox","ports":[{"name":"http","containerPort":\#(port)}]}]"#),
        ])
    }

    /// What a kubelet reports: Running with `ip`, Ready or not.
    static func setStatus(_ cluster: ControllerTestCluster, _ name: String, ip: String, ready: Bool) async throws {
        let flag = JSONValue.string(ready ? "True" : "False")
        _ = try await cluster.client.patch(.pods, namespace: "default", name: name, .object(["status": .object([
            "phase": .string("Running"), "podIP": .string(ip), "podIPs": .array([.object(["ip": .string(ip)])]),
            "conditions": .array([.object(["type": .string("Ready"), "status": flag])]),
        ])]), subresource: "status")
    }

    static func createService(_ cluster: ControllerTestCluster, _ body: String) async throws -> KubeObject {
        try await cluster.client.create(.services, namespace: "default", KubeObject(fields: try json(body).objectValue ?? [:]))
    }

    static func slices(_ cluster: ControllerTestCluster, _ service: String, namespace: String = "default") async throws -> [KubeObject] {
        try await cluster.client.list(.endpointSlices, namespace: namespace,
                                      labelSelector: try LabelSelector(parsing: "kubernetes.io/service-name=\(service)")).items
    }

    /// Every endpoint of the Service's slices: address → conditions.
    static func endpoints(_ cluster: ControllerTestCluster, _ service: String) async throws -> [String: JSONValue] {
        var result: [String: JSONValue] = [:]
        for slice in try await slices(cluster, service) {
            for endpoint in slice.fields["endpoints"]?.arrayValue ?? [] {
                for address in endpoint["addresses"]?.arrayValue ?? [] { result[address.stringValue ?? ""] = endpoint["conditions"] }
            }
        }
        return result
    }

    static func flags(_ ready: Bool, _ serving: Bool, _ terminating: Bool) -> JSONValue {
        .object(["ready": .bool(ready), "serving": .bool(serving), "terminating": .bool(terminating)])
    }

    static func subsets(_ cluster: ControllerTestCluster, _ name: String) async throws -> JSONValue? {
        try await cluster.client.get(.endpoints, namespace: "default", name: name)?.fields["subsets"]
    }

    @Test func podsBecomeEndpointsAsTheyGetReadyAndLeave() async throws {
        try await withControllerCluster { cluster in
            try await cluster.addNode("n1")
            _ = try await Self.createService(cluster, #"{"metadata":{"name":"web"},"spec":{"selector":{"app":"web"},"ports":[{"port":80,"targetPort":"http"}]}}"#)
            // No pods yet: a placeholder slice and an Endpoints object without subsets.
            let placeholder = try await eventually({ try await Self.slices(cluster, "web") }, until: { $0.count == 1 })
            #expect(placeholder.first?.fields["endpoints"] == .array([]))
            let empty = try await eventually({ try await cluster.client.get(.endpoints, namespace: "default", name: "web") }, until: { $0 != nil })
            #expect(empty?.fields["subsets"] == nil)

            try await Self.addPod(cluster, "a")
            try await Self.addPod(cluster, "b")
            try await Self.setStatus(cluster, "a", ip: "10.42.0.5", ready: true)
            try await Self.setStatus(cluster, "b", ip: "10.42.0.6", ready: false)
            let both = try await eventually({ try await Self.endpoints(cluster, "web") }, until: { $0.count == 2 })
            #expect(both == ["10.42.0.5": Self.flags(true, true, false), "10.42.0.6": Self.flags(false, false, false)])
            // Until both pods are in: a sync may have seen a's status before b's.
            let subsets = try await eventually({ try await Self.subsets(cluster, "web") }, until: {
                ($0?.arrayValue?.first?["addresses"]?.arrayValue?.count ?? 0) + ($0?.arrayValue?.first?["notReadyAddresses"]?.arrayValue?.count ?? 0) == 2
            })
            let subset = try #require(subsets?.arrayValue?.first)
            #expect(subset["addresses"]?.arrayValue?.compactMap { $0["ip"]?.stringValue } == ["10.42.0.5"])
            #expect(subset["notReadyAddresses"]?.arrayValue?.compactMap { $0["ip"]?.stringValue } == ["10.42.0.6"])
            #expect(subset["ports"] == .array([.object(["port": .int(8080), "protocol": .string("TCP")])]))
            #expect(subset["addresses"]?.arrayValue?.first?["nodeName"] == .string("n1"))
            #expect(try await Self.slices(cluster, "web").count == 1, "the placeholder was reused")

            // b gets ready; a is deleted gracefully (it is on a node): terminating, still serving.
            try await Self.setStatus(cluster, "b", ip: "10.42.0.6", ready: true)
            try await cluster.client.delete(.pods, namespace: "default", name: "a", gracePeriodSeconds: 30)
            let leaving = try await eventually({ try await Self.endpoints(cluster, "web") }, until: { $0["10.42.0.5"] == Self.flags(false, true, true) })
            #expect(leaving == ["10.42.0.5": Self.flags(false, true, true), "10.42.0.6": Self.flags(true, true, false)])
            // Endpoints drop terminating pods.
            let after = try await eventually({ try await Self.subsets(cluster, "web") }, until: {
                $0?.arrayValue?.first?["addresses"]?.arrayValue?.count == 1 && $0?.arrayValue?.first?["notReadyAddresses"] == nil
            })
            #expect(after?.arrayValue?.first?["addresses"]?.arrayValue?.first?["ip"] == .string("10.42.0.6"))

            // The kubelet finishes a: gone from the slice.
            try await cluster.client.delete(.pods, namespace: "default", name: "a", gracePeriodSeconds: 0)
            let last = try await eventually({ try await Self.endpoints(cluster, "web") }, until: { $0.count == 1 })
            #expect(last == ["10.42.0.6": Self.flags(true, true, false)])

            // Settled: the controllers' own writes do not make them write again.
            #expect(try await storeSettles(cluster.api.storage))
        }
    }

    @Test func namedPortsSelectorChangesAndDeletion() async throws {
        try await withControllerCluster { cluster in
            try await cluster.addNode("n1")
            for (name, app, port, ip) in [("a1", "a", 8080, "10.42.0.11"), ("a2", "a", 9090, "10.42.0.12"), ("b1", "b", 7070, "10.42.0.21")] {
                try await Self.addPod(cluster, name, app: app, port: port)
                try await Self.setStatus(cluster, name, ip: ip, ready: true)
            }
            var service = try await Self.createService(cluster, #"{"metadata":{"name":"web"},"spec":{"selector":{"app":"a"},"ports":[{"name":"web","port":80,"targetPort":"http"}]}}"#)
            // a1 and a2 name their port differently: a slice each.
            let split = try await eventually({ try await Self.slices(cluster, "web") }, until: { $0.count == 2 })
            let ports = Set(split.compactMap { $0.fields["ports"]?.arrayValue?.first?["port"]?.intValue })
            #expect(ports == [8080, 9090])
            let subsets = try await eventually({ try await Self.subsets(cluster, "web") }, until: { $0?.arrayValue?.count == 2 })
            #expect(subsets?.arrayValue?.count == 2)

            // The selector moves to b.
            service.set(.object(["app": .string("b")]), at: ["spec", "selector"])
            service = try await cluster.client.update(.services, service)
            let moved = try await eventually({ try await Self.endpoints(cluster, "web") }, until: { Set($0.keys) == ["10.42.0.21"] })
            #expect(Set(moved.keys) == ["10.42.0.21"])
            let remaining = try await eventually({ try await Self.slices(cluster, "web") }, until: { $0.count == 1 })
            #expect(remaining.first?.fields["ports"]?.arrayValue?.first?["port"]?.intValue == 7070)

            // Deleted: the slices (garbage collector) and the Endpoints (the controller) go.
            try await cluster.client.delete(.services, namespace: "default", name: "web")
            let gone = try await eventually({ try await Self.slices(cluster, "web") }, until: { $0.isEmpty })
            #expect(gone.isEmpty)
            let noEndpoints = try await eventually({ try await cluster.client.get(.endpoints, namespace: "default", name: "web") }, until: { $0 == nil })
            #expect(noEndpoints == nil)
        }
    }

    @Test func moreThanAHundredPodsMakeSeveralSlices() async throws {
        try await withControllerCluster { cluster in
            try await cluster.addNode("n1")
            _ = try await Self.createService(cluster, #"{"metadata":{"name":"big"},"spec":{"selector":{"app":"big"},"ports":[{"port":80,"targetPort":8080}]}}"#)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<150 {
                    group.addTask {
                        try await Self.addPod(cluster, "big-\(index)", app: "big")
                        try await Self.setStatus(cluster, "big-\(index)", ip: "10.42.\(index / 100).\(index % 100 + 2)", ready: true)
                    }
                }
                try await group.waitForAll()
            }
            let all = try await eventually(within: 30, { try await Self.endpoints(cluster, "big") }, until: { $0.count == 150 })
            #expect(all.count == 150)
            let slices = try await Self.slices(cluster, "big")
            #expect(slices.count == 2, "\(slices.map { $0.fields["endpoints"]?.arrayValue?.count ?? 0 })")
            #expect(slices.allSatisfy { ($0.fields["endpoints"]?.arrayValue?.count ?? 0) <= 100 })
            let endpoints = try await eventually({ try await Self.subsets(cluster, "big") }, until: {
                $0?.arrayValue?.first?["addresses"]?.arrayValue?.count == 150
            })
            #expect(endpoints?.arrayValue?.first?["addresses"]?.arrayValue?.count == 150)
        }
    }

    @Test func kubeDNSHasOneEndpointPerNode() async throws {
        try await withControllerCluster { cluster in
            let service = try await eventually({ try await cluster.client.get(.services, namespace: "kube-system", name: "kube-dns") }, until: { $0 != nil })
            #expect(service?.string(at: ["spec", "clusterIP"]) == "10.43.0.10")
            #expect(service?.string(at: ["spec", "internalTrafficPolicy"]) == "Local")
            #expect(service?.value(at: ["spec", "selector"]) == nil)
            #expect(service?.labels == ["k8s-app": "kube-dns", "kubernetes.io/cluster-service": "true", "kubernetes.io/name": "CoreDNS"])
            #expect(service?.value(at: ["spec", "ports"]) == (try json("""
                [{"name":"dns","port":53,"protocol":"UDP","targetPort":53},{"name":"dns-tcp","port":53,"protocol":"TCP","targetPort":53}]
                """)))

            // Nodes get pod CIDRs from node IPAM; each becomes an endpoint on its bridge address.
            try await cluster.addNode("n1")
            try await cluster.addNode("n2", ready: "False")
            @Sendable func slice() async throws -> KubeObject? {
                try await cluster.client.get(.endpointSlices, namespace: "kube-system", name: "kube-dns")
            }
            let filled = try await eventually({ try await slice() }, until: { ($0?.fields["endpoints"]?.arrayValue?.count ?? 0) == 2 })
            let nodeCIDR = { (name: String) async throws -> String in
                try await cluster.client.get(.nodes, namespace: nil, name: name)?.string(at: ["spec", "podCIDR"]) ?? ""
            }
            func bridge(_ cidr: String) -> String {
                let (network, _) = IPv4Text.parseCIDR(cidr) ?? (0, 0)
                return IPv4Text.format(network + 1)
            }
            let expected: JSONValue = .array([
                .object(["addresses": .array([.string(bridge(try await nodeCIDR("n1")))]), "nodeName": .string("n1"),
                         "conditions": Self.flags(true, true, false)]),
                .object(["addresses": .array([.string(bridge(try await nodeCIDR("n2")))]), "nodeName": .string("n2"),
                         "conditions": Self.flags(false, false, false)]),
            ])
            #expect(filled?.fields["endpoints"] == expected)
            #expect(filled?.labels[EndpointSlice.managedByLabel] == "cluster-dns.swiftlet.io")
            #expect(filled?.labels[EndpointSlice.serviceNameLabel] == "kube-dns")
            // The Endpoints are written after the slice: wait for them, not for luck.
            let endpoints = try await eventually({ try await cluster.client.get(.endpoints, namespace: "kube-system", name: "kube-dns") }, until: {
                $0?.value(at: ["subsets"])?.arrayValue?.first?["notReadyAddresses"]?.arrayValue?.count == 1
            })
            #expect(endpoints?.labels["endpointslice.kubernetes.io/skip-mirror"] == "true")
            #expect(endpoints?.value(at: ["subsets"])?.arrayValue?.first?["notReadyAddresses"]?.arrayValue?.count == 1)

            // Deleted by someone: it comes back, with the same address.
            try await cluster.client.delete(.services, namespace: "kube-system", name: "kube-dns")
            let back = try await eventually({ try await cluster.client.get(.services, namespace: "kube-system", name: "kube-dns") }, until: {
                $0 != nil && $0?.uid != service?.uid
            })
            #expect(back?.string(at: ["spec", "clusterIP"]) == "10.43.0.10")
            let restored = try await eventually({ try await slice() }, until: {
                ($0?.metadata["ownerReferences"]?.arrayValue?.first?["uid"]?.stringValue) == back?.uid && ($0?.fields["endpoints"]?.arrayValue?.count ?? 0) == 2
            })
            #expect(restored != nil)
        }
    }

    @Test func theKubernetesServicePointsAtTheAPIServer() async throws {
        var settings = ControllerSettings.forTests
        settings.apiServerAddresses = ["10.0.0.1"]
        settings.apiServerPort = 6444
        settings.apiServerEndpointsInterval = .milliseconds(100)
        try await withControllerCluster(settings: settings) { cluster in
            let service = try await eventually({ try await cluster.client.get(.services, namespace: "default", name: "kubernetes") }, until: {
                $0?.value(at: ["spec", "ports"])?.arrayValue?.first?["targetPort"] == .int(6444)
            })
            #expect(service?.string(at: ["spec", "clusterIP"]) == "10.43.0.1")
            let endpoints = try await eventually({ try await cluster.client.get(.endpoints, namespace: "default", name: "kubernetes") }, until: { $0 != nil })
            #expect(endpoints?.fields["subsets"] == (try json(#"[{"addresses":[{"ip":"10.0.0.1"}],"ports":[{"name":"https","port":6444,"protocol":"TCP"}]}]"#)))
            #expect(endpoints?.labels == ["endpointslice.kubernetes.io/skip-mirror": "true"])
            let slice = try await eventually({ try await cluster.client.get(.endpointSlices, namespace: "default", name: "kubernetes") }, until: { $0 != nil })
            #expect(slice?.fields["endpoints"] == (try json(#"[{"addresses":["10.0.0.1"],"conditions":{"ready":true}}]"#)))
            #expect(slice?.fields["ports"] == (try json(#"[{"name":"https","port":6444,"protocol":"TCP"}]"#)))
            #expect(slice?.labels == ["kubernetes.io/service-name": "kubernetes"])
            // Checked ten times a second, written only when something differs.
            #expect(try await storeSettles(cluster.api.storage))

            // Deleted: recreated with the same address.
            try await cluster.client.delete(.services, namespace: "default", name: "kubernetes")
            let back = try await eventually({ try await cluster.client.get(.services, namespace: "default", name: "kubernetes") }, until: {
                $0 != nil && $0?.uid != service?.uid
            })
            #expect(back?.string(at: ["spec", "clusterIP"]) == "10.43.0.1")
        }
    }
}
