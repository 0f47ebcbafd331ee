import Foundation
import KubeAPI
import Logging

/// Registers the agent's Node and keeps its status and Lease current: kubelet's
/// `registerWithAPIServer`, `syncNodeStatus` and node lease controller
/// (pkg/kubelet/kubelet_node_status.go).
///
/// - Registration creates the Node; when it exists already it is kept and only the labels the
///   agent owns are put back. Retried with back-off (100 ms doubling to 7 s) until it works.
/// - Every `statusUpdateFrequency` (10 s) the status is rebuilt and sent (PUT nodes/<name>/status)
///   when anything but heartbeat times changed, and at least every `statusReportFrequency`.
///   The base is the Node as last written or read; a conflict reads it again (5 attempts,
///   as kubelet's `nodeStatusUpdateRetry`). A Node deleted under the agent is registered again.
/// - The Lease is renewed by `NodeLease` alongside.
/// - `spec.podCIDR`, once the server assigns it, goes to `onPodCIDR` (the agent sets up its
///   bridge there); a failure there is retried at the next sync.
///
/// `run()` is a structured task: cancel it to stop. Nothing is thrown; errors are logged.
public actor NodeStatusReporter {
    public nonisolated let nodeName: String
    public nonisolated let settings: NodeSettings
    /// The heartbeat, renewed alongside the status by `run()`.
    public nonisolated let lease: NodeLease
    let api: any NodeAPI
    let host: any NodeHost
    let networkStatus: NodeStatusStore?
    let clock: any NodeClock
    let logger: Logger
    let onPodCIDR: @Sendable (String) async throws -> Void
    /// The node's images for `status.images` (kubelet's setNodeStatusImages); nil: not reported.
    let images: (@Sendable () async -> [ContainerImage])?
    /// Where the node's Events go (`Starting`, `NodeReady`, `NodeHasSufficientMemory`...).
    let events: (@Sendable (PodEventRecord) -> Void)?
    private var announcedStart = false

    private var builder: NodeStatusBuilder?
    /// Registered (created or found) since start or since the Node was last found deleted.
    public private(set) var isRegistered = false
    /// The Node as the server last returned it: the base of the next status update.
    public private(set) var lastNode: Node?
    /// When status was last sent successfully.
    private var lastReport: Date?
    /// The pod range handed to `onPodCIDR` successfully.
    public private(set) var podCIDR: String?
    /// When each pressure signal was last seen, for the transition period.
    private var pressureSeen: [String: Date] = [:]

    static let statusUpdateRetries = 5
    static let maxRegistrationBackoff = Duration.seconds(7)

    /// - Parameters:
    ///   - networkStatus: where the agent records the pod network's condition; its
    ///     NetworkUnavailable is reported and, while True, keeps the node NotReady.
    ///   - onPodCIDR: called with the Node's `spec.podCIDR` when it appears or changes.
    public init(nodeName: String, settings: NodeSettings, api: any NodeAPI, host: any NodeHost,
                networkStatus: NodeStatusStore? = nil, clock: any NodeClock = SystemNodeClock(),
                logger: Logger = Logger(label: "swiftlet.node-status"),
                images: (@Sendable () async -> [ContainerImage])? = nil,
                events: (@Sendable (PodEventRecord) -> Void)? = nil,
                onPodCIDR: @escaping @Sendable (String) async throws -> Void = { _ in }) {
        self.images = images
        self.events = events
        self.nodeName = nodeName
        self.settings = settings
        self.api = api
        self.host = host
        self.networkStatus = networkStatus
        self.clock = clock
        self.logger = logger
        self.onPodCIDR = onPodCIDR
        lease = NodeLease(nodeName: nodeName, durationSeconds: settings.leaseDurationSeconds, api: api, clock: clock, logger: logger)
    }

    /// Registers, then reports status and renews the Lease until cancelled.
    public func run() async {
        var delay = Duration.milliseconds(100)
        while !(await register()) {
            logger.error("cannot register node, will retry", metadata: ["node": "\(nodeName)", "retryIn": "\(delay)"])
            do { try await clock.sleep(for: delay) } catch { return }
            delay = min(delay * 2, Self.maxRegistrationBackoff)
        }
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.lease.run() }
            group.addTask { await self.statusLoop() }
        }
    }

    private func statusLoop() async {
        while !Task.isCancelled {
            await syncNodeStatus()
            do { try await clock.sleep(for: settings.statusUpdateFrequency) } catch { return }
        }
    }

    // MARK: Registration

    /// One registration attempt; true when the Node exists with the agent's labels.
    @discardableResult
    public func register() async -> Bool {
        do {
            let builder = try statusBuilder()
            let now = clock.now()
            var observation = observe(builder, now: now)
            observation.images = await images?()
            let node = builder.registrationNode(observation, now: Time(now))
            do {
                let created = try await api.createNode(node)
                logger.info("node registered", metadata: ["node": "\(nodeName)"])
                await registered(created)
                recordStatusEvents(builder, from: nil, to: created.status.conditions ?? [])
                lastReport = now
            } catch NodeAPIError.alreadyExists {
                // kubelet keeps an existing Node (its uid, the user's labels and taints) and only
                // puts back the labels it owns; the status is sent by the next sync.
                guard var existing = try await api.getNode(name: nodeName) else { return false } // deleted meanwhile
                if builder.reconcileLabels(of: &existing) {
                    existing = try await api.updateNode(existing)
                }
                logger.info("node already registered, keeping it", metadata: ["node": "\(nodeName)"])
                await registered(existing)
                lastReport = nil
            }
        } catch {
            logger.error("registering node failed", metadata: ["node": "\(nodeName)", "error": "\(error)"])
            return false
        }
        if let node = lastNode { await takePodCIDR(of: node) }
        return true
    }

    private func registered(_ node: Node) async {
        isRegistered = true
        lastNode = node
        await lease.setOwner(uid: node.metadata.uid)
        if !announcedStart {
            // kubelet records this once per start, as its first Event about the node.
            announcedStart = true
            events?(.node(nodeName, type: "Normal", reason: "Starting", message: "Starting kubelet."))
        }
    }

    private func recordStatusEvents(_ builder: NodeStatusBuilder, from old: [NodeCondition]?, to new: [NodeCondition]) {
        guard let events else { return }
        for event in builder.statusEvents(from: old, to: new) {
            events(.node(nodeName, type: "Normal", reason: event.reason, message: event.message))
        }
    }

    // MARK: Status

    /// One status sync (kubelet's `updateNodeStatus`): registers first if needed, then up to
    /// five attempts, the first from the last Node seen, the others from a fresh GET.
    public func syncNodeStatus() async {
        if !isRegistered {
            guard await register() else { return }
        }
        var lastError: Error?
        for attempt in 0..<Self.statusUpdateRetries {
            do {
                try await tryUpdateNodeStatus(attempt: attempt)
                return
            } catch NodeAPIError.notFound(let message) {
                logger.error("node was deleted, registering it again", metadata: ["node": "\(nodeName)", "error": "\(message)"])
                isRegistered = false
                lastNode = nil
                return
            } catch {
                lastError = error
                if case NodeAPIError.conflict = error { continue }
                logger.error("updating node status failed, will retry", metadata: ["node": "\(nodeName)", "error": "\(error)"])
            }
        }
        logger.error("updating node status exceeds retry count", metadata: ["node": "\(nodeName)",
                                                                            "error": "\(lastError.map { "\($0)" } ?? "")"])
    }

    private func tryUpdateNodeStatus(attempt: Int) async throws {
        let builder = try statusBuilder()
        var node: Node
        // Until the server assigns a pod range the Node is read every time, so the agent
        // learns it within one period (kubelet reads its watch cache every time).
        if attempt == 0, podCIDR != nil, let cached = lastNode {
            node = cached
        } else {
            guard let fetched = try await api.getNode(name: nodeName) else {
                throw NodeAPIError.notFound("node \(nodeName) not found")
            }
            node = fetched
        }
        lastNode = node
        let podCIDRChanged = await takePodCIDR(of: node)
        let now = clock.now()
        let original = node.status
        var observation = observe(builder, now: now)
        observation.images = await images?()
        builder.apply(observation, to: &node.status, now: Time(now))
        if let lastReport, now < lastReport.addingTimeInterval(Self.seconds(settings.statusReportFrequency)),
           !podCIDRChanged, !NodeStatusBuilder.hasChanged(from: original, to: node.status) {
            return
        }
        let updated = try await api.updateNodeStatus(node)
        lastNode = updated
        lastReport = now
        recordStatusEvents(builder, from: original.conditions, to: updated.status.conditions ?? [])
        await takePodCIDR(of: updated)
    }

    /// Hands a new `spec.podCIDR` to the agent; true when it was taken now.
    @discardableResult
    private func takePodCIDR(of node: Node) async -> Bool {
        guard let cidr = node.spec.podCIDR, !cidr.isEmpty, cidr != podCIDR else { return false }
        do {
            try await onPodCIDR(cidr)
            logger.info("node pod CIDR assigned", metadata: ["node": "\(nodeName)", "podCIDR": "\(cidr)"])
            podCIDR = cidr
            return true
        } catch {
            logger.error("setting up the node's pod CIDR failed, will retry", metadata: ["podCIDR": "\(cidr)", "error": "\(error)"])
            return false
        }
    }

    /// The machine is read once: it does not change while the agent runs.
    private func statusBuilder() throws -> NodeStatusBuilder {
        if let builder { return builder }
        let made = NodeStatusBuilder(nodeName: nodeName, settings: settings, machine: try host.machineInfo())
        builder = made
        return made
    }

    /// Reads the host and applies the pressure transition period: a pressure condition stays
    /// True until its signal has been clear for the whole period (kubelet's
    /// --eviction-pressure-transition-period), so it does not flap.
    private func observe(_ builder: NodeStatusBuilder, now: Date) -> NodeStatusBuilder.Observation {
        let sample = host.sample()
        let seen = settings.evictionHard.pressure(sample, memoryCapacity: builder.machine.memoryBytes)
        let period = Self.seconds(settings.pressureTransitionPeriod)
        func held(_ kind: String, _ observed: Bool) -> Bool {
            if observed {
                pressureSeen[kind] = now
                return true
            }
            guard let last = pressureSeen[kind] else { return false }
            return now.timeIntervalSince(last) < period
        }
        let pressure = NodeEvictionThresholds.Pressure(memory: held("memory", seen.memory), disk: held("disk", seen.disk),
                                                       pid: held("pid", seen.pid))
        return NodeStatusBuilder.Observation(
            sample: sample, pressure: pressure, internalIP: settings.nodeIP ?? host.detectInternalIP(),
            networkUnavailable: networkStatus?.all().first { $0.type == "NetworkUnavailable" })
    }

    static func seconds(_ duration: Duration) -> TimeInterval {
        let parts = duration.components
        return TimeInterval(parts.seconds) + TimeInterval(parts.attoseconds) / 1e18
    }
}
