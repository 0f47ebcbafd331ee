import APIMachinery
import Foundation
import KubeAPI
import Logging
import Storage

/// The Kubernetes API over a `Storage`, independent of HTTP: one `ResourceStore` per
/// resource plus the rules that span resources (namespaces must exist and terminate before
/// they go, every namespace has a `default` ServiceAccount, new pods pass the LimitRanger,
/// ServiceAccount and Priority admission plugins, new Ingresses the DefaultIngressClass one, new
/// namespaced objects ResourceQuota's, the `scale` subresource, the system PriorityClasses).
public struct APIService: Sendable {
    public let registry: ResourceRegistry
    let storage: any Storage
    let stores: [String: ResourceStore]
    let services: ServiceAllocator

    /// Namespaces every cluster has.
    public static let systemNamespaces = ["default", "kube-system", "kube-public", "kube-node-lease"]

    /// - Parameters:
    ///   - serviceCIDR: where Service cluster IPs come from (kube-apiserver's
    ///     --service-cluster-ip-range, k3s' --service-cidr).
    ///   - serviceNodePortRange: where node ports come from (--service-node-port-range).
    ///   - defaultTolerationSeconds: how long new pods tolerate not-ready and unreachable nodes
    ///     unless they say (the DefaultTolerationSeconds admission plugin, 300).
    ///   - logger: where the service allocator warns of stored allocations it had to rebuild.
    public init(storage: any Storage, registry: ResourceRegistry = ResourceRegistry(), serviceCIDR: String = "10.43.0.0/16",
                serviceNodePortRange: ClosedRange<Int64> = 30000...32767, defaultTolerationSeconds: Int64 = 300,
                logger: Logger = Logger(label: "swiftlet.service-allocator")) throws {
        self.storage = storage
        self.registry = registry
        var stores: [String: ResourceStore] = [:]
        for resource in registry.resources {
            stores[Self.storeKey(resource.group, resource.name)] = ResourceStore(
                resource: resource, storage: storage,
                strategy: Self.strategy(for: resource, defaultTolerationSeconds: defaultTolerationSeconds),
                conversion: Self.conversion(for: resource))
        }
        // ResourceQuota's admission of updates (Services only, see ResourceQuotaAdmission).
        if let quotas = stores[Self.storeKey("", "resourcequotas")] {
            for (key, store) in stores where ResourceQuotaAdmission.chargesUpdates(store.resource) {
                let admission = ResourceQuotaAdmission(quotas: quotas)
                let resource = store.resource
                stores[key]?.updateAdmission = { (object: KubeObject, old: KubeObject, context: StrategyContext) async throws(APIError) -> Void in
                    try await admission.admit(object, old: old, resource: resource, namespace: object.namespace ?? "", context: context)
                }
            }
        }
        // The Priority plugin's check of PriorityClass updates (only one global default).
        if let classes = stores[Self.storeKey("scheduling.k8s.io", "priorityclasses")] {
            stores[Self.storeKey("scheduling.k8s.io", "priorityclasses")]?.updateAdmission = {
                (object: KubeObject, _: KubeObject, _: StrategyContext) async throws(APIError) -> Void in
                try await PriorityAdmission.validateClass(object, isUpdate: true, classes: classes)
            }
        }
        // PersistentVolumeClaimResize: a bound claim grows only where its class allows expansion.
        if let classes = stores[Self.storeKey("storage.k8s.io", "storageclasses")] {
            stores[Self.storeKey("", "persistentvolumeclaims")]?.updateAdmission = {
                (object: KubeObject, old: KubeObject, _: StrategyContext) async throws(APIError) -> Void in
                try await ClaimResizeAdmission.admit(object, old: old, classes: classes)
            }
        }
        self.stores = stores
        let servicesPrefix = registry.resource(group: "", version: "v1", name: "services")?.keyPrefix ?? "/registry/services/"
        self.services = try ServiceAllocator(storage: storage, serviceCIDR: serviceCIDR, nodePorts: serviceNodePortRange,
                                             servicesPrefix: servicesPrefix, logger: logger)
    }

