import ControllerRuntime
import Scheduler
import APIMachinery
import KubeAPI

/// The writes one sync of a Service's EndpointSlices needs.
struct EndpointSlicePlan: Sendable {
    /// New slices (with `generateName`).
    var creates: [KubeObject] = []
    /// Replacements of existing slices, carrying the resourceVersion they were computed from.
    var updates: [KubeObject] = []
    var deletes: [KubeObject] = []
    /// Pods left out because their node is unknown (`Node <name> Not Found`): worth a retry.
    var skippedPods: [String] = []

    var isEmpty: Bool { creates.isEmpty && updates.isEmpty && deletes.isEmpty }
}

/// k8s.io/endpointslice's `Reconciler`, on objects held as JSON: the pods a Service selects
/// become endpoints (ready, serving and terminating conditions, node, zone, hostname, the pod
/// as target), grouped by the ports they resolve to (a named `targetPort` can be a different
/// number in each pod, so each set of numbers gets slices of its own), at most
/// `maxEndpointsPerSlice` per slice. Existing slices are changed as little as possible: kept
/// endpoints stay where they are, new ones first fill slices that are being rewritten anyway,
/// then the unchanged slice closest to full, then new slices; a slice that would be created
/// while another is deleted is rewritten instead. A Service with no endpoints keeps one
/// empty placeholder slice. Choices upstream makes at random (which endpoint goes first) are
/// made in pod-name order here, so a sync is deterministic.
/// See https://github.com/kubernetes/kubernetes/blob/master/staging/src/k8s.io/endpointslice/reconciler.go
struct EndpointSliceReconciler: Sendable {
    /// `endpointslice.kubernetes.io/managed-by` of the slices this controller owns.
    static let controllerName = "endpointslice-controller.k8s.io"
    static let zoneLabel = "topology.kubernetes.io/zone"

    let maxEndpointsPerSlice: Int
    var controllerName: String = Self.controllerName

    /// - Parameters:
    ///   - existing: the Service's slices managed by this controller, not being deleted.
    ///   - node: the Node of a name, nil when there is none.
    func reconcile(service: KubeObject, pods: [KubeObject], existing: [KubeObject],
                   node: (String) -> KubeObject?) -> EndpointSlicePlan {
        var plan = EndpointSlicePlan()
        let types = Self.addressTypes(of: service)
        var byType: [String: [KubeObject]] = [:]
        for slice in existing {
            let type = slice.fields["addressType"]?.stringValue ?? ""
            if types.contains(type) {
                byType[type, default: []].append(slice)
            } else {
                plan.deletes.append(slice)
            }
        }
        for type in types {
            reconcile(service: service, pods: pods, existing: byType[type] ?? [], addressType: type, node: node, into: &plan)
        }
        return plan
    }

    /// `getAddressTypesForService`: the Service's IP families, else its cluster IP's family,
    /// else (headless, not yet defaulted) both.
    static func addressTypes(of service: KubeObject) -> [String] {
        let families = (service.value(at: ["spec", "ipFamilies"])?.arrayValue ?? []).compactMap(\.stringValue)
        let types = families.compactMap { $0 == "IPv4" ? "IPv4" : $0 == "IPv6" ? "IPv6" : nil }
        if !types.isEmpty { return types }
        if ServiceEndpointRules.hasClusterIP(service) {
            return [(service.string(at: ["spec", "clusterIP"]) ?? "").contains(":") ? "IPv6" : "IPv4"]
        }
        return ["IPv4", "IPv6"]
    }

    // MARK: - One address type

