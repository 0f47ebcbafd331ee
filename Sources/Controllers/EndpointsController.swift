import ControllerRuntime
import Scheduler
import APIMachinery
import KubeAPI
import Logging

/// kube-controller-manager's Endpoints controller (pkg/controller/endpoint): for each Service
/// with a selector (not ExternalName), a core/v1 Endpoints object of the same name listing the
/// selected pods, ready ones under `addresses` and the others under `notReadyAddresses`,
/// terminating pods left out unless the Service publishes not-ready addresses. `kubectl get ep`
/// and `describe svc` of older kubectl read it; the agents read EndpointSlices. Endpoints
/// have no owner: when the Service goes, this controller deletes them. Like the slice
/// controller, a sync reads the current Endpoints from the API, not the informer cache.
struct EndpointsController: Controller {
    let name = "endpoints"
    static let component = "endpoint-controller"
    /// Upstream truncates an Endpoints object beyond this many addresses and says so.
    static let maxCapacity = 1000
    static let overCapacityAnnotation = "endpoints.kubernetes.io/over-capacity"

    private let client: any ResourceClient
    private let services: Informer
    private let pods: Informer
    private let queue = WorkQueue()
    private let logger: Logger

    init(client: any ResourceClient, informers: Informers, logger: Logger) {
        self.client = client
        self.services = informers.informer(.services)
        self.pods = informers.informer(.pods)
        self.logger = logger
        let queue = self.queue, services = self.services
        services.addHandler { event in
            let key = Informer.key(of: event.object)
            Task { await queue.add(key) }
        }
        pods.addHandler { event in
            let keys = EndpointSliceController.serviceKeys(affectedBy: event, services: services)
            if !keys.isEmpty { Task { for key in keys { await queue.add(key) } } }
        }
    }

    func run() async {
        // Endpoints left behind by Services deleted while the server was down.
        for endpoints in (try? await client.list(.endpoints).items) ?? [] {
            // `checkLeftoverEndpoints` spares the old Endpoints-based leader election locks.
            if endpoints.annotations["control-plane.alpha.kubernetes.io/leader"] != nil { continue }
            if services.get(namespace: endpoints.namespace, name: endpoints.name ?? "") == nil {
                await queue.add(Informer.key(of: endpoints))
            }
        }
        await runWorkers(name: name, queue: queue, workers: 2, logger: logger) { key in try await sync(key) }
    }

    private func sync(_ key: String) async throws(APIError) {
        let (namespace, name) = Self.split(key)
        guard let service = services.get(key: key) else {
            // The Service is gone: so are its Endpoints (whoever wrote them).
            try await client.delete(.endpoints, namespace: namespace, name: name)
            return
        }
        guard ServiceEndpointRules.isManaged(service), let selector = ServiceEndpointRules.selector(of: service) else { return }
        let selected = pods.list(namespace: namespace).filter { ServiceEndpointRules.selects(selector, $0.labels) }
        var (subsets, total) = Self.subsets(service: service, pods: selected)
        let current = try await client.get(.endpoints, namespace: namespace, name: name)
        var labels = service.labels
        labels[ServiceEndpointRules.headlessLabel] = ServiceEndpointRules.hasClusterIP(service) ? nil : ""
        var annotations = current?.annotations ?? [:]
        if total > Self.maxCapacity {
            subsets = Self.truncate(subsets, to: Self.maxCapacity)
            annotations[Self.overCapacityAnnotation] = "truncated"
        } else {
            annotations[Self.overCapacityAnnotation] = nil
        }
        let subsetsJSON: JSONValue? = subsets.isEmpty ? nil : .array(subsets)
        if current == nil, service.deletionTimestamp != nil { return }
        do {
            try await client.createOrUpdate(.endpoints, current: current,
                                            empty: .named(name, namespace: namespace, apiVersion: "v1", kind: "Endpoints")) { endpoints in
                endpoints.fields["subsets"] = subsetsJSON
                endpoints.labels = labels
                endpoints.metadata["annotations"] = annotations.isEmpty ? nil : .object(annotations.mapValues { .string($0) })
            }
        } catch {
            if error.code == 403, error.message.contains("being terminated") { return }
            if error.code != 409 {
                await client.recordEvent(about: service, type: "Warning", reason: "FailedToUpdateEndpoint",
                                         message: "Failed to update endpoint \(key): \(error.message)", component: Self.component)
            }
            throw error
        }
    }

    static func split(_ key: String) -> (String?, String) {
        guard let slash = key.firstIndex(of: "/") else { return (nil, key) }
        return (String(key[..<slash]), String(key[key.index(after: slash)...]))
    }

