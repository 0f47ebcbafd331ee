import ControllerRuntime
import Scheduler
import APIMachinery
import Foundation
import KubeAPI

/// A Deployment's `status` and conditions as the controller computes them (`calculateStatus`,
/// `syncRolloutStatus`, `DeploymentComplete`, `DeploymentProgressing`, `DeploymentTimedOut`).
/// https://github.com/kubernetes/kubernetes/blob/master/pkg/controller/deployment/progress.go
enum DeploymentStatus {
    // Condition reasons (deploymentutil).
    static let newReplicaSetCreated = "NewReplicaSetCreated"
    static let foundNewReplicaSet = "FoundNewReplicaSet"
    static let replicaSetUpdated = "ReplicaSetUpdated"
    static let newReplicaSetAvailable = "NewReplicaSetAvailable"
    static let timedOut = "ProgressDeadlineExceeded"
    static let paused = "DeploymentPaused"
    static let resumed = "DeploymentResumed"
    static let failedReplicaSetCreate = "FailedRSCreate"

    // MARK: - Conditions

    static func condition(_ status: JSONValue?, _ type: String) -> JSONValue? {
        status?["conditions"]?.arrayValue?.first { $0["type"]?.stringValue == type }
    }

    static func make(_ type: String, _ status: String, reason: String, message: String, now: Date) -> JSONValue {
        let time = JSONValue.string(Time(now).description)
        return .object(["type": .string(type), "status": .string(status), "reason": .string(reason), "message": .string(message),
                        "lastUpdateTime": time, "lastTransitionTime": time])
    }

    /// `SetDeploymentCondition`: nothing changes when status and reason are the same; a
    /// condition keeping its status keeps its transition time.
    static func set(_ status: inout [String: JSONValue], _ new: JSONValue) {
        var conditions = status["conditions"]?.arrayValue ?? []
        let type = new["type"]?.stringValue
        var new = new
        if let current = conditions.first(where: { $0["type"]?.stringValue == type }) {
            if current["status"] == new["status"], current["reason"] == new["reason"] { return }
            if current["status"] == new["status"], let since = current["lastTransitionTime"] {
                new.set(since, at: ["lastTransitionTime"][...])
            }
        }
        conditions.removeAll { $0["type"]?.stringValue == type }
        conditions.append(new)
        status["conditions"] = .array(conditions)
    }

    static func remove(_ status: inout [String: JSONValue], _ type: String) {
        guard var conditions = status["conditions"]?.arrayValue else { return }
        conditions.removeAll { $0["type"]?.stringValue == type }
        status["conditions"] = conditions.isEmpty ? nil : .array(conditions)
    }

    static func hasProgressDeadline(_ deployment: KubeObject) -> Bool {
        let seconds = deployment.value(at: ["spec", "progressDeadlineSeconds"])?.intValue
        return seconds != nil && seconds != Int64(Int32.max)
    }

    // MARK: - Status

    /// `calculateStatus`: counts over every ReplicaSet, and the Available condition.
    static func calculate(_ deployment: KubeObject, all: [KubeObject], new: KubeObject?, now: Date) -> [String: JSONValue] {
        var status = deployment.value(at: ["status"])?.objectValue ?? [:]
        let available = DeploymentReplicas.status("availableReplicas", all)
        let unavailable = max(DeploymentReplicas.specReplicas(all) - available, 0)
        status["observedGeneration"] = .int(deployment.generation ?? 0)
        status["replicas"] = .int(DeploymentReplicas.status("replicas", all))
        status["updatedReplicas"] = .int(DeploymentReplicas.status("replicas", new.map { [$0] } ?? []))
        status["readyReplicas"] = .int(DeploymentReplicas.status("readyReplicas", all))
        status["availableReplicas"] = .int(available)
        status["unavailableReplicas"] = .int(unavailable)
        if available >= deployment.specReplicas - DeploymentReplicas.maxUnavailable(deployment) {
            set(&status, make("Available", "True", reason: "MinimumReplicasAvailable",
                              message: "Deployment has minimum availability.", now: now))
        } else {
            set(&status, make("Available", "False", reason: "MinimumReplicasUnavailable",
                              message: "Deployment does not have minimum availability.", now: now))
        }
        return status
    }

    /// `DeploymentComplete`: every replica updated and available, and the spec observed.
    static func isComplete(_ deployment: KubeObject, _ status: [String: JSONValue]) -> Bool {
        let replicas = deployment.specReplicas
        return status["updatedReplicas"]?.intValue == replicas && status["replicas"]?.intValue == replicas
            && status["availableReplicas"]?.intValue == replicas
            && (status["observedGeneration"]?.intValue ?? 0) >= (deployment.generation ?? 0)
    }

