@testable import APIMachinery
@testable import APIRegistry
import APITestSupport
@testable import ControllerRuntime
@testable import Controllers
@testable import Scheduler
import Foundation
import KubeAPI
import Logging
import Testing

/// The ingress-status and service-lb controllers over the API in process: the addresses of
/// the Ready nodes published on swiftlet's Ingresses and on LoadBalancer Services, following
/// nodes as they come, go and change; other classes left alone. The test plays the agents.
@Suite struct LoadBalancerControllersTests {
    /// A node as an agent registers it, with its InternalIP.
    static func addNode(_ cluster: ControllerTestCluster, _ name: String, ip: String, ready: String = "True",
                        labels: [String: String] = [:]) async throws {
        try await cluster.addNode(name, ready: ready, labels: labels)
        try await setAddress(cluster, name, ip: ip)
    }

    static func setAddress(_ cluster: ControllerTestCluster, _ name: String, ip: String) async throws {
        _ = try await cluster.client.patch(.nodes, namespace: nil, name: name, .object(["status": .object([
            "addresses": .array([.object(["type": .string("InternalIP"), "address": .string(ip)]),
                                 .object(["type": .string("Hostname"), "address": .string(name)])]),
        ])]), subresource: "status")
    }

    static func setReady(_ cluster: ControllerTestCluster, _ name: String, _ ready: String) async throws {
        let now = Time.now().description
        _ = try await cluster.client.patch(.nodes, namespace: nil, name: name, .object(["status": .object([
            "conditions": .array([.object(["type": .string("Ready"), "status": .string(ready), "reason": .string("test"),
                                           "lastHeartbeatTime": .string(now), "lastTransitionTime": .string(now)])]),
        ])]), subresource: "status")
    }

    static func create(_ cluster: ControllerTestCluster, _ ref: ResourceRef, _ body: String) async throws -> KubeObject {
        try await cluster.client.create(ref, namespace: ref == .ingressClasses ? nil : "default", KubeObject(fields: try json(body).objectValue ?? [:]))
    }