    private func reconcile(service: KubeObject, pods: [KubeObject], existing: [KubeObject], addressType: String,
                           node: (String) -> KubeObject?, into plan: inout EndpointSlicePlan) {
        var creates: [KubeObject] = [], updates: [KubeObject] = [], deletes: [KubeObject] = []
        var existingByPorts: [String: [KubeObject]] = [:]
        for slice in existing {
            if Self.isOwned(slice, by: service) {
                existingByPorts[Self.portsKey(slice.fields["ports"]?.arrayValue ?? []), default: []].append(slice)
            } else {
                deletes.append(slice)
            }
        }
        var desiredPorts: [String: [JSONValue]] = [:]
        var desired: [String: EndpointSet] = [:]
        let publishNotReady = ServiceEndpointRules.publishesNotReady(service)
        for pod in pods.sorted(by: { ($0.name ?? "") < ($1.name ?? "") }) {
            guard ServiceEndpointRules.shouldPodBeInEndpoints(pod, includeTerminating: true) else { continue }
            let ports = Self.endpointPorts(service: service, pod: pod)
            let key = Self.portsKey(ports)
            desiredPorts[key] = ports
            let nodeName = pod.string(at: ["spec", "nodeName"]) ?? ""
            let podNode = node(nodeName)
            if podNode == nil, !publishNotReady {
                plan.skippedPods.append("skipping Pod \(pod.name ?? "") for Service \(service.namespace ?? "")/\(service.name ?? ""): Node \(nodeName) Not Found")
                continue
            }
            let endpoint = Self.endpoint(pod: pod, node: podNode, service: service, addressType: addressType)
            if !(endpoint["addresses"]?.arrayValue ?? []).isEmpty {
                desired[key, default: EndpointSet()].insert(endpoint)
            }
        }
        for key in desired.keys.sorted() {
            guard var set = desired[key] else { continue }
            reconcileByPorts(service: service, existing: existingByPorts[key] ?? [], desired: &set,
                             ports: desiredPorts[key] ?? [], addressType: addressType,
                             creates: &creates, updates: &updates, deletes: &deletes)
        }
        for (key, slices) in existingByPorts where desired[key] == nil {
            deletes += slices
        }
        // A Service without endpoints keeps one empty slice, so readers can tell "none" from
        // "not synced yet".
        if existing.count == deletes.count, creates.isEmpty {
            let placeholder = newSlice(service: service, ports: [], addressType: addressType)
            if deletes.count == 1, Self.isPlaceholder(deletes[0], like: placeholder) {
                deletes = []
            } else {
                creates.append(placeholder)
            }
        }
        // Rewrite a slice about to be deleted rather than create another.
        var index = 0
        while index < deletes.count, let last = creates.last {
            let doomed = deletes[index]
            if doomed.fields["addressType"] == last.fields["addressType"], Self.isOwned(doomed, by: service) {
                var reused = last
                reused.name = doomed.name
                reused.resourceVersion = doomed.resourceVersion
                reused.metadata["generateName"] = doomed.metadata["generateName"]
                creates.removeLast()
                updates.append(reused)
                deletes.remove(at: index)
            } else {
                index += 1
            }
        }
        plan.creates += creates
        plan.updates += updates
        plan.deletes += deletes
    }

    /// `reconcileByPortMapping`: the slices of one set of ports.
    private func reconcileByPorts(service: KubeObject, existing: [KubeObject], desired: inout EndpointSet, ports: [JSONValue],
                                  addressType: String, creates: inout [KubeObject], updates: inout [KubeObject],
                                  deletes: inout [KubeObject]) {
        var slices: [String: KubeObject] = [:]
        var unchanged: [String] = [], toUpdate: [String] = [], toDelete: [String] = []
        // 1. Keep wanted endpoints where they are, refreshed; drop the others.
        for slice in existing {
            let name = slice.name ?? ""
            slices[name] = slice
            let current = slice.fields["endpoints"]?.arrayValue ?? []
            var kept: [JSONValue] = []
            var changed = false
            for endpoint in current {
                guard let wanted = desired.remove(EndpointSet.key(endpoint)) else { continue }
                kept.append(wanted)
                if !Self.sameEndpoint(wanted, endpoint) { changed = true }
            }
            let (labels, labelsChanged) = sliceLabels(existing: slice, service: service)
            if changed || kept.count != current.count {
                if kept.isEmpty {
                    toDelete.append(name)
                } else {
                    var updated = slice
                    updated.fields["endpoints"] = .array(kept)
                    updated.labels = labels
                    slices[name] = updated
                    toUpdate.append(name)
                }
            } else if labelsChanged {
                var updated = slice
                updated.labels = labels
                slices[name] = updated
                toUpdate.append(name)
            } else {
                unchanged.append(name)
            }
        }
        // 2. New endpoints fill the slices being rewritten anyway, fullest first.
        if !desired.isEmpty, !toUpdate.isEmpty {
            let order = toUpdate.sorted { (Self.count(slices[$0]), $1) > (Self.count(slices[$1]), $0) }
            for name in order {
                guard var slice = slices[name] else { continue }
                fill(&slice, from: &desired)
                slices[name] = slice
            }
        }
        // 3. Then the unchanged slice that ends up closest to full, then new slices.
        while !desired.isEmpty {
            var slice: KubeObject
            if desired.count < maxEndpointsPerSlice, let name = closestToFull(unchanged.compactMap { slices[$0] }, adding: desired.count) {
                slice = slices[name] ?? newSlice(service: service, ports: ports, addressType: addressType)
            } else {
                slice = newSlice(service: service, ports: ports, addressType: addressType)
            }
            fill(&slice, from: &desired)
            if let name = slice.name {
                slices[name] = slice
                unchanged.removeAll { $0 == name }
                if !toUpdate.contains(name) { toUpdate.append(name) }
            } else {
                creates.append(slice)
            }
        }
        updates += toUpdate.compactMap { slices[$0] }
        deletes += toDelete.compactMap { slices[$0] }
    }

