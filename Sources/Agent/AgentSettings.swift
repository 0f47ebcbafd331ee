import Foundation
import Runtime

/// The agent's knobs (kubelet's flags of the same meaning in parentheses).
public struct AgentSettings: Sendable {
    /// Directory of static pod manifests (--pod-manifest-path / staticPodPath).
    public var podManifests: String
    public var nodeName: String
    /// Root of container logs (/var/log/pods).
    public var logRoot: String
    /// How often the manifest directory is re-read besides inotify (--file-check-frequency, 20s).
    public var fileCheckFrequency: Duration
    public var backoffInitial: Duration
    public var backoffMax: Duration
    /// A container that ran this long restarts without back-off (kubelet: 2 × max).
    public var backoffReset: Duration?
    /// 127.0.0.1:10248 by default (--healthz-bind-address, --healthz-port); port 0 disables.
    public var healthzAddress: String
    public var healthzPort: UInt16
    /// How the Node is registered and reported when the agent joins a server.
    public var node = NodeSettings()
    /// Image pulls and image garbage collection.
    public var images = ImageSettings()
    /// kubelet's `--enforce-node-allocatable=pods`: limit the pods' parent group to node
    /// allocatable at start (`NodeAllocatableCgroup`). Off unless asked (the CLI asks).
    public var enforceNodeAllocatable = false
    /// How often the ConfigMaps and Secrets of running pods' volumes are read again and changed
    /// volumes rewritten (kubelet's --sync-frequency, 1 minute).
    public var configSyncPeriod: Duration = .seconds(60)
    /// How soon a pod waiting for a missing ConfigMap, Secret or key looks again (FailedMount,
    /// CreateContainerConfigError).
    public var configRetry: Duration = .seconds(2)

    public init(podManifests: String, nodeName: String, logRoot: String = "/var/log/pods",
                fileCheckFrequency: Duration = .seconds(20), backoffInitial: Duration = .seconds(10),
                backoffMax: Duration = .seconds(300), backoffReset: Duration? = nil,
                healthzAddress: String = "127.0.0.1", healthzPort: UInt16 = 10248) {
        self.podManifests = podManifests
        self.nodeName = nodeName
        self.logRoot = logRoot
        self.fileCheckFrequency = fileCheckFrequency
        self.backoffInitial = backoffInitial
        self.backoffMax = backoffMax
        self.backoffReset = backoffReset
        self.healthzAddress = healthzAddress
        self.healthzPort = healthzPort
    }

    var backoff: RestartBackoff { RestartBackoff(initial: backoffInitial, max: backoffMax, reset: backoffReset) }
}
