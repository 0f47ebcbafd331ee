import APIMachinery
import APIRegistry
import KubeAPI

extension NodeAuthorizer {
    /// The Node authorizer's graph for Secrets, ConfigMaps, PersistentVolumeClaims and
    /// ServiceAccounts (`authorizeReadNamespacedObject`): a node may read one of them, by name,
    /// only when a pod bound to the node names it, or (swiftlet's addition) when it is a Secret
    /// an Ingress of its namespace names for TLS. Upstream keeps the graph in memory from
    /// informers; here the node's pods in that namespace are read from the store when asked,
    /// which is exact and costs one read of the namespace's pods per request, parsing only
    /// the node's own up to the first that names the object.
    static func authorizeRelated(_ user: UserInfo, node: String, _ request: RequestAttributes,
                                 service: APIService) async throws(APIError) {
        if request.subresource != nil {
            throw denied(user, request, reason: "cannot read subresource")
        }
        guard let namespace = request.namespace, !namespace.isEmpty else {
            throw denied(user, request, reason: "can only read namespaced object of this type")
        }
        guard let name = request.name, !name.isEmpty else {
            throw denied(user, request, reason: "No Object name found")
        }
        if try await podBound(to: node, namespace: namespace, service: service,
                              where: { PodReferences(pod: $0).names(request.resource, name) }) {
            return
        }
        if request.resource == "secrets", try await ingressTLSSecrets(namespace: namespace, service: service).contains(name) {
            return
        }
        throw denied(user, request, reason: "no relationship found between node '\(node)' and this object")
    }

    /// The graph's path for PersistentVolumes (`authorizeGet` on pvVertexType): a node may get
    /// one volume, by name and without a subresource, when its `spec.claimRef` names a claim
    /// that a pod bound to the node uses. swiftlet's addition: a volume that does not exist may
    /// be asked for (NotFound), which is how an agent learns that a local-path volume it made a
    /// directory for was deleted (`LocalVolumeJanitor`); upstream's graph has no such vertex and
    /// says Forbidden, and the provisioner's helper pod removes the directory instead.
    static func authorizeVolume(_ user: UserInfo, node: String, _ request: RequestAttributes,
                                service: APIService) async throws(APIError) {
        guard request.verb == "get" else { throw denied(user, request, reason: "can only get individual resources of this type") }
        if request.subresource != nil { throw denied(user, request, reason: "cannot get subresource") }
        guard let name = request.name, !name.isEmpty else { throw denied(user, request, reason: "No Object name found") }
        guard let volume = try await service.store(group: "", name: "persistentvolumes").find(namespace: nil, name: name) else { return }
        if let ref = volume.claimRef, !ref.namespace.isEmpty,
           try await podBound(to: node, namespace: ref.namespace, service: service,
                              where: { PodReferences(pod: $0).names("persistentvolumeclaims", ref.name) }) {
            return
        }
        throw denied(user, request, reason: "no relationship found between node '\(node)' and this object")
    }

    /// swiftlet's widening of the graph: the Secrets that Ingresses of `namespace` name in
    /// `spec.tls[].secretName`. Every node runs the ingress proxy, which terminates TLS with
    /// them, as k3s' Traefik (which reads every Secret of the cluster) does; a node still
    /// cannot list Secrets or read any other one.
    static func ingressTLSSecrets(namespace: String, service: APIService) async throws(APIError) -> Set<String> {
        let ingresses = try await service.store(group: "networking.k8s.io", name: "ingresses").list(namespace: namespace, options: ListOptions()).items
        var names: Set<String> = []
        for ingress in ingresses {
            for tls in ingress.value(at: ["spec", "tls"])?.arrayValue ?? [] {
                if let name = tls["secretName"]?.stringValue, !name.isEmpty { names.insert(name) }
            }
        }
        return names
    }

