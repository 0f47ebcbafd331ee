import APIMachinery
import Foundation
import KubeAPI

/// `kubectl get pods` columns: NAME READY STATUS RESTARTS AGE, and for `-o wide`
/// IP NODE NOMINATED NODE READINESS GATES; STATUS is computed from the container states
/// exactly as Kubernetes' `printPod` does (init progress, waiting and terminated reasons,
/// Completed, Terminating).
enum PodTablePrinter {
    static let printer = TablePrinter(
        columns: [
            .name,
            TableColumn(name: "Ready", type: "string", description: "The aggregate readiness state of this pod for accepting traffic."),
            TableColumn(name: "Status", type: "string", description: "The aggregate status of the containers in this pod."),
            TableColumn(name: "Restarts", type: "string", description: "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted."),
            .age,
            TableColumn(name: "IP", type: "string", description: "podIP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated.", priority: 1),
            TableColumn(name: "Node", type: "string", description: "NodeName indicates in which node this pod is scheduled. If empty, this pod is a candidate for scheduling by the scheduler defined in schedulerName.", priority: 1),
            TableColumn(name: "Nominated Node", type: "string", description: "nominatedNodeName is set only when this pod preempts other pods on the node, but it cannot be scheduled right away as preemption victims receive their graceful termination periods.", priority: 1),
            TableColumn(name: "Readiness Gates", type: "string", description: "If specified, all readiness gates will be evaluated for pod readiness.", priority: 1),
        ],
        cells: cells,
        conditions: conditions
    )

    static func conditions(_ pod: KubeObject) -> [JSONValue] {
        switch pod.string(at: ["status", "phase"]) {
        case "Succeeded":
            return [.object(["type": .string("Completed"), "status": .string("True"), "reason": .string("Succeeded"),
                             "message": .string("The pod has completed successfully.")])]
        case "Failed":
            return [.object(["type": .string("Completed"), "status": .string("True"), "reason": .string("Failed"),
                             "message": .string("The pod failed.")])]
        default:
            return []
        }
    }

