import Foundation
import KubeAPI
import Runtime

extension PodWorker {
    /// The pod's status as kubelet computes it (pkg/kubelet/kubelet_pods.go
    /// generateAPIPodStatus, getPhase; pkg/kubelet/status/generate.go for conditions).
    func buildStatus() -> PodStatus {
        let initStatuses = initOrder.compactMap { slots[$0].map(containerStatus) }
        let appStatuses = appOrder.compactMap { slots[$0].map(containerStatus) }
        let phase = computePhase()
        var status = PodStatus()
        status.phase = phase
        status.conditions = conditions(phase: phase)
        status.startTime = Time(startTime)
        status.initContainerStatuses = initStatuses.isEmpty ? nil : initStatuses
        status.containerStatuses = appStatuses
        let ephemeralStatuses = ephemeralOrder.compactMap { slots[$0].map(containerStatus) }
        status.ephemeralContainerStatuses = ephemeralStatuses.isEmpty ? nil : ephemeralStatuses
        status.qosClass = qosClass()
        if let podIP = sandbox?.info.podIP {
            status.podIP = podIP
            status.podIPs = [PodIP(ip: podIP)]
        }
        if let sandboxError {
            status.message = sandboxError
            status.reason = "SandboxError"
        }
        return status
    }

    private var initialized: Bool {
        initOrder.allSatisfy { slots[$0].map { !$0.isRunning && $0.lastExit?.exitCode == 0 } ?? true }
    }

    private func computePhase() -> String {
        if podFailed { return "Failed" }
        if podTerminal {
            // kubelet: a terminal pod's phase is Succeeded when every container exited 0, else Failed.
            let apps = appOrder.compactMap { slots[$0] }
            return !apps.isEmpty && apps.allSatisfy({ $0.lastExit?.exitCode == 0 }) ? "Succeeded" : "Failed"
        }
        if !initialized { return "Pending" }
        let apps = appOrder.compactMap { slots[$0] }
        let running = apps.filter(\.isRunning).count
        let stopped = apps.filter { !$0.isRunning && $0.lastExit != nil }
        let neverStarted = apps.filter { !$0.isRunning && $0.lastExit == nil }.count
        if running > 0 { return "Running" }
        if stopped.isEmpty { return "Pending" }
        let succeeded = stopped.filter { $0.lastExit?.exitCode == 0 }.count
        switch pod.spec.restartPolicy ?? "Always" {
        case "Always":
            return "Running" // the stopped ones are being restarted
        case "OnFailure":
            return succeeded == stopped.count && neverStarted == 0 ? "Succeeded" : "Running"
        default:
            if neverStarted > 0 { return "Pending" }
            return succeeded == stopped.count ? "Succeeded" : "Failed"
        }
    }

    private func conditions(phase: String) -> [PodCondition] {
        let apps = appOrder.compactMap { slots[$0] }
        let unready = apps.filter { !($0.ready && $0.isRunning) }.map(\.spec.name)
        let incomplete = initOrder.filter { name in slots[name].map { $0.isRunning || $0.lastExit?.exitCode != 0 } ?? false }
        var list: [(type: String, ok: Bool, reason: String?, message: String?)] = []
        list.append(("PodReadyToStartContainers", sandbox != nil, nil, nil))
        list.append(("Initialized", incomplete.isEmpty, incomplete.isEmpty ? nil : "ContainersNotInitialized",
                     incomplete.isEmpty ? nil : "containers with incomplete status: [\(incomplete.joined(separator: " "))]"))
        let completed = phase == "Succeeded" || phase == "Failed"
        let ready = unready.isEmpty && !completed
        let notReadyReason = completed ? "PodCompleted" : "ContainersNotReady"
        let notReadyMessage = completed ? nil : "containers with unready status: [\(unready.joined(separator: " "))]"
        list.append(("Ready", ready, ready ? nil : notReadyReason, ready ? nil : notReadyMessage))
        list.append(("ContainersReady", ready, ready ? nil : notReadyReason, ready ? nil : notReadyMessage))
        list.append(("PodScheduled", true, nil, nil))
        return list.map { item in
            let value = item.ok ? "True" : "False"
            let key = item.type + "=" + value
            if conditionTimes[key] == nil {
                conditionTimes[key] = Date()
                conditionTimes[item.type + "=" + (item.ok ? "False" : "True")] = nil
            }
            var condition = PodCondition(type: item.type, status: value)
            condition.lastTransitionTime = Time(conditionTimes[key] ?? Date())
            condition.reason = item.reason
            condition.message = item.message
            return condition
        }
    }

    private func containerStatus(_ slot: ContainerSlot) -> ContainerStatus {
        let handle = slot.current ?? slot.previous
        var status = ContainerStatus(name: slot.spec.name, ready: slot.ready && slot.isRunning,
                                     restartCount: Int32(slot.restartCount), image: handle?.image ?? slot.spec.image ?? "",
                                     imageID: handle?.imageID ?? "")
        status.containerID = handle?.containerID
        status.started = slot.isRunning ? slot.started : false
        if let current = slot.current {
            status.state = ContainerState(running: ContainerStateRunning(startedAt: Time(current.startedAt)))
            status.lastState = slot.lastExit.map { ContainerState(terminated: terminated($0, handle: slot.previous)) }
        } else if let reason = slot.waitingReason {
            status.state = ContainerState(waiting: ContainerStateWaiting(reason: reason, message: slot.waitingMessage))
            status.lastState = slot.lastExit.map { ContainerState(terminated: terminated($0, handle: slot.previous)) }
        } else if let exit = slot.lastExit {
            status.state = ContainerState(terminated: terminated(exit, handle: slot.previous))
            status.lastState = slot.exitBeforeLast.map { ContainerState(terminated: terminated($0, handle: nil)) }
        }
        return status
    }

    private func terminated(_ exit: ContainerExit, handle: RunningContainer?) -> ContainerStateTerminated {
        var terminated = ContainerStateTerminated(exitCode: exit.exitCode)
        terminated.signal = exit.signal
        terminated.reason = exit.reason
        terminated.message = exit.message
        terminated.startedAt = Time(exit.startedAt)
        terminated.finishedAt = Time(exit.finishedAt)
        terminated.containerID = handle?.containerID
        return terminated
    }

    /// Kubernetes' QoS class (pkg/apis/core/helper/qos).
    private func qosClass() -> String {
        let containers = pod.spec.containers + (pod.spec.initContainers ?? [])
        var any = false
        var guaranteed = true
        for container in containers {
            let limits = container.resources?.limits ?? [:]
            let requests = container.resources?.requests ?? [:]
            if !limits.isEmpty || !requests.isEmpty { any = true }
            for resource in ["cpu", "memory"] {
                guard let limit = limits[resource] else { guaranteed = false; continue }
                if let request = requests[resource], request != limit { guaranteed = false }
            }
        }
        if !any { return "BestEffort" }
        return guaranteed ? "Guaranteed" : "Burstable"
    }
}
