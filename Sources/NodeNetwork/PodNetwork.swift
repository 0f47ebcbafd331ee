/// The pod network as the runtime sees it: plumb a pod's network namespace, release it, and
/// after a restart learn which pods hold addresses. `BridgeNetwork` is the Linux implementation.
/// `hostNetwork` pods never come here: they keep the node's namespace.
public protocol PodNetwork: Sendable {
    /// Plumbs the pod: a veth whose peer is created directly in `netns` (named eth0 there), an
    /// address from the allocator (idempotent: a pod that already has an address keeps it), a
    /// default route via the bridge, hostPort rules. Throws naming the failing step
    /// (`RTM_NEWLINK veth swl3f2a: EEXIST (...)`).
    func setUp(podUID: String, netns: Int32, hostPorts: [HostPortMapping]) throws -> PodNetworkStatus
    /// Releases everything of the pod: host veth, address allocation, hostPort rules. Idempotent.
    func tearDown(podUID: String) throws
    /// After an agent restart: the pods that hold allocations (uid → ip), to re-adopt or collect.
    func allocations() throws -> [String: String]
}
