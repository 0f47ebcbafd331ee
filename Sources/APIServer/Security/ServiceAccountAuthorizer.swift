import APIMachinery

/// Authorization of service-account identities, while swiftlet has no RBAC: every service
/// account may read (get, list, watch) every resource except Secrets, and nothing more, as
/// if Kubernetes' aggregated `view` ClusterRole were bound to the group
/// system:serviceaccounts (https://kubernetes.io/docs/reference/access-authn-authz/rbac/#user-facing-roles).
/// An in-cluster client can list and watch pods, services, endpoints, config; writes, Secrets,
/// and TokenRequests are refused with RBAC's message. A pod's token leaking therefore exposes
/// what `kubectl get` shows, not the cluster's credentials. Workloads that need to write
/// (operators, controllers) need RBAC, which is not built yet.
enum ServiceAccountAuthorizer {
    static let readVerbs: Set<String> = ["get", "list", "watch"]

    static func authorize(_ user: UserInfo, _ request: RequestAttributes) throws(APIError) {
        guard readVerbs.contains(request.verb), !(request.group.isEmpty && request.resource == "secrets") else {
            throw NodeAuthorizer.denied(user, request)
        }
    }
}
