import ControllerRuntime
import Scheduler
import APIMachinery
import KubeAPI

/// What the endpoints and endpoint-slice controllers ask of Services and Pods, as
/// k8s.io/endpointslice/util and pkg/controller/endpoint do (`ShouldPodBeInEndpoints`,
/// `FindPort`, `ShouldSetHostname`; `IsPodReady` is `ReplicaSetPods.isReady`).
enum ServiceEndpointRules {
    /// The label every Endpoints and EndpointSlice of a headless Service carries.
    static let headlessLabel = "service.kubernetes.io/headless"
    /// Endpoints with this label are not mirrored into EndpointSlices (their writer makes both).
    static let skipMirrorLabel = "endpointslice.kubernetes.io/skip-mirror"

    /// The Service's selector, or nil when it has none (its endpoints are written by someone
    /// else, and the controllers leave it alone). An empty map selects nothing either.
    static func selector(of service: KubeObject) -> [String: String]? {
        guard let members = service.value(at: ["spec", "selector"])?.objectValue, !members.isEmpty else { return nil }
        return members.compactMapValues(\.stringValue)
    }

    /// Whether the controllers write endpoints for the Service: it has a selector and is not
    /// ExternalName (https://issues.k8s.io/105986).
    static func isManaged(_ service: KubeObject) -> Bool {
        service.string(at: ["spec", "type"]) != "ExternalName" && selector(of: service) != nil
    }

    static func selects(_ selector: [String: String], _ labels: [String: String]) -> Bool {
        selector.allSatisfy { labels[$0.key] == $0.value }
    }

    /// The Services of the pod's namespace whose selector matches `labels`.
    static func services(selecting labels: [String: String], namespace: String?, in services: [KubeObject]) -> [KubeObject] {
        services.filter { service in
            guard service.namespace == namespace, isManaged(service), let selector = selector(of: service) else { return false }
            return selects(selector, labels)
        }
    }

    /// `clusterIP` set and not "None".
    static func hasClusterIP(_ service: KubeObject) -> Bool {
        let clusterIP = service.string(at: ["spec", "clusterIP"]) ?? ""
        return !clusterIP.isEmpty && clusterIP != "None"
    }

    static func publishesNotReady(_ service: KubeObject) -> Bool {
        service.value(at: ["spec", "publishNotReadyAddresses"])?.boolValue ?? false
    }

    // MARK: - Pods

    /// `ShouldPodBeInEndpoints`: not finished, has an address, and (unless
    /// `includeTerminating`) not being deleted.
    static func shouldPodBeInEndpoints(_ pod: KubeObject, includeTerminating: Bool) -> Bool {
        let phase = pod.string(at: ["status", "phase"])
        if phase == "Succeeded" || phase == "Failed" { return false }
        if podIPs(pod).isEmpty { return false }
        if !includeTerminating, pod.deletionTimestamp != nil { return false }
        return true
    }

    /// `status.podIPs`, or `status.podIP` from writers that only set that.
    static func podIPs(_ pod: KubeObject) -> [String] {
        let listed = (pod.value(at: ["status", "podIPs"])?.arrayValue ?? []).compactMap { $0["ip"]?.stringValue }.filter { !$0.isEmpty }
        if !listed.isEmpty { return listed }
        return pod.string(at: ["status", "podIP"]).map { $0.isEmpty ? [] : [$0] } ?? []
    }

    /// `FindPort`: a numeric target port as it is; a named one looked up among the pod's
    /// container ports (and those of sidecars: init containers with `restartPolicy: Always`)
    /// of the same protocol. Nil when the pod has no such port: it is left out for that port.
    static func findPort(_ pod: KubeObject, servicePort: JSONValue) -> Int64? {
        let proto = servicePort["protocol"]?.stringValue ?? "TCP"
        switch servicePort["targetPort"] {
        case .string(let name)?:
            var containers = pod.value(at: ["spec", "containers"])?.arrayValue ?? []
            containers += (pod.value(at: ["spec", "initContainers"])?.arrayValue ?? []).filter { $0["restartPolicy"]?.stringValue == "Always" }
            for container in containers {
                for port in container["ports"]?.arrayValue ?? [] where port["name"]?.stringValue == name {
                    if (port["protocol"]?.stringValue ?? "TCP") == proto, let number = port["containerPort"]?.intValue {
                        return number
                    }
                }
            }
            return nil
        case let value?:
            return value.intValue
        case nil:
            return servicePort["port"]?.intValue
        }
    }

    /// `ShouldSetHostname`: a pod with `hostname` whose `subdomain` names this Service.
    static func hostname(of pod: KubeObject, for service: KubeObject) -> String? {
        guard let hostname = pod.string(at: ["spec", "hostname"]), !hostname.isEmpty,
              pod.string(at: ["spec", "subdomain"]) == service.name, pod.namespace == service.namespace else { return nil }
        return hostname
    }

    /// The pod as an endpoint's `targetRef`.
    static func targetRef(_ pod: KubeObject) -> JSONValue {
        var reference: [String: JSONValue] = ["kind": .string("Pod"), "name": .string(pod.name ?? "")]
        if let namespace = pod.namespace { reference["namespace"] = .string(namespace) }
        if let uid = pod.uid { reference["uid"] = .string(uid) }
        return .object(reference)
    }

    /// The Service as the controlling owner of its EndpointSlices (`metav1.NewControllerRef`).
    static func ownerReference(_ service: KubeObject) -> JSONValue {
        .object([
            "apiVersion": .string("v1"), "kind": .string("Service"), "name": .string(service.name ?? ""),
            "uid": .string(service.uid ?? ""), "controller": .bool(true), "blockOwnerDeletion": .bool(true),
        ])
    }

    /// The fields of a pod that decide its endpoints: a change to anything else (a container's
    /// restart count, a condition's timestamps) is not worth a sync.
    static func endpointFields(_ pod: KubeObject) -> [JSONValue?] {
        [
            .object(pod.labels.mapValues { .string($0) }), pod.metadata["deletionTimestamp"], pod.value(at: ["status", "phase"]),
            .array(podIPs(pod).map { .string($0) }), .bool(ReplicaSetPods.isReady(pod)), pod.value(at: ["spec", "nodeName"]),
            pod.value(at: ["spec", "hostname"]), pod.value(at: ["spec", "subdomain"]),
            .array((pod.value(at: ["spec", "containers"])?.arrayValue ?? []).map { $0["ports"] ?? .null }),
            .array((pod.value(at: ["spec", "initContainers"])?.arrayValue ?? []).map { $0["ports"] ?? .null }),
        ]
    }
}