    /// kube-apiserver's repair loops for Service cluster IPs and node ports, once: rebuilds
    /// what is allocated from the stored Services and returns what looked wrong (values used
    /// twice or out of range, values missing from the allocator). Leaked values are freed on
    /// their third repair in a row. Run it periodically (upstream: every 3 minutes).
    public func repairServiceAllocations() async throws -> [String] {
        try await services.repair()
    }

    private static func storeKey(_ group: String, _ name: String) -> String { "\(group)/\(name)" }

    static func strategy(for resource: APIResource, defaultTolerationSeconds: Int64 = 300) -> any ResourceStrategy {
        switch (resource.group, resource.name) {
        case ("", "pods"): return PodStrategy(defaultTolerationSeconds: defaultTolerationSeconds)
        case ("", "namespaces"): return NamespaceStrategy()
        case ("", "nodes"): return NodeStrategy()
        case ("", "secrets"): return SecretStrategy()
        case ("", "configmaps"): return ConfigMapStrategy()
        case ("", "services"): return ServiceStrategy()
        case ("", "endpoints"): return EndpointsStrategy()
        case ("", "events"): return EventStrategy(eventsV1: false)
        case ("events.k8s.io", "events"): return EventStrategy(eventsV1: true)
        case ("discovery.k8s.io", "endpointslices"): return EndpointSliceStrategy()
        case ("apps", "deployments"): return WorkloadStrategy(kind: "Deployment")
        case ("apps", "replicasets"): return WorkloadStrategy(kind: "ReplicaSet")
        case ("apps", "daemonsets"): return DaemonSetStrategy()
        case ("apps", "statefulsets"): return StatefulSetStrategy()
        case ("apps", "controllerrevisions"): return ControllerRevisionStrategy()
        case ("batch", "jobs"): return JobStrategy()
        case ("batch", "cronjobs"): return CronJobStrategy()
        case ("networking.k8s.io", "ingresses"): return IngressStrategy()
        case ("networking.k8s.io", "ingressclasses"): return IngressClassStrategy()
        case ("", "resourcequotas"): return ResourceQuotaStrategy()
        case ("", "limitranges"): return LimitRangeStrategy()
        case ("policy", "poddisruptionbudgets"): return PodDisruptionBudgetStrategy()
        case ("", "replicationcontrollers"): return ReplicationControllerStrategy()
        case ("", "podtemplates"): return PodTemplateStrategy()
        case ("scheduling.k8s.io", "priorityclasses"): return PriorityClassStrategy()
        case ("", "persistentvolumes"): return PersistentVolumeStrategy()
        case ("", "persistentvolumeclaims"): return PersistentVolumeClaimStrategy()
        case ("storage.k8s.io", "storageclasses"): return StorageClassStrategy()
        default: return DefaultStrategy()
        }
    }

    /// How a resource served over another's stored objects converts them (nil: stored as served).
    static func conversion(for resource: APIResource) -> (any StoredFormConversion)? {
        (resource.group, resource.name) == ("events.k8s.io", "events") ? EventsV1Conversion() : nil
    }

    package func store(_ resource: APIResource) throws(APIError) -> ResourceStore {
        guard let store = stores[Self.storeKey(resource.group, resource.name)] else { throw APIError.pathNotFound() }
        return store
    }

    package func store(group: String, name: String) throws(APIError) -> ResourceStore {
        guard let store = stores[Self.storeKey(group, name)] else { throw APIError.pathNotFound() }
        return store
    }

    /// Reads the store's revision: what `/readyz`'s etcd check does (kube-apiserver's checks the
    /// etcd client with a request; a store that cannot answer makes the server unready).
    package func checkStorage() async throws {
        _ = try await storage.currentRevision()
    }

