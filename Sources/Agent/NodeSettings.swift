import Foundation
import KubeAPI

/// How the agent registers and reports its Node (kubelet's flags of the same meaning in
/// parentheses). The defaults are kubelet's, except the report frequency (see below).
public struct NodeSettings: Sendable {
    /// The address reported as InternalIP (--node-ip); nil: detected from the default route.
    public var nodeIP: String?
    /// Interfaces never taken for the InternalIP (the node bridge owns a pod address).
    public var excludedInterfaces: Set<String>
    /// capacity.pods (--max-pods, 110).
    public var maxPods: Int
    /// Kept off allocatable for the OS (--system-reserved `cpu=100m,memory=100Mi`).
    public var systemReserved: [String: Quantity]
    /// Kept off allocatable for the agent itself (--kube-reserved).
    public var kubeReserved: [String: Quantity]
    /// Hard eviction thresholds: also subtracted from allocatable, and the pressure conditions.
    public var evictionHard: NodeEvictionThresholds
    /// A pressure condition stays True this long after its signal cleared
    /// (--eviction-pressure-transition-period, 5m), so it does not flap.
    public var pressureTransitionPeriod: Duration
    /// Labels added at registration (--node-labels; k3s --node-label).
    public var labels: [String: String]
    /// Taints the Node is registered with (--register-with-taints; k3s --node-taint).
    public var taints: [Taint]
    /// The agent runs inside `swiftlet server`: the node gets the control-plane role label.
    public var controlPlane: Bool
    /// Whether the node's ingress proxy serves Ingresses: the agent owns the label
    /// `node.swiftlet.io/ingress` (`enabled` or `disabled`), which the server's ingress status
    /// controller reads to list the node's address; nil sets no label.
    public var servesIngress: Bool?
    /// How often status is computed and sent when it changed (--node-status-update-frequency, 10s).
    public var statusUpdateFrequency: Duration
    /// Status is sent at least this often even when unchanged (--node-status-report-frequency;
    /// kubelet 5m, swiftlet 1m as DESIGN.md asks, so a server without leases still sees life).
    public var statusReportFrequency: Duration
    /// The Lease's leaseDurationSeconds (--node-lease-duration-seconds, 40); it is renewed
    /// every quarter of it (kubelet's renewInterval: 10 s).
    public var leaseDurationSeconds: Int32
    /// daemonEndpoints.kubeletEndpoint.Port (--port, 10250).
    public var kubeletPort: Int32
    /// nodeInfo.kubeletVersion and kubeProxyVersion (`v1.32.0+swiftlet.1`).
    public var kubeletVersion: String
    /// The `<version>` of nodeInfo.containerRuntimeVersion `swiftlet://<version>`.
    public var runtimeVersion: String

    public init(nodeIP: String? = nil, excludedInterfaces: Set<String> = [], maxPods: Int = 110,
                systemReserved: [String: Quantity] = [:], kubeReserved: [String: Quantity] = [:],
                evictionHard: NodeEvictionThresholds = .kubeletDefaults,
                pressureTransitionPeriod: Duration = .seconds(300),
                labels: [String: String] = [:], taints: [Taint] = [], controlPlane: Bool = false,
                statusUpdateFrequency: Duration = .seconds(10), statusReportFrequency: Duration = .seconds(60),
                leaseDurationSeconds: Int32 = 40, kubeletPort: Int32 = 10250,
                kubeletVersion: String = "v0.0.0-unknown", runtimeVersion: String = "0.0.0") {
        self.nodeIP = nodeIP
        self.excludedInterfaces = excludedInterfaces
        self.maxPods = maxPods
        self.systemReserved = systemReserved
        self.kubeReserved = kubeReserved
        self.evictionHard = evictionHard
        self.pressureTransitionPeriod = pressureTransitionPeriod
        self.labels = labels
        self.taints = taints
        self.controlPlane = controlPlane
        self.servesIngress = nil
        self.statusUpdateFrequency = statusUpdateFrequency
        self.statusReportFrequency = statusReportFrequency
        self.leaseDurationSeconds = leaseDurationSeconds
        self.kubeletPort = kubeletPort
        self.kubeletVersion = kubeletVersion
        self.runtimeVersion = runtimeVersion
    }
}

/// A node flag that cannot be used; `description` names the flag, the value and the fix.
public struct NodeSettingsError: Error, Equatable, CustomStringConvertible {
    public let description: String

    public init(_ description: String) {
        self.description = description
    }
}

extension NodeSettings {
    /// The resources --system-reserved and --kube-reserved may name (kubelet's check).
    static let reservableResources: Set<String> = ["cpu", "memory", "ephemeral-storage", "pid"]

    /// Parses `cpu=100m,memory=100Mi,ephemeral-storage=1Gi,pid=1000` as kubelet's
    /// --system-reserved/--kube-reserved: known resources only, each a non-negative quantity.
    public static func parseReservation(_ text: String, flag: String) throws(NodeSettingsError) -> [String: Quantity] {
        var result: [String: Quantity] = [:]
        for item in text.split(separator: ",", omittingEmptySubsequences: true) {
            let parts = item.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, !parts[0].isEmpty else {
                throw NodeSettingsError("\(flag) \(text): expected RESOURCE=QUANTITY pairs separated by commas, e.g. cpu=100m,memory=100Mi")
            }
            guard reservableResources.contains(parts[0]) else {
                throw NodeSettingsError("\(flag) \(text): cannot reserve \"\(parts[0])\"; only cpu, memory, ephemeral-storage and pid can be reserved")
            }
            let quantity: Quantity
            do {
                quantity = try Quantity(parts[1])
            } catch {
                throw NodeSettingsError("\(flag) \(text): \(parts[0])=\(parts[1]) is not a quantity: \(error)")
            }
            guard !quantity.isNegative else {
                throw NodeSettingsError("\(flag) \(text): \(parts[0])=\(parts[1]) is negative; a reservation must be zero or more")
            }
            result[parts[0]] = quantity
        }
        return result
    }

    /// Parses `key=value` (--node-label), checked as the API server checks labels.
    public static func parseLabel(_ text: String) throws(NodeSettingsError) -> (key: String, value: String) {
        let parts = text.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 2 else {
            throw NodeSettingsError("--node-label \(text): expected KEY=VALUE, e.g. disktype=ssd")
        }
        let problems = Node.labelProblems(key: parts[0], value: parts[1])
        guard problems.isEmpty else {
            throw NodeSettingsError("--node-label \(text): \(problems.joined(separator: "; "))")
        }
        return (parts[0], parts[1])
    }

    /// Parses `key[=value]:Effect` (--node-taint, kubelet's --register-with-taints).
    public static func parseTaint(_ text: String) throws(NodeSettingsError) -> Taint {
        guard let colon = text.lastIndex(of: ":") else {
            throw NodeSettingsError("--node-taint \(text): expected KEY[=VALUE]:EFFECT, e.g. dedicated=gpu:NoSchedule")
        }
        let effect = String(text[text.index(after: colon)...])
        guard Taint.effects.contains(effect) else {
            throw NodeSettingsError("--node-taint \(text): effect \"\(effect)\" must be one of \(Taint.effects.joined(separator: ", "))")
        }
        let keyValue = text[..<colon].split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        let key = keyValue[0]
        let value = keyValue.count > 1 ? keyValue[1] : ""
        let problems = Node.labelProblems(key: key, value: value)
        guard problems.isEmpty else {
            throw NodeSettingsError("--node-taint \(text): \(problems.joined(separator: "; "))")
        }
        return Taint(key: key, value: value.isEmpty ? nil : value, effect: effect)
    }
}