    /// `DeploymentProgressing`: more updated, fewer old, more ready or more available than
    /// the status the Deployment has now.
    static func isProgressing(_ deployment: KubeObject, _ status: [String: JSONValue]) -> Bool {
        func value(_ status: [String: JSONValue]?, _ key: String) -> Int64 { status?[key]?.intValue ?? 0 }
        let old = deployment.value(at: ["status"])?.objectValue
        let oldOld = value(old, "replicas") - value(old, "updatedReplicas")
        let newOld = value(status, "replicas") - value(status, "updatedReplicas")
        return value(status, "updatedReplicas") > value(old, "updatedReplicas") || newOld < oldOld
            || value(status, "readyReplicas") > value(old, "readyReplicas")
            || value(status, "availableReplicas") > value(old, "availableReplicas")
    }

    /// `DeploymentTimedOut`: no progress recorded for `progressDeadlineSeconds`.
    static func isTimedOut(_ deployment: KubeObject, _ status: [String: JSONValue], now: Date) -> Bool {
        guard hasProgressDeadline(deployment), let condition = condition(.object(status), "Progressing") else { return false }
        let reason = condition["reason"]?.stringValue
        if reason == newReplicaSetAvailable { return false }
        if reason == timedOut { return true }
        guard let since = condition["lastUpdateTime"]?.stringValue.flatMap(Time.init(rfc3339:))?.date else { return false }
        let deadline = Double(deployment.int(at: ["spec", "progressDeadlineSeconds"], default: 600))
        return since.addingTimeInterval(deadline) < now
    }

    /// `syncRolloutStatus` without the write: the Progressing condition moved on by what the
    /// new status shows, and the new ReplicaSet's ReplicaFailure carried over.
    static func rollout(_ deployment: KubeObject, all: [KubeObject], new: KubeObject?, now: Date) -> [String: JSONValue] {
        var status = calculate(deployment, all: all, new: new, now: now)
        if !hasProgressDeadline(deployment) { remove(&status, "Progressing") }
        let current = condition(deployment.value(at: ["status"]), "Progressing")
        let complete = status["replicas"] == status["updatedReplicas"] && current?["reason"]?.stringValue == newReplicaSetAvailable
        if hasProgressDeadline(deployment) && !complete {
            let subject = new.map { "ReplicaSet \"\($0.name ?? "")\"" } ?? "Deployment \"\(deployment.name ?? "")\""
            if isComplete(deployment, status) {
                set(&status, make("Progressing", "True", reason: newReplicaSetAvailable,
                                  message: "\(subject) has successfully progressed.", now: now))
            } else if isProgressing(deployment, status) {
                var condition = make("Progressing", "True", reason: replicaSetUpdated, message: "\(subject) is progressing.", now: now)
                // Progress moves lastUpdateTime, which the deadline counts from, even when the
                // reason stays the same: replace rather than set.
                if let current, current["status"]?.stringValue == "True", let since = current["lastTransitionTime"] {
                    condition.set(since, at: ["lastTransitionTime"][...])
                }
                remove(&status, "Progressing")
                set(&status, condition)
            } else if isTimedOut(deployment, status, now: now) {
                set(&status, make("Progressing", "False", reason: timedOut,
                                  message: "\(subject) has timed out progressing.", now: now))
            }
        }
        if let failure = new.flatMap({ condition($0.value(at: ["status"]), "ReplicaFailure") }) {
            set(&status, make("ReplicaFailure", failure["status"]?.stringValue ?? "True",
                              reason: failure["reason"]?.stringValue ?? "", message: failure["message"]?.stringValue ?? "", now: now))
        } else {
            remove(&status, "ReplicaFailure")
        }
        return status
    }

    /// When to look at a Deployment again to notice a missed deadline (`requeueStuckDeployment`);
    /// nil when no deadline is pending.
    static func deadlineCheck(_ deployment: KubeObject, _ status: [String: JSONValue], now: Date) -> Duration? {
        guard hasProgressDeadline(deployment), let condition = condition(.object(status), "Progressing"),
              !isComplete(deployment, status), condition["reason"]?.stringValue != timedOut,
              let since = condition["lastUpdateTime"]?.stringValue.flatMap(Time.init(rfc3339:))?.date else { return nil }
        let deadline = Double(deployment.int(at: ["spec", "progressDeadlineSeconds"], default: 600))
        let after = since.addingTimeInterval(deadline).timeIntervalSince(now)
        // Whole-second timestamps: look a second after the deadline has certainly passed.
        return .milliseconds(Int64(max(after, 0) * 1000) + 1000)
    }
}