    private func fill(_ slice: inout KubeObject, from desired: inout EndpointSet) {
        var endpoints = slice.fields["endpoints"]?.arrayValue ?? []
        while endpoints.count < maxEndpointsPerSlice, let next = desired.popFirst() {
            endpoints.append(next)
        }
        slice.fields["endpoints"] = .array(endpoints)
    }

    /// `getSliceToFill`: the slice whose free room is the smallest that still fits `count`.
    private func closestToFull(_ candidates: [KubeObject], adding count: Int) -> String? {
        var best: (room: Int, name: String)?
        for slice in candidates {
            let room = maxEndpointsPerSlice - (count + Self.count(slice))
            if room >= 0, room < (best?.room ?? maxEndpointsPerSlice), let name = slice.name {
                best = (room, name)
                if room == 0 { break }
            }
        }
        return best?.name
    }

    private static func count(_ slice: KubeObject?) -> Int {
        slice?.fields["endpoints"]?.arrayValue?.count ?? 0
    }

    // MARK: - Objects

    /// `newEndpointSlice`: named `<service>-<random>`, labelled, owned by the Service.
    func newSlice(service: KubeObject, ports: [JSONValue], addressType: String) -> KubeObject {
        var slice = KubeObject(fields: [
            "apiVersion": .string("discovery.k8s.io/v1"), "kind": .string("EndpointSlice"),
            "metadata": .object([
                "generateName": .string("\(service.name ?? "")-"), "namespace": .string(service.namespace ?? ""),
                "ownerReferences": .array([ServiceEndpointRules.ownerReference(service)]),
            ]),
            "addressType": .string(addressType), "endpoints": .array([]), "ports": .array(ports),
        ])
        slice.labels = sliceLabels(existing: slice, service: service).labels
        return slice
    }

    /// `setEndpointSliceLabels`: the Service's labels, the headless label, the service name
    /// and manager; `changed` when the Service's own labels differ from the slice's.
    func sliceLabels(existing slice: KubeObject, service: KubeObject) -> (labels: [String: String], changed: Bool) {
        let reserved: Set<String> = [EndpointSlice.serviceNameLabel, EndpointSlice.managedByLabel, ServiceEndpointRules.headlessLabel]
        let sliceOwn = slice.labels.filter { !reserved.contains($0.key) }
        var labels = service.labels.filter { !reserved.contains($0.key) }
        let changed = sliceOwn != labels
        if !ServiceEndpointRules.hasClusterIP(service) { labels[ServiceEndpointRules.headlessLabel] = "" }
        labels[EndpointSlice.serviceNameLabel] = service.name ?? ""
        labels[EndpointSlice.managedByLabel] = controllerName
        return (labels, changed)
    }

    /// `getEndpointPorts`: each Service port resolved for this pod (ports it lacks are left
    /// out), in a stable order.
    static func endpointPorts(service: KubeObject, pod: KubeObject) -> [JSONValue] {
        var ports: [JSONValue] = []
        for servicePort in service.value(at: ["spec", "ports"])?.arrayValue ?? [] {
            guard let number = ServiceEndpointRules.findPort(pod, servicePort: servicePort) else { continue }
            var port: [String: JSONValue] = [
                "name": .string(servicePort["name"]?.stringValue ?? ""), "port": .int(number),
                "protocol": .string(servicePort["protocol"]?.stringValue ?? "TCP"),
            ]
            if let appProtocol = servicePort["appProtocol"] { port["appProtocol"] = appProtocol }
            ports.append(.object(port))
        }
        return ports.sorted { portsKey([$0]) < portsKey([$1]) }
    }

    /// A set of ports as text, equal for equal sets in any order.
    static func portsKey(_ ports: [JSONValue]) -> String {
        ports.map { port in
            "\(port["name"]?.stringValue ?? "")/\(port["protocol"]?.stringValue ?? "TCP")/\(port["port"]?.intValue.map(String.init) ?? "*")/\(port["appProtocol"]?.stringValue ?? "")"
        }.sorted().joined(separator: ",")
    }

