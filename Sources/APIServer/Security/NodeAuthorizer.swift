import APIMachinery
import APIRegistry
import KubeAPI

/// What a resource request asks, as Kubernetes' authorizers see it.
struct RequestAttributes: Sendable, Equatable {
    /// get, list, watch, create, update, patch, delete, deletecollection.
    var verb: String
    var group: String
    var resource: String
    var subresource: String?
    var namespace: String?
    var name: String?

    var groupResource: GroupResource { GroupResource(group: group, resource: resource) }
}

/// Authorization of API requests. Identities in system:masters may do anything. Node
/// identities get what a kubelet needs, as Kubernetes grants it with the Node authorizer,
/// the `system:node` role and the NodeRestriction admission plugin
/// (https://kubernetes.io/docs/reference/access-authn-authz/node/,
/// plugin/pkg/auth/authorizer/node/node_authorizer.go,
/// plugin/pkg/admission/noderestriction/admission.go):
/// - get, list and watch any resource but the four below (no subresources but `status`:
///   a node reads no `pods/log`, its own pods' or anyone's);
/// - Secrets, ConfigMaps, PersistentVolumeClaims and ServiceAccounts: get (and list or watch
///   of one object by `metadata.name`) only of those a pod bound to the node names
///   (`PodReferences`: volumes, env, envFrom, imagePullSecrets, its ServiceAccount), as the
///   Node authorizer's graph decides; never a list of them;
/// - swiftlet widens the graph for its ingress proxy, which runs on every node: a node may
///   also get (and list or watch by `metadata.name`) a Secret that an Ingress in the same
///   namespace names in `spec.tls[].secretName`, whatever the Ingress's class (upstream a node
///   reads no such Secret; the ingress controller's own service account reads them all);
/// - PersistentVolumes: get (only) of a volume whose `spec.claimRef` names a claim that a pod
///   bound to the node uses (the graph's pv -> pvc -> pod -> node path);
/// - Ingresses and IngressClasses, like every resource outside the graph, are readable;
/// - create, update and patch its own Node and `nodes/<self>/status`;
/// - get, create, update, patch and delete its own Lease in `kube-node-lease`;
/// - update and patch `pods/<p>/status`, delete pods and create `pods/<p>/eviction`, only for
///   pods bound to it;
/// - create mirror pods (annotation `kubernetes.io/config.mirror`) bound to it, owned by its
///   Node, naming no other API object;
/// - create, update and patch Events; create TokenReviews;
/// - create `serviceaccounts/<name>/token` for accounts of pods bound to it (the Node
///   authorizer's `authorizeCreateToken`); NodeRestriction's check that the token is bound to
///   such a pod, by uid, runs with the body (`APIHandler.admitNodeTokenRequest`).
/// Service accounts: `ServiceAccountAuthorizer`.
/// Everything else is refused with Kubernetes' messages.
///
/// The checks that need the object a node creates (its name, its pod's node) run when the
/// body has been read: `admitCreate`, like admission after authorization upstream.
enum NodeAuthorizer {
    static let mirrorPodAnnotation = "kubernetes.io/config.mirror"
    static let nodeLeaseNamespace = "kube-node-lease"

    /// The resources a node reads only through the pods bound to it (the Node authorizer's
    /// graph: secretVertexType, configMapVertexType, pvcVertexType, serviceAccountVertexType).
    static let graphResources: Set<String> = ["secrets", "configmaps", "persistentvolumeclaims", "serviceaccounts"]