    package func context(dryRun: Bool = false, fieldValidation: FieldValidation = .warn, fieldManager: String = "swiftlet") -> StrategyContext {
        var context = StrategyContext(now: Time.now(), dryRun: dryRun, fieldValidation: fieldValidation, services: services)
        context.fieldManager = fieldManager
        return context
    }

    // MARK: - Bootstrap

    /// Creates what a fresh cluster has: the system namespaces with their `default`
    /// ServiceAccounts, the `kubernetes` Service on the first service address, and the
    /// IngressClass of the agents' ingress proxy. Runs at every server start: what is missing
    /// is created again, what exists is left as it is.
    /// - Parameter localStorageClass: also the StorageClass `local-path` of the built-in
    ///   provisioner (k3s' local-storage; false with --disable-local-storage).
    public func bootstrap(localStorageClass: Bool = true) async throws {
        // What the stored Services hold is allocated before anything new is.
        try await services.ensureRepaired()
        let namespaces = try store(group: "", name: "namespaces")
        for name in Self.systemNamespaces where try await namespaces.find(namespace: nil, name: name) == nil {
            _ = try await create(KubeObject(fields: ["metadata": .object(["name": .string(name)])]),
                                 resource: namespaces.resource, namespace: nil, context: context())
        }
        let services = try store(group: "", name: "services")
        if try await services.find(namespace: "default", name: "kubernetes") == nil {
            let service = KubeObject(fields: [
                "metadata": .object(["name": .string("kubernetes"), "labels": .object([
                    "component": .string("apiserver"), "provider": .string("kubernetes"),
                ])]),
                "spec": .object([
                    "clusterIP": .string(self.services.firstAddress),
                    "ports": .array([.object(["name": .string("https"), "port": .int(443), "protocol": .string("TCP"),
                                              "targetPort": .int(6443)])]),
                ]),
            ])
            _ = try await create(service, resource: services.resource, namespace: "default", context: context())
        }
        try await ensureIngressClass()
        try await ensureSystemPriorityClasses()
        if localStorageClass { try await ensureLocalPathStorageClass() }
    }

    /// The StorageClass `local-path` (provisioner `rancher.io/local-path`, WaitForFirstConsumer,
    /// reclaim Delete), as k3s' manifests/local-storage.yaml makes it: created when missing at
    /// each server start, never changed once it exists, and marked default only when no other
    /// class is (the rule of `ensureIngressClass`).
    private func ensureLocalPathStorageClass() async throws(APIError) {
        let classes = try store(group: "storage.k8s.io", name: "storageclasses")
        if try await classes.find(namespace: nil, name: "local-path") != nil { return }
        let existing = try await classes.list(namespace: nil, options: ListOptions()).items
        // k3s' class asks its provisioner for `local` volumes (`defaultVolumeType`).
        var annotations: [String: JSONValue] = ["defaultVolumeType": .string("local")]
        if !existing.contains(where: \.isDefaultStorageClass) {
            annotations[KubeObject.defaultStorageClassAnnotation] = .string("true")
        }
        let metadata: [String: JSONValue] = ["name": .string("local-path"), "annotations": .object(annotations)]
        let storageClass = KubeObject(fields: [
            "metadata": .object(metadata), "provisioner": .string("rancher.io/local-path"),
            "reclaimPolicy": .string("Delete"), "volumeBindingMode": .string("WaitForFirstConsumer"),
        ])
        do {
            _ = try await create(storageClass, resource: classes.resource, namespace: nil, context: context())
        } catch where error.code == 409 {
            // Another server of the same store made it first.
        }
    }