    /// The subsets of a Service: one per pod and port, repacked as `RepackSubsets` does into
    /// one subset per distinct set of ports. Also returns how many addresses there are.
    static func subsets(service: KubeObject, pods: [KubeObject]) -> ([JSONValue], Int) {
        let tolerateUnready = ServiceEndpointRules.publishesNotReady(service)
        let ports = service.value(at: ["spec", "ports"])?.arrayValue ?? []
        let headless = !ServiceEndpointRules.hasClusterIP(service)
        let ipv6 = (service.value(at: ["spec", "ipFamilies"])?.arrayValue?.first?.stringValue ?? "IPv4") == "IPv6"
        // address identity -> (address, ready); port key -> (port, addresses)
        var entries: [(address: JSONValue, ready: Bool, ports: [JSONValue])] = []
        for pod in pods {
            guard ServiceEndpointRules.shouldPodBeInEndpoints(pod, includeTerminating: tolerateUnready),
                  let ip = ServiceEndpointRules.podIPs(pod).first(where: { $0.contains(":") == ipv6 }) else { continue }
            var address: [String: JSONValue] = ["ip": .string(ip), "targetRef": ServiceEndpointRules.targetRef(pod)]
            if let node = pod.string(at: ["spec", "nodeName"]), !node.isEmpty { address["nodeName"] = .string(node) }
            if let hostname = ServiceEndpointRules.hostname(of: pod, for: service) { address["hostname"] = .string(hostname) }
            let ready = tolerateUnready || ReplicaSetPods.isReady(pod)
            var podPorts: [JSONValue] = []
            for servicePort in ports {
                guard let number = ServiceEndpointRules.findPort(pod, servicePort: servicePort) else { continue }
                var port: [String: JSONValue] = ["port": .int(number), "protocol": .string(servicePort["protocol"]?.stringValue ?? "TCP")]
                if let name = servicePort["name"]?.stringValue, !name.isEmpty { port["name"] = .string(name) }
                if let appProtocol = servicePort["appProtocol"] { port["appProtocol"] = appProtocol }
                podPorts.append(.object(port))
            }
            // A pod with none of the ports is listed only for a headless Service without ports.
            if podPorts.isEmpty, !(ports.isEmpty && headless) { continue }
            entries.append((.object(address), ready, podPorts))
        }
        return (repack(entries), entries.count)
    }

    /// `RepackSubsets`: addresses that offer the same set of ports share a subset; addresses
    /// sorted by IP then uid, ports by name, subsets by their first address.
    static func repack(_ entries: [(address: JSONValue, ready: Bool, ports: [JSONValue])]) -> [JSONValue] {
        var groups: [String: (ports: [JSONValue], ready: [JSONValue], notReady: [JSONValue])] = [:]
        for entry in entries {
            let ports = entry.ports.sorted { portKey($0) < portKey($1) }
            let key = ports.map(portKey).joined(separator: ",")
            var group = groups[key] ?? (ports, [], [])
            if entry.ready { group.ready.append(entry.address) } else { group.notReady.append(entry.address) }
            groups[key] = group
        }
        func byIP(_ a: JSONValue, _ b: JSONValue) -> Bool {
            let ipA = a["ip"]?.stringValue ?? "", ipB = b["ip"]?.stringValue ?? ""
            if ipA != ipB { return ipSortKey(ipA) < ipSortKey(ipB) }
            return (a["targetRef"]?["uid"]?.stringValue ?? "") < (b["targetRef"]?["uid"]?.stringValue ?? "")
        }
        var subsets: [(first: String, subset: JSONValue)] = []
        for group in groups.values {
            var subset: [String: JSONValue] = [:]
            let ready = group.ready.sorted(by: byIP), notReady = group.notReady.sorted(by: byIP)
            if !ready.isEmpty { subset["addresses"] = .array(ready) }
            if !notReady.isEmpty { subset["notReadyAddresses"] = .array(notReady) }
            if !group.ports.isEmpty { subset["ports"] = .array(group.ports) }
            let first = (ready.first ?? notReady.first)?["ip"]?.stringValue ?? ""
            subsets.append((ipSortKey(first) + "|" + group.ports.map(portKey).joined(separator: ","), .object(subset)))
        }
        return subsets.sorted { $0.first < $1.first }.map(\.subset)
    }

    private static func portKey(_ port: JSONValue) -> String {
        "\(port["name"]?.stringValue ?? "")/\(port["protocol"]?.stringValue ?? "")/\(port["port"]?.intValue ?? 0)"
    }

    /// IPv4 addresses in numeric order (`10.42.0.9` before `10.42.0.10`).
    private static func ipSortKey(_ ip: String) -> String {
        guard let value = IPv4Text.parseIPv4(ip) else { return ip }
        let hex = String(value, radix: 16)
        return String(repeating: "0", count: 8 - hex.count) + hex
    }

    /// Keeps the first `limit` addresses, ready ones first (upstream's `truncateEndpoints`
    /// keeps a proportional share of each subset; a plain cut is enough to stay in bounds).
    static func truncate(_ subsets: [JSONValue], to limit: Int) -> [JSONValue] {
        var left = limit
        var result: [JSONValue] = []
        for subset in subsets {
            guard left > 0 else { break }
            var members = subset.objectValue ?? [:]
            for key in ["addresses", "notReadyAddresses"] {
                let addresses = Array((members[key]?.arrayValue ?? []).prefix(left))
                left -= addresses.count
                members[key] = addresses.isEmpty ? nil : .array(addresses)
            }
            if members["addresses"] != nil || members["notReadyAddresses"] != nil { result.append(.object(members)) }
        }
        return result
    }
}