    static func ingress(_ name: String, _ extraMetadata: String = "", className: String? = nil) -> String {
        let classField = className.map { #""ingressClassName":"\#($0)","# } ?? ""
        return #"{"metadata":{"name":"\#(name)"\#(extraMetadata)},"spec":{\#(classField)"defaultBackend":{"service":{"name":"web","port":{"number":80}}}}}"#
    }

    /// The IPs of an object's `status.loadBalancer.ingress`.
    static func addresses(_ cluster: ControllerTestCluster, _ ref: ResourceRef, _ name: String) async throws -> [String]? {
        guard let object = try await cluster.client.get(ref, namespace: "default", name: name) else { return nil }
        return (object.value(at: ["status", "loadBalancer", "ingress"])?.arrayValue ?? []).compactMap { $0["ip"]?.stringValue }
    }

    static func waitFor(_ cluster: ControllerTestCluster, _ ref: ResourceRef, _ name: String, _ expected: [String],
                        sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let seen = try await eventually({ try await addresses(cluster, ref, name) }, until: { $0 == expected })
        #expect(seen == expected, "\(name)", sourceLocation: sourceLocation)
    }

    @Test func swiftletsIngressesGetTheAddressesOfTheReadyNodesThatServeThem() async throws {
        try await withControllerCluster { cluster in
            try await Self.addNode(cluster, "n1", ip: "10.0.0.12")
            try await Self.addNode(cluster, "n2", ip: "10.0.0.3")
            try await Self.addNode(cluster, "n3", ip: "10.0.0.4", ready: "False")
            try await Self.addNode(cluster, "n4", ip: "10.0.0.5", labels: [LoadBalancerNodes.ingressLabel: "disabled"])
            _ = try await Self.create(cluster, .ingressClasses, #"{"metadata":{"name":"nginx"},"spec":{"controller":"k8s.io/ingress-nginx"}}"#)
            // Created first: one worker takes keys in order, so once the later ones are done
            // this one has been looked at.
            _ = try await Self.create(cluster, .ingresses, Self.ingress("other", className: "nginx"))
            _ = try await Self.create(cluster, .ingresses, Self.ingress("legacy", #","annotations":{"kubernetes.io/ingress.class":"swiftlet"}"#))
            let story = try await Self.create(cluster, .ingresses, Self.ingress("story"))
            #expect(story.string(at: ["spec", "ingressClassName"]) == "swiftlet")

            // Sorted by address, not as text; the NotReady and the disabled node left out.
            try await Self.waitFor(cluster, .ingresses, "story", ["10.0.0.3", "10.0.0.12"])
            try await Self.waitFor(cluster, .ingresses, "legacy", ["10.0.0.3", "10.0.0.12"])
            #expect(try await Self.addresses(cluster, .ingresses, "other") == [])

            try await Self.setReady(cluster, "n3", "True")
            try await Self.waitFor(cluster, .ingresses, "story", ["10.0.0.3", "10.0.0.4", "10.0.0.12"])
            try await Self.setReady(cluster, "n1", "Unknown")
            try await Self.waitFor(cluster, .ingresses, "story", ["10.0.0.3", "10.0.0.4"])
            try await Self.setAddress(cluster, "n2", ip: "10.0.0.30")
            try await Self.waitFor(cluster, .ingresses, "story", ["10.0.0.4", "10.0.0.30"])
            var node = try #require(try await cluster.client.get(.nodes, namespace: nil, name: "n4"))
            node.labels = node.labels.filter { $0.key != LoadBalancerNodes.ingressLabel }
            _ = try await cluster.client.update(.nodes, node)
            try await Self.waitFor(cluster, .ingresses, "story", ["10.0.0.4", "10.0.0.5", "10.0.0.30"])
            _ = try await cluster.client.delete(.nodes, namespace: nil, name: "n3")
            try await Self.waitFor(cluster, .ingresses, "story", ["10.0.0.5", "10.0.0.30"])

            // Moved to another class: left to that class's controller from then on.
            try await Self.waitFor(cluster, .ingresses, "legacy", ["10.0.0.5", "10.0.0.30"])
            var moved = try #require(try await cluster.client.get(.ingresses, namespace: "default", name: "legacy"))
            moved.metadata["annotations"] = .object(["kubernetes.io/ingress.class": .string("nginx")])
            _ = try await cluster.client.update(.ingresses, moved)
            // A class of swiftlet's controller under another name is swiftlet's too.
            _ = try await Self.create(cluster, .ingressClasses, #"{"metadata":{"name":"edge"},"spec":{"controller":"swiftlet.io/ingress"}}"#)
            _ = try await Self.create(cluster, .ingresses, Self.ingress("edge", className: "edge"))
            try await Self.waitFor(cluster, .ingresses, "edge", ["10.0.0.5", "10.0.0.30"])
            _ = try await cluster.client.delete(.nodes, namespace: nil, name: "n2")
            try await Self.waitFor(cluster, .ingresses, "story", ["10.0.0.5"])
            try await Self.waitFor(cluster, .ingresses, "edge", ["10.0.0.5"])
            #expect(try await Self.addresses(cluster, .ingresses, "legacy") == ["10.0.0.5", "10.0.0.30"], "not swiftlet's any more")

            // No node left to serve: no address.
            _ = try await cluster.client.delete(.nodes, namespace: nil, name: "n4")
            try await Self.waitFor(cluster, .ingresses, "story", [])
            let status = try #require(try await cluster.client.get(.ingresses, namespace: "default", name: "story")).value(at: ["status"])
            #expect(status == .object(["loadBalancer": .object([:])]))
        }
    }

    static let loadBalancer = #"{"metadata":{"name":"lb"},"spec":{"type":"LoadBalancer","selector":{"app":"web"},"ports":[{"port":80,"targetPort":8080}]}}"#

    @Test func loadBalancerServicesGetEveryReadyNodeAsK3sServiceLBGivesThem() async throws {
        try await withControllerCluster { cluster in
            try await Self.addNode(cluster, "n1", ip: "10.0.0.12")
            try await Self.addNode(cluster, "n2", ip: "10.0.0.3", labels: [LoadBalancerNodes.ingressLabel: "disabled"])
            try await Self.addNode(cluster, "n3", ip: "10.0.0.4", ready: "False")
            _ = try await Self.create(cluster, .services,
                                      #"{"metadata":{"name":"classy"},"spec":{"type":"LoadBalancer","loadBalancerClass":"example.com/lb","selector":{"app":"web"},"ports":[{"port":80}]}}"#)
            _ = try await Self.create(cluster, .services, Self.loadBalancer)
            try await Self.waitFor(cluster, .services, "lb", ["10.0.0.3", "10.0.0.12"])
            let service = try #require(try await cluster.client.get(.services, namespace: "default", name: "lb"))
            #expect(service.value(at: ["status", "loadBalancer", "ingress"]) == .array([
                .object(["ip": .string("10.0.0.3"), "ipMode": .string("VIP")]), .object(["ip": .string("10.0.0.12"), "ipMode": .string("VIP")]),
            ]))
            #expect(try await Self.addresses(cluster, .services, "classy") == [], "another class's Service is left alone")
            // The informers of nodes and services are separate streams: the first write may
            // have seen fewer nodes, the last one names both.
            let events = try await eventually({ try await cluster.events(about: "lb", reason: "UpdatedLoadBalancer") },
                                              until: { $0.contains { $0.string(at: ["message"])?.hasSuffix("-> [10.0.0.3 10.0.0.12]") == true } })
            #expect(events.contains { $0.string(at: ["message"]) == "Updated LoadBalancer with new IPs: [] -> [10.0.0.3 10.0.0.12]" }
                        || events.contains { $0.string(at: ["message"]) == "Updated LoadBalancer with new IPs: [10.0.0.12] -> [10.0.0.3 10.0.0.12]" }
                        || events.contains { $0.string(at: ["message"]) == "Updated LoadBalancer with new IPs: [10.0.0.3] -> [10.0.0.3 10.0.0.12]" },
                    "\(events.compactMap { $0.string(at: ["message"]) })")

            try await Self.setReady(cluster, "n3", "True")
            try await Self.waitFor(cluster, .services, "lb", ["10.0.0.3", "10.0.0.4", "10.0.0.12"])
            for node in ["n1", "n2", "n3"] { try await Self.setReady(cluster, node, "False") }
            try await Self.waitFor(cluster, .services, "lb", [])
            let unavailable = try await eventually({ try await cluster.events(about: "lb", reason: "UnAvailableLoadBalancer") }, until: { !$0.isEmpty })
            #expect(unavailable.first?.string(at: ["type"]) == "Warning")
            #expect(unavailable.first?.string(at: ["message"]) == "There are no available nodes for LoadBalancer")
            try await Self.setReady(cluster, "n1", "True")
            try await Self.waitFor(cluster, .services, "lb", ["10.0.0.12"])

            // No longer a LoadBalancer: the addresses go.
            _ = try await cluster.client.patch(.services, namespace: "default", name: "lb", .object(["spec": .object(["type": .string("ClusterIP")])]))
            try await Self.waitFor(cluster, .services, "lb", [])
        }
    }

    @Test func localTrafficPolicyPublishesOnlyNodesWithAReadyEndpoint() async throws {
        try await withControllerCluster { cluster in
            for (name, ip) in [("n1", "10.0.0.1"), ("n2", "10.0.0.2"), ("n3", "10.0.0.3")] {
                try await Self.addNode(cluster, name, ip: ip)
            }
            // Selectorless: the test writes the slice, as the agents' pods would get it.
            _ = try await Self.create(cluster, .services,
                                      #"{"metadata":{"name":"local"},"spec":{"type":"LoadBalancer","externalTrafficPolicy":"Local","ports":[{"port":80}]}}"#)
            try await Self.waitFor(cluster, .services, "local", [])
            var slice = try await Self.create(cluster, .endpointSlices, """
                {"metadata":{"name":"local-1","labels":{"kubernetes.io/service-name":"local","endpointslice.kubernetes.io/managed-by":"test"}},
                 "addressType":"IPv4","ports":[{"port":80}],
                 "endpoints":[{"addresses":["10.42.2.5"],"nodeName":"n2"},{"addresses":["10.42.3.5"],"nodeName":"n3","conditions":{"ready":false}}]}
                """)
            try await Self.waitFor(cluster, .services, "local", ["10.0.0.2"])
            slice.set(.array([.object(["addresses": .array([.string("10.42.3.5")]), "nodeName": .string("n3")])]), at: ["endpoints"])
            slice = try await cluster.client.update(.endpointSlices, slice)
            try await Self.waitFor(cluster, .services, "local", ["10.0.0.3"])
            _ = try await cluster.client.patch(.services, namespace: "default", name: "local",
                                               .object(["spec": .object(["externalTrafficPolicy": .string("Cluster")])]))
            try await Self.waitFor(cluster, .services, "local", ["10.0.0.1", "10.0.0.2", "10.0.0.3"])
        }
    }

    @Test func controllersCanBeTurnedOffByName() async throws {
        var settings = ControllerSettings.forTests
        settings.controllers = ["*", "-service-lb", "-ingress-status"]
        try await withControllerCluster(settings: settings) { cluster in
            try await Self.addNode(cluster, "n1", ip: "10.0.0.1")
            _ = try await Self.create(cluster, .services, Self.loadBalancer)
            _ = try await Self.create(cluster, .ingresses, Self.ingress("story"))
            // The endpoints controller (still on) writes the Service's Endpoints: by then a
            // service-lb controller would have had its turn too.
            _ = try await eventually({ try await cluster.client.get(.endpoints, namespace: "default", name: "lb") }, until: { $0 != nil })
            try await Task.sleep(for: .milliseconds(500))
            #expect(try await Self.addresses(cluster, .services, "lb") == [])
            #expect(try await Self.addresses(cluster, .ingresses, "story") == [])
        }
    }

    @Test func controllerNamesFollowKubeControllerManagersRules() {
        var settings = ControllerSettings()
        #expect(settings.runs("service-lb") && settings.runs("ingress-status"))
        settings.controllers = ["-service-lb", "*"]
        #expect(!settings.runs("service-lb") && settings.runs("deployment"))
        settings.controllers = ["service-lb"]
        #expect(settings.runs("service-lb") && !settings.runs("deployment"), "without * only the named ones run")
        settings.controllers = ["service-lb", "-service-lb"]
        #expect(settings.runs("service-lb"), "the first entry decides")
        settings.controllers = ["*", "-servicelb", "bogus"]
        #expect(settings.unknownControllers == ["servicelb", "bogus"])

        // Every listed name is the name the controller reports (its log lines and metadata).
        var all = ControllerSettings()
        all.rootCACertificatePEM = "-----BEGIN CERTIFICATE-----"
        all.apiServerAddresses = ["10.0.0.1"]
        let client = NoClient()
        let made = ControllerManager.makeControllers(client: client, informers: Informers(client: client, logger: Logger(label: "test")),
                                                     settings: all, logger: Logger(label: "test"))
        #expect(made.map(\.name) == ControllerManager.controllerNames)
    }
}

/// A client for constructing controllers that never run.
private struct NoClient: ResourceClient {
    var resources: [APIResource] { [] }
    func list(_ ref: ResourceRef, namespace: String?, options: ListOptions) async throws(APIError) -> ObjectList { throw APIError.pathNotFound() }
    func get(_ ref: ResourceRef, namespace: String?, name: String) async throws(APIError) -> KubeObject? { nil }
    func create(_ ref: ResourceRef, namespace: String?, _ object: KubeObject) async throws(APIError) -> KubeObject { throw APIError.pathNotFound() }
    func update(_ ref: ResourceRef, _ object: KubeObject, subresource: String?) async throws(APIError) -> KubeObject { throw APIError.pathNotFound() }
    func patch(_ ref: ResourceRef, namespace: String?, name: String, _ patch: JSONValue, subresource: String?) async throws(APIError) -> KubeObject {
        throw APIError.pathNotFound()
    }
    func delete(_ ref: ResourceRef, namespace: String?, name: String, options: DeleteOptions) async throws(APIError) -> DeleteOutcome? { nil }
    func watch(_ ref: ResourceRef, namespace: String?, options: ListOptions) async throws(APIError) -> ResourceWatch { throw APIError.pathNotFound() }
    func bind(namespace: String?, name: String, binding: KubeObject) async throws(APIError) {}
}