    /// Refuses the request with a 403 Status unless `user` may make it; nil `user` (no
    /// authentication configured) may do anything.
    static func authorize(_ user: UserInfo?, _ request: RequestAttributes, service: APIService) async throws(APIError) {
        guard let user, !user.isMaster else { return }
        if user.serviceAccount != nil {
            try ServiceAccountAuthorizer.authorize(user, request)
            return
        }
        guard let node = user.nodeName else { throw denied(user, request) }
        if ["get", "list", "watch"].contains(request.verb) {
            if request.group.isEmpty, graphResources.contains(request.resource) {
                try await authorizeRelated(user, node: node, request, service: service)
                return
            }
            if request.group.isEmpty, request.resource == "persistentvolumes" {
                try await authorizeVolume(user, node: node, request, service: service)
                return
            }
            // Subresources are not readable (RBAC's system:node rules name none for reading);
            // `status` reads the same object.
            if let subresource = request.subresource, subresource != "status" { throw denied(user, request) }
            return
        }
        switch (request.group, request.resource, request.subresource, request.verb) {
        case ("", "nodes", nil, "create"):
            return  // the name is in the body: admitCreate
        case ("", "nodes", nil, "update"), ("", "nodes", nil, "patch"), ("", "nodes", "status", "update"), ("", "nodes", "status", "patch"):
            let target = request.name ?? ""
            guard target == node else {
                throw APIError.forbidden(request.groupResource, name: target, "node \(quote(node)) is not allowed to modify node \(quote(target))")
            }
        case ("coordination.k8s.io", "leases", nil, "create"):
            return  // namespace and name checked with the body: admitCreate
        case ("coordination.k8s.io", "leases", nil, "update"), ("coordination.k8s.io", "leases", nil, "patch"),
             ("coordination.k8s.io", "leases", nil, "delete"):
            try checkLease(node: node, namespace: request.namespace, name: request.name ?? "", request: request)
        case ("", "pods", nil, "create"):
            return  // only mirror pods bound to this node: admitCreate
        case ("", "pods", "status", "update"), ("", "pods", "status", "patch"):
            guard try await boundNode(of: request, service: service) ?? node == node else {
                throw APIError.forbidden(request.groupResource, name: request.name ?? "",
                                         "node \(quote(node)) can only update pod status for pods with spec.nodeName set to itself")
            }
        case ("", "pods", nil, "delete"):
            guard try await boundNode(of: request, service: service) ?? node == node else {
                throw APIError.forbidden(request.groupResource, name: request.name ?? "",
                                         "node \(quote(node)) can only delete pods with spec.nodeName set to itself")
            }
        case ("", "pods", "eviction", "create"):
            // system:node may create pods/eviction; NodeRestriction's admitPodEviction keeps it
            // to pods bound to the node (its message names the node unquoted).
            guard try await boundNode(of: request, service: service) ?? node == node else {
                throw APIError.forbidden(request.groupResource, name: request.name ?? "",
                                         "node \(node) can only evict pods with spec.nodeName set to itself")
            }
        case ("", "serviceaccounts", "token", "create"):
            try await authorizeCreateToken(user, node: node, request, service: service)
        case ("", "events", nil, "create"), ("", "events", nil, "update"), ("", "events", nil, "patch"),
             ("events.k8s.io", "events", nil, "create"), ("events.k8s.io", "events", nil, "update"),
             ("events.k8s.io", "events", nil, "patch"),
             ("authentication.k8s.io", "tokenreviews", nil, "create"):
            return
        default:
            throw denied(user, request)
        }
    }

    /// NodeRestriction's checks of an object a node creates: its own Node, its own Lease,
    /// mirror pods bound to and owned by it (`admitMirrorPod`).
    static func admitCreate(_ user: UserInfo?, _ request: RequestAttributes, object: KubeObject,
                            service: APIService) async throws(APIError) {
        guard let user, !user.isMaster, let node = user.nodeName else { return }
        let name = object.name ?? ""
        switch (request.group, request.resource, request.subresource) {
        case ("", "nodes", nil):
            guard name == node else {
                throw APIError.forbidden(request.groupResource, name: name, "node \(quote(node)) is not allowed to modify node \(quote(name))")
            }
        case ("coordination.k8s.io", "leases", nil):
            try checkLease(node: node, namespace: request.namespace, name: name, request: request)
        case ("", "pods", nil):
            try await admitMirrorPod(object, node: node, request: request, service: service)
        default:
            return
        }
    }

    /// A node's Lease: in kube-node-lease, named after the node.
    private static func checkLease(node: String, namespace: String?, name: String, request: RequestAttributes) throws(APIError) {
        guard namespace == nodeLeaseNamespace else {
            throw APIError.forbidden(request.groupResource, name: name, "can only access leases in the \(quote(nodeLeaseNamespace)) namespace")
        }
        if name != node {
            throw APIError.forbidden(request.groupResource, name: name, "can only access node lease with the same name as the requesting node")
        }
    }

    /// The `spec.nodeName` of the pod addressed; nil when there is no such pod (the request
    /// then fails with NotFound as it would for anyone) or it is not bound.
    static func boundNode(of request: RequestAttributes, service: APIService) async throws(APIError) -> String? {
        guard let name = request.name else { return nil }
        let pods = try service.store(group: "", name: "pods")
        guard let pod = try await pods.find(namespace: request.namespace, name: name) else { return nil }
        return pod.string(at: ["spec", "nodeName"]) ?? ""
    }

    /// RBAC's refusal, worded as the API server words it
    /// (staging/src/k8s.io/apiserver/pkg/endpoints/handlers/responsewriters/errors.go).
    /// `reason` is the Node authorizer's, appended as the API server appends it
    /// (`...: no relationship found between node 'a' and this object`).
    static func denied(_ user: UserInfo, _ request: RequestAttributes, reason: String? = nil) -> APIError {
        let resource = request.subresource.map { "\(request.resource)/\($0)" } ?? request.resource
        let scope = request.namespace.map { "in the namespace \(quote($0))" } ?? "at the cluster scope"
        return APIError.forbidden(request.groupResource, name: request.name ?? "",
                                  "User \(quote(user.name)) cannot \(request.verb) resource \(quote(resource)) in API group \(quote(request.group)) \(scope)"
                                      + (reason.map { ": " + $0 } ?? ""))
    }

    static func quote(_ text: String) -> String {
        ObjectValidation.quote(text)
    }
}