    /// The IngressClass `swiftlet` (controller `swiftlet.io/ingress`), which every agent's
    /// ingress proxy serves, as k3s installs Traefik's class with its chart: created when it
    /// does not exist, at each server start, never changed once it does (a user's edits stay).
    /// It is made the default class only when no other class is: after a user made another
    /// class the default and deleted this one, a restart brings it back without taking the
    /// default away from theirs.
    private func ensureIngressClass() async throws(APIError) {
        let classes = try store(group: "networking.k8s.io", name: "ingressclasses")
        if try await classes.find(namespace: nil, name: IngressClass.swiftletClassName) != nil { return }
        let existing = try await classes.list(namespace: nil, options: ListOptions()).items
        let annotations: JSONValue = DefaultIngressClassAdmission.defaultClass(among: existing) == nil
            ? .object([IngressClass.defaultClassAnnotation: .string("true")]) : .null
        var metadata: [String: JSONValue] = ["name": .string(IngressClass.swiftletClassName)]
        if annotations != .null { metadata["annotations"] = annotations }
        let ingressClass = KubeObject(fields: [
            "metadata": .object(metadata), "spec": .object(["controller": .string(IngressClass.swiftletController)]),
        ])
        do {
            _ = try await create(ingressClass, resource: classes.resource, namespace: nil, context: context())
        } catch where error.code == 409 {
            // Another server of the same store made it first.
        }
    }

    // MARK: - Verbs spanning resources

    /// Creates an object; a namespaced one needs its namespace to exist and not be terminating.
    package func create(_ object: KubeObject, resource: APIResource, namespace: String?,
                context: StrategyContext) async throws(APIError) -> (KubeObject, [String]) {
        let store = try store(resource)
        if resource.namespaced {
            try await requireNamespace(namespace ?? "")
        }
        var object = object
        var limitRanges: [LimitRange] = []
        if resource.group.isEmpty, resource.name == "pods" {
            // Mutating admission, before the strategy defaults and validates, in
            // kube-apiserver's plugin order: LimitRanger, ServiceAccount, then Priority.
            if let limitRangeStore = stores[Self.storeKey("", "limitranges")] {
                limitRanges = try await LimitRangerAdmission.limitRanges(namespace: namespace ?? "", store: limitRangeStore)
                LimitRangerAdmission.admit(&object, limitRanges: limitRanges)
            }
            try await ServiceAccountAdmission.admit(&object, namespace: namespace ?? "", accounts: try self.store(group: "", name: "serviceaccounts"))
            if let classes = stores[Self.storeKey("scheduling.k8s.io", "priorityclasses")] {
                try await PriorityAdmission.admit(&object, classes: classes)
            }
        }
        if resource.group == "networking.k8s.io", resource.name == "ingresses" {
            try await DefaultIngressClassAdmission.admit(&object, classes: try self.store(group: "networking.k8s.io", name: "ingressclasses"))
        }
        if resource.group.isEmpty, resource.name == "persistentvolumeclaims" {
            // kube-apiserver's order: LimitRanger (claims: validation only), then DefaultStorageClass.
            if let limitRangeStore = stores[Self.storeKey("", "limitranges")] {
                limitRanges = try await LimitRangerAdmission.limitRanges(namespace: namespace ?? "", store: limitRangeStore)
            }
            try await DefaultStorageClassAdmission.admit(&object, classes: try self.store(group: "storage.k8s.io", name: "storageclasses"))
        }
        let admission = validatingAdmission(resource: resource, namespace: namespace ?? "", limitRanges: limitRanges, context: context)
        let (created, warnings) = try await store.create(namespace: namespace, object: object, context: context, admission: admission)
        if resource.group.isEmpty, resource.name == "namespaces", !context.dryRun, let name = created.name {
            try await ensureDefaultServiceAccount(namespace: name)
        }
        return (created, warnings)
    }

    /// The validating admission of a create, run after the strategy: LimitRanger's checks,
    /// then ResourceQuota last. (A registry without quotas, as some tests build, skips that plugin.)
    private func validatingAdmission(resource: APIResource, namespace: String, limitRanges: [LimitRange],
                                     context: StrategyContext) -> ResourceStore.ValidatingAdmission? {
        if resource.group == "scheduling.k8s.io", resource.name == "priorityclasses",
           let classes = stores[Self.storeKey(resource.group, resource.name)] {
            return { (object: KubeObject) async throws(APIError) -> Void in
                try await PriorityAdmission.validateClass(object, isUpdate: false, classes: classes)
            }
        }
        guard resource.namespaced else { return nil }
        let quota = stores[Self.storeKey("", "resourcequotas")].map { ResourceQuotaAdmission(quotas: $0) }
        return { (object: KubeObject) async throws(APIError) -> Void in
            if !limitRanges.isEmpty {
                try LimitRangerAdmission.validate(object, resource: resource.name, limitRanges: limitRanges)
            }
            if let quota {
                try await quota.admit(object, resource: resource, namespace: namespace, context: context)
            }
        }
    }