    static func cells(_ pod: KubeObject, _ context: TableContext) -> [JSONValue] {
        let spec = pod.fields["spec"]
        let status = pod.fields["status"]
        let phase = status?["phase"]?.stringValue ?? ""
        var reason = phase
        if let statusReason = status?["reason"]?.stringValue, !statusReason.isEmpty {
            reason = statusReason
        }
        let conditions = status?["conditions"]?.arrayValue ?? []
        for condition in conditions where condition["type"]?.stringValue == "PodScheduled"
            && condition["reason"]?.stringValue == "SchedulingGated" {
            reason = "SchedulingGated"
        }

        let initSpecs = spec?["initContainers"]?.arrayValue ?? []
        var restartableInit: Set<String> = []
        for container in initSpecs where container["restartPolicy"]?.stringValue == "Always" {
            restartableInit.insert(container["name"]?.stringValue ?? "")
        }
        var totalContainers = (spec?["containers"]?.arrayValue ?? []).count + restartableInit.count
        var readyContainers = 0
        var restarts: Int64 = 0
        var restartableInitRestarts: Int64 = 0
        var lastRestart: Date?
        var lastRestartableInitRestart: Date?

        func finishedAt(_ status: JSONValue) -> Date? {
            status["lastState"]?["terminated"]?["finishedAt"]?.stringValue.flatMap { Time(rfc3339: $0)?.date }
        }

        var initializing = false
        let initStatuses = status?["initContainerStatuses"]?.arrayValue ?? []
        for (index, container) in initStatuses.enumerated() {
            let count = container["restartCount"]?.intValue ?? 0
            restarts += count
            if let finished = finishedAt(container), finished > (lastRestart ?? .distantPast) { lastRestart = finished }
            let name = container["name"]?.stringValue ?? ""
            let isRestartable = restartableInit.contains(name)
            if isRestartable {
                restartableInitRestarts += count
                if let finished = finishedAt(container), finished > (lastRestartableInitRestart ?? .distantPast) {
                    lastRestartableInitRestart = finished
                }
            }
            let terminated = container["state"]?["terminated"]
            let waiting = container["state"]?["waiting"]
            if let terminated, terminated["exitCode"]?.intValue ?? 0 == 0 {
                continue
            }
            if isRestartable, container["started"]?.boolValue == true {
                if container["ready"]?.boolValue == true { readyContainers += 1 }
                continue
            }
            if let terminated {
                if let terminatedReason = terminated["reason"]?.stringValue, !terminatedReason.isEmpty {
                    reason = "Init:" + terminatedReason
                } else if let signal = terminated["signal"]?.intValue, signal != 0 {
                    reason = "Init:Signal:\(signal)"
                } else {
                    reason = "Init:ExitCode:\(terminated["exitCode"]?.intValue ?? 0)"
                }
            } else if let waitingReason = waiting?["reason"]?.stringValue, !waitingReason.isEmpty, waitingReason != "PodInitializing" {
                reason = "Init:" + waitingReason
            } else {
                reason = "Init:\(index)/\(initSpecs.count)"
            }
            initializing = true
            break
        }

        let initialized = conditions.contains { $0["type"]?.stringValue == "Initialized" && $0["status"]?.stringValue == "True" }
        if !initializing || initialized {
            restarts = restartableInitRestarts
            lastRestart = lastRestartableInitRestart
            var hasRunning = false
            for container in (status?["containerStatuses"]?.arrayValue ?? []).reversed() {
                restarts += container["restartCount"]?.intValue ?? 0
                if let finished = finishedAt(container), finished > (lastRestart ?? .distantPast) { lastRestart = finished }
                let state = container["state"]
                if let waitingReason = state?["waiting"]?["reason"]?.stringValue, !waitingReason.isEmpty {
                    reason = waitingReason
                } else if let terminated = state?["terminated"] {
                    if let terminatedReason = terminated["reason"]?.stringValue, !terminatedReason.isEmpty {
                        reason = terminatedReason
                    } else if let signal = terminated["signal"]?.intValue, signal != 0 {
                        reason = "Signal:\(signal)"
                    } else {
                        reason = "ExitCode:\(terminated["exitCode"]?.intValue ?? 0)"
                    }
                } else if container["ready"]?.boolValue == true, state?["running"] != nil {
                    hasRunning = true
                    readyContainers += 1
                }
            }
            if reason == "Completed", hasRunning {
                let ready = conditions.contains { $0["type"]?.stringValue == "Ready" && $0["status"]?.stringValue == "True" }
                reason = ready ? "Running" : "NotReady"
            }
        }

        if pod.deletionTimestamp != nil {
            if status?["reason"]?.stringValue == "NodeLost" {
                reason = "Unknown"
            } else if phase != "Succeeded", phase != "Failed" {
                reason = "Terminating"
            }
        }

        var restartsText = String(restarts)
        if restarts != 0, let lastRestart {
            restartsText = "\(restarts) (\(HumanDuration.format(seconds: context.now.timeIntervalSince(lastRestart))) ago)"
        }
        totalContainers = max(totalContainers, 0)

        let podIP = status?["podIPs"]?.arrayValue?.first?["ip"]?.stringValue ?? status?["podIP"]?.stringValue
        let nodeName = spec?["nodeName"]?.stringValue ?? ""
        let nominated = status?["nominatedNodeName"]?.stringValue ?? ""
        var readinessGates = "<none>"
        let gates = spec?["readinessGates"]?.arrayValue ?? []
        if !gates.isEmpty {
            var trueConditions = 0
            for gate in gates {
                let type = gate["conditionType"]?.stringValue
                if let condition = conditions.first(where: { $0["type"]?.stringValue == type }),
                   condition["status"]?.stringValue == "True" {
                    trueConditions += 1
                }
            }
            readinessGates = "\(trueConditions)/\(gates.count)"
        }
        return [
            .string(pod.name ?? ""),
            .string("\(readyContainers)/\(totalContainers)"),
            .string(reason),
            .string(restartsText),
            .string(context.age(pod.creationTimestamp)),
            .string((podIP ?? "").isEmpty ? "<none>" : podIP ?? ""),
            .string(nodeName.isEmpty ? "<none>" : nodeName),
            .string(nominated.isEmpty ? "<none>" : nominated),
            .string(readinessGates),
        ]
    }
}