    /// `podToEndpoint`: ready only when serving and not terminating (or the Service publishes
    /// not-ready addresses), serving per the Ready condition, terminating while being deleted.
    static func endpoint(pod: KubeObject, node: KubeObject?, service: KubeObject, addressType: String) -> JSONValue {
        let serving = ReplicaSetPods.isReady(pod)
        let terminating = pod.deletionTimestamp != nil
        let ready = ServiceEndpointRules.publishesNotReady(service) || (serving && !terminating)
        let addresses = ServiceEndpointRules.podIPs(pod).filter { $0.contains(":") == (addressType == "IPv6") }
        var endpoint: [String: JSONValue] = [
            "addresses": .array(addresses.map { .string($0) }),
            "conditions": .object(["ready": .bool(ready), "serving": .bool(serving), "terminating": .bool(terminating)]),
            "targetRef": ServiceEndpointRules.targetRef(pod),
        ]
        if let nodeName = pod.string(at: ["spec", "nodeName"]), !nodeName.isEmpty { endpoint["nodeName"] = .string(nodeName) }
        if let zone = node?.labels[zoneLabel], !zone.isEmpty { endpoint["zone"] = .string(zone) }
        if let hostname = ServiceEndpointRules.hostname(of: pod, for: service) { endpoint["hostname"] = .string(hostname) }
        return .object(endpoint)
    }

    /// `EndpointsEqualBeyondHash`: conditions, node, zone, hostname and target (but not its
    /// resourceVersion) agree.
    static func sameEndpoint(_ a: JSONValue, _ b: JSONValue) -> Bool {
        func target(_ endpoint: JSONValue) -> JSONValue? {
            guard var members = endpoint["targetRef"]?.objectValue else { return nil }
            members["resourceVersion"] = nil
            return .object(members)
        }
        return a["conditions"] == b["conditions"] && a["nodeName"] == b["nodeName"] && a["zone"] == b["zone"]
            && a["hostname"] == b["hostname"] && target(a) == target(b)
    }

    static func isOwned(_ slice: KubeObject, by service: KubeObject) -> Bool {
        (slice.metadata["ownerReferences"]?.arrayValue ?? []).contains {
            $0["uid"]?.stringValue == service.uid && $0["kind"]?.stringValue == "Service" && $0["apiVersion"]?.stringValue == "v1"
        }
    }

    /// `placeholderSliceCompare`: same namespace, labels and owners, and empty.
    static func isPlaceholder(_ slice: KubeObject, like placeholder: KubeObject) -> Bool {
        slice.namespace == placeholder.namespace && slice.labels == placeholder.labels
            && slice.metadata["ownerReferences"] == placeholder.metadata["ownerReferences"]
            && slice.fields["addressType"] == placeholder.fields["addressType"]
            && (slice.fields["endpoints"]?.arrayValue ?? []).isEmpty && (slice.fields["ports"]?.arrayValue ?? []).isEmpty
    }
}

/// Desired endpoints keyed by identity (addresses, hostname, target pod), in insertion order
/// (`endpointsliceutil.EndpointSet`).
struct EndpointSet: Sendable {
    private var order: [String] = []
    private var next = 0
    private var members: [String: JSONValue] = [:]

    var count: Int { members.count }
    var isEmpty: Bool { members.isEmpty }

    static func key(_ endpoint: JSONValue) -> String {
        let addresses = (endpoint["addresses"]?.arrayValue ?? []).compactMap(\.stringValue).sorted().joined(separator: ",")
        let target = endpoint["targetRef"]
        return "\(addresses)|\(endpoint["hostname"]?.stringValue ?? "")|\(target?["namespace"]?.stringValue ?? "")/\(target?["name"]?.stringValue ?? "")"
    }

    mutating func insert(_ endpoint: JSONValue) {
        let key = Self.key(endpoint)
        if members.updateValue(endpoint, forKey: key) == nil { order.append(key) }
    }

    /// Removes by key; `order` keeps the key until `popFirst` skips it.
    mutating func remove(_ key: String) -> JSONValue? {
        members.removeValue(forKey: key)
    }

    mutating func popFirst() -> JSONValue? {
        while next < order.count {
            let key = order[next]
            next += 1
            if let endpoint = members.removeValue(forKey: key) { return endpoint }
        }
        return nil
    }
}
