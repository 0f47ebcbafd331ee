import Foundation

/// What the agent needs to run the pods an API server binds to its node (besides static pods):
/// the API, the node's addresses for `status.hostIP(s)`, the Node's uid for mirror pods' owner
/// reference (nil until the Node exists), and the timings of the list/watch and status loops.
public struct PodSyncConfig: Sendable {
    public var api: any PodAPI
    /// The node's addresses (InternalIP first): `status.hostIP` and `status.hostIPs` of its pods.
    public var nodeIPs: [String]
    /// The Node object's uid, once known; mirror pods wait for it (their owner).
    public var nodeUID: @Sendable () -> String?
    /// Back-off between failed lists/watches (client-go's reflector: 800 ms up to 30 s).
    public var relistBackoffInitial: Duration
    public var relistBackoffMax: Duration
    /// Status changes within this window are sent as one update.
    public var statusCoalesce: Duration
    /// Back-off between failed status updates.
    public var statusRetryInitial: Duration
    public var statusRetryMax: Duration
    /// How often mirror pods are checked besides on changes (retries of failed creations).
    public var mirrorRetryInterval: Duration

    public init(api: any PodAPI, nodeIPs: [String] = [], nodeUID: @escaping @Sendable () -> String? = { nil },
                relistBackoffInitial: Duration = .milliseconds(800), relistBackoffMax: Duration = .seconds(30),
                statusCoalesce: Duration = .zero, statusRetryInitial: Duration = .milliseconds(500),
                statusRetryMax: Duration = .seconds(30), mirrorRetryInterval: Duration = .seconds(2)) {
        self.api = api
        self.nodeIPs = nodeIPs
        self.nodeUID = nodeUID
        self.relistBackoffInitial = relistBackoffInitial
        self.relistBackoffMax = relistBackoffMax
        self.statusCoalesce = statusCoalesce
        self.statusRetryInitial = statusRetryInitial
        self.statusRetryMax = statusRetryMax
        self.mirrorRetryInterval = mirrorRetryInterval
    }
}