    /// The Node authorizer's `authorizeCreateToken`: a node may create a token only for one
    /// named service account, through the `token` subresource, used by a pod bound to it.
    static func authorizeCreateToken(_ user: UserInfo, node: String, _ request: RequestAttributes,
                                     service: APIService) async throws(APIError) {
        guard let namespace = request.namespace, !namespace.isEmpty, let name = request.name, !name.isEmpty else {
            throw denied(user, request, reason: "can only create tokens for individual service accounts")
        }
        guard try await podBound(to: node, namespace: namespace, service: service,
                                 where: { PodReferences(pod: $0).names("serviceaccounts", name) }) else {
            throw denied(user, request, reason: "no relationship found between node '\(node)' and this object")
        }
    }

    /// Whether a pod in `namespace` whose `spec.nodeName` is `node` satisfies `predicate`: asked
    /// at every pod start (its ConfigMaps, its token), so it stops at the first such pod and
    /// skips other nodes' pods unparsed (`ResourceStore.first`).
    static func podBound(to node: String, namespace: String, service: APIService,
                         where predicate: (KubeObject) -> Bool) async throws(APIError) -> Bool {
        var options = ListOptions()
        options.fieldSelector = FieldSelector(terms: [FieldSelector.Term(field: "spec.nodeName", value: node, negated: false)])
        return try await service.store(group: "", name: "pods").first(namespace: namespace, options: options, where: predicate) != nil
    }

    /// NodeRestriction's rules for a pod a node creates (`admitPodCreate`): a mirror pod, bound
    /// to the node, owned by its Node object alone (a controller reference with the Node's
    /// current uid, not blocking deletion), and naming no other API object: no ServiceAccount,
    /// Secret, ConfigMap, PersistentVolumeClaim, ClusterTrustBundle or ResourceClaim. A static
    /// pod from the node's disk must not become a way to read what the node may not.
    static func admitMirrorPod(_ pod: KubeObject, node: String, request: RequestAttributes,
                               service: APIService) async throws(APIError) {
        let name = pod.name ?? ""
        func forbidden(_ why: String) -> APIError {
            APIError.forbidden(request.groupResource, name: name, why)
        }
        guard pod.annotations[mirrorPodAnnotation] != nil else {
            throw forbidden("pod does not have \(quote(mirrorPodAnnotation)) annotation, node \(quote(node)) can only create mirror pods")
        }
        guard pod.string(at: ["spec", "nodeName"]) == node else {
            throw forbidden("node \(quote(node)) can only create pods with spec.nodeName set to itself")
        }
        let owners = pod.metadata["ownerReferences"]?.arrayValue ?? []
        if owners.count > 1 {
            throw forbidden("node \(quote(node)) can only create pods with a single owner reference set to itself")
        }
        guard let owner = owners.first, owner["apiVersion"]?.stringValue == "v1", owner["kind"]?.stringValue == "Node",
              owner["name"]?.stringValue == node else {
            throw forbidden("node \(quote(node)) can only create pods with an owner reference set to itself")
        }
        guard owner["controller"]?.boolValue == true else {
            throw forbidden("node \(quote(node)) can only create pods with a controller owner reference set to itself")
        }
        if owner["blockOwnerDeletion"]?.boolValue == true {
            throw forbidden("node \(quote(node)) must not set blockOwnerDeletion on an owner reference")
        }
        let nodeObject = try await service.store(group: "", name: "nodes").get(namespace: nil, name: node)
        let ownerUID = owner["uid"]?.stringValue ?? ""
        guard ownerUID == nodeObject.uid else {
            throw forbidden("node \(node) UID mismatch: expected \(ownerUID) got \(nodeObject.uid ?? "")")
        }
        let references = PodReferences(pod: pod)
        if references.serviceAccount != nil {
            throw forbidden("node \(quote(node)) can not create pods that reference a service account")
        }
        if references.hasSecrets {
            throw forbidden("node \(quote(node)) can not create pods that reference secrets")
        }
        if references.hasConfigMaps {
            throw forbidden("node \(quote(node)) can not create pods that reference configmaps")
        }
        if references.hasClusterTrustBundles {
            throw forbidden("node \(quote(node)) can not create pods that reference clustertrustbundles")
        }
        if references.hasPersistentVolumeClaims {
            throw forbidden("node \(quote(node)) can not create pods that reference persistentvolumeclaims")
        }
        if references.hasResourceClaims {
            throw forbidden("node \(quote(node)) can not create pods that reference resourceclaims")
        }
    }
}