    private func requireNamespace(_ name: String) async throws(APIError) {
        let namespaces = try store(group: "", name: "namespaces")
        let namespace = try await namespaces.get(namespace: nil, name: name)
        if namespace.deletionTimestamp != nil || namespace.string(at: ["status", "phase"]) == "Terminating" {
            throw APIError.forbidden(GroupResource(group: "", resource: "namespaces"), name: name,
                                     "unable to create new content in namespace \(name) because it is being terminated")
        }
    }

    /// What the serviceaccounts controller does, done at once so a namespace's first pod finds
    /// its account: each namespace gets a `default` account.
    private func ensureDefaultServiceAccount(namespace: String) async throws(APIError) {
        let accounts = try store(group: "", name: "serviceaccounts")
        let account = KubeObject(fields: ["metadata": .object(["name": .string("default")])])
        if try await accounts.find(namespace: namespace, name: "default") == nil {
            do {
                _ = try await accounts.create(namespace: namespace, object: account, context: context())
            } catch where error.code == 409 {
                // The serviceaccounts controller, which saw the namespace appear, made it first.
            }
        }
    }

    /// Deletes an object. A namespace is not deleted at once: it becomes Terminating, and the
    /// namespace controller deletes its contents, then its `kubernetes` finalizer, then it.
    package func delete(resource: APIResource, namespace: String?, name: String, options: DeleteOptions,
                context: StrategyContext) async throws(APIError) -> DeleteOutcome {
        let store = try store(resource)
        if resource.group.isEmpty, resource.name == "namespaces" {
            return try await deleteNamespace(store: store, name: name, options: options, context: context)
        }
        if resource.group == "scheduling.k8s.io", resource.name == "priorityclasses", PriorityClass.isSystemClass(name) {
            // The priorityclass registry's Delete (pkg/registry/scheduling/priorityclass/storage).
            throw APIError.forbidden(resource.groupResource, name: name, "this is a system priority class and cannot be deleted")
        }
        return try await store.delete(namespace: namespace, name: name, options: options, context: context)
    }

    /// The namespace registry's `Delete`: the first DELETE sets `deletionTimestamp` and phase
    /// Terminating; once `spec.finalizers` is empty (the namespace controller has emptied it)
    /// a DELETE removes it. `default`, `kube-system` and `kube-public` may not be deleted.
    /// See https://github.com/kubernetes/kubernetes/blob/master/pkg/registry/core/namespace/storage/storage.go
    private func deleteNamespace(store: ResourceStore, name: String, options: DeleteOptions,
                                 context: StrategyContext) async throws(APIError) -> DeleteOutcome {
        if ["default", "kube-system", "kube-public"].contains(name) {
            throw APIError.forbidden(store.resource.groupResource, name: name, "this namespace may not be deleted")
        }
        while true {
            var namespace = try await store.get(namespace: nil, name: name)
            if let uid = options.preconditionUID, uid != namespace.uid {
                throw APIError.conflict(store.resource.groupResource, name: name,
                                        "Precondition failed: UID in precondition: \(uid), UID in object meta: \(namespace.uid ?? "")")
            }
            let specFinalizers = namespace.value(at: ["spec", "finalizers"])?.arrayValue ?? []
            if namespace.deletionTimestamp != nil, specFinalizers.isEmpty {
                return try await store.delete(namespace: nil, name: name, options: options, context: context)
            }
            if namespace.deletionTimestamp != nil || context.dryRun {
                return .pending(namespace)
            }
            let revision = Int64(namespace.resourceVersion ?? "") ?? 0
            namespace.deletionTimestamp = context.now.description
            namespace.deletionGracePeriodSeconds = 0
            namespace.set(.string("Terminating"), at: ["status", "phase"])
            namespace.resourceVersion = nil
            do {
                let stored = try await storage.update(store.key(namespace: nil, name: name), value: try store.storageBytes(namespace),
                                                      expectedRevision: revision)
                namespace.resourceVersion = String(stored.revision)
                return .pending(namespace)
            } catch StorageError.conflict {
                continue
            } catch {
                throw store.translate(error, name: name)
            }
        }
    }

    // MARK: - pods/binding

    /// Assigns a pod to a node (what the scheduler does): sets `spec.nodeName` once and the
    /// PodScheduled condition, as Kubernetes' `BindingREST` does.
    package func bind(namespace: String?, name: String, binding: KubeObject, context: StrategyContext) async throws(APIError) {
        let pods = try store(group: "", name: "pods")
        let bindingResource = GroupResource(group: "", resource: "pods/binding")
        let node = binding.string(at: ["target", "name"]) ?? ""
        let kind = binding.string(at: ["target", "kind"]) ?? ""
        guard !node.isEmpty, kind.isEmpty || kind == "Node" else {
            throw APIError.invalid(kind: "Binding", group: "", name: name, errors: [
                kind.isEmpty || kind == "Node"
                    ? ValidationError(type: .required, field: "target.name")
                    : ValidationError(type: .notSupported, field: "target.kind", badValue: .string(kind), detail: "supported values: \"Node\""),
            ])
        }
        if let bindingName = binding.name, bindingName != name {
            throw APIError.badRequest("the name of the object (\(bindingName)) does not match the name on the URL (\(name))")
        }
        while true {
            var pod = try await pods.get(namespace: namespace, name: name)
            if let uid = binding.uid, uid != pod.uid {
                throw APIError.conflict(bindingResource, name: name, "Precondition failed: UID in precondition: \(uid), UID in object meta: \(pod.uid ?? "")")
            }
            if let current = pod.string(at: ["spec", "nodeName"]), !current.isEmpty {
                throw APIError.conflict(bindingResource, name: name, "pod \(name) is already assigned to node \(ObjectValidation.quote(current))")
            }
            if pod.deletionTimestamp != nil {
                throw APIError.conflict(bindingResource, name: name, "pod \(name) is being deleted, cannot be assigned to a host")
            }
            pod.set(.string(node), at: ["spec", "nodeName"])
            var conditions = pod.value(at: ["status", "conditions"])?.arrayValue ?? []
            conditions.removeAll { $0["type"]?.stringValue == "PodScheduled" }
            conditions.append(.object(["type": .string("PodScheduled"), "status": .string("True"),
                                       "lastProbeTime": .null, "lastTransitionTime": .string(context.now.description)]))
            pod.set(.array(conditions), at: ["status", "conditions"])
            let revision = Int64(pod.resourceVersion ?? "") ?? 0
            pod.resourceVersion = nil
            if context.dryRun { return }
            do {
                _ = try await storage.update(pods.key(namespace: namespace, name: name), value: try pods.storageBytes(pod), expectedRevision: revision)
                return
            } catch StorageError.conflict {
                continue
            } catch {
                throw pods.translate(error, name: name)
            }
        }
    }

    // MARK: - The scale subresource

    /// The `autoscaling/v1 Scale` view of a Deployment, ReplicaSet, StatefulSet or
    /// ReplicationController (whose selector is a plain map: `labels.SelectorFromSet`).
    package func scale(of object: KubeObject) -> KubeObject {
        var metadata: [String: JSONValue] = [:]
        for key in ["name", "namespace", "uid", "resourceVersion", "creationTimestamp"] {
            metadata[key] = object.metadata[key]
        }
        let selector: String
        if object.kind == "ReplicationController" {
            selector = LabelSelector(set: ReplicationControllerStrategy.selector(of: object)).description
        } else {
            selector = object.value(at: ["spec", "selector"]).flatMap { try? LabelSelector(object: $0) }?.description ?? ""
        }
        return KubeObject(fields: [
            "kind": .string("Scale"), "apiVersion": .string("autoscaling/v1"), "metadata": .object(metadata),
            "spec": .object(["replicas": .int(object.value(at: ["spec", "replicas"])?.intValue ?? 0)]),
            "status": .object(["replicas": .int(object.value(at: ["status", "replicas"])?.intValue ?? 0),
                               "selector": .string(selector)]),
        ])
    }

    /// Writes `newScale` (a PUT of the scale subresource): unconditional, and so tried again on a
    /// racing write, when it names no resourceVersion.
    package func updateScale(resource: APIResource, namespace: String?, name: String, scale newScale: KubeObject,
                             context: StrategyContext) async throws(APIError) -> KubeObject {
        try await updateScale(resource: resource, namespace: namespace, name: name, context: context,
                              retryOnConflict: newScale.resourceVersion == nil) { _ in newScale }
    }

    /// Writes the Scale that `change` makes of the current one: the replicas go to the object's
    /// spec. With `retryOnConflict` (a PUT without a resourceVersion, a patch that names none) a
    /// write that raced another (a controller's status update) is made again from the new
    /// current object, as kube-apiserver's GuaranteedUpdate does.
    package func updateScale(resource: APIResource, namespace: String?, name: String, context: StrategyContext,
                             retryOnConflict: Bool,
                             change: (KubeObject) throws(APIError) -> KubeObject) async throws(APIError) -> KubeObject {
        let store = try store(resource)
        while true {
            var current = try await store.get(namespace: namespace, name: name)
            let newScale = try change(scale(of: current))
            let replicas = try Self.replicas(of: newScale, name: name)
            do throws(APIError) {
                if let version = newScale.resourceVersion, version != current.resourceVersion {
                    throw APIError.staleUpdate(resource.groupResource, name: name)
                }
                current.set(.int(replicas), at: ["spec", "replicas"])
                let (updated, _) = try await store.update(namespace: namespace, name: name, object: current, subresource: "scale", context: context)
                return scale(of: updated)
            } catch where retryOnConflict && error.code == 409 && error.reason == "Conflict" {
                continue
            }
        }
    }

    /// A Scale's `spec.replicas`, checked as Kubernetes' decoder and validation check it.
    static func replicas(of scale: KubeObject, name: String) throws(APIError) -> Int64 {
        // `replicas` is `omitempty` in Scale: absent means zero; anything but a number is
        // refused as Kubernetes' decoder refuses it (not read as zero, which would scale to 0).
        let value = scale.value(at: ["spec", "replicas"])
        if let value, value != .null, value.intValue == nil {
            let found = value.stringValue != nil ? "string" : value.boolValue != nil ? "bool" : value.arrayValue != nil ? "array" : value.objectValue != nil ? "object" : "number"
            throw APIError.badRequest("Scale in version \"v1\" cannot be handled as a Scale: json: cannot unmarshal \(found) into Go struct field ScaleSpec.spec.replicas of type int32")
        }
        let replicas = value?.intValue ?? 0
        // ScaleSpec.replicas is an int32: Kubernetes' decoder refuses a larger number.
        if replicas > Int64(Int32.max) || replicas < Int64(Int32.min) {
            throw APIError.badRequest("Scale in version \"v1\" cannot be handled as a Scale: json: cannot unmarshal number \(replicas) into Go struct field ScaleSpec.spec.replicas of type int32")
        }
        guard replicas >= 0 else {
            throw APIError.invalid(kind: "Scale", group: "autoscaling", name: name, errors: [
                ValidationError(type: .invalid, field: "spec.replicas", badValue: .int(replicas), detail: "must be greater than or equal to 0"),
            ])
        }
        return replicas
    }
}
