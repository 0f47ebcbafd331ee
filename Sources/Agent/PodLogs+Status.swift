import Foundation
import KubeAPI

extension PodLogs {
    /// The log file of `container` as kubelet picks it for `/containerLogs`: from the pod's
    /// status, the running start, else the terminated one, and with `previous` the start
    /// recorded in `lastState` (pkg/kubelet/kubelet_pods.go validateContainerLogStatus).
    /// The errors carry kubelet's wording, which kubectl shows as
    /// `Error from server (BadRequest): ...`.
    ///
    /// A start is found from its container ID (`swiftlet://<uid>/<name>/<attempt>` names the
    /// `<attempt>.log` file). A status without IDs (a pod adopted by a restarted agent) falls
    /// back to the newest log file, or the one before it for `previous`.
    public func logFile(pod: Pod, container name: String, previous: Bool) throws(LogError) -> String {
        let podName = pod.metadata.name ?? ""
        let status = pod.status
        let all = status?.allContainerStatuses ?? []
        guard let containerStatus = all.first(where: { $0.name == name }) else {
            throw LogError(description: "container \"\(name)\" in pod \"\(podName)\" is not available")
        }
        let directory = directory(pod: pod, container: name)
        let numbers = attempts(pod: pod, container: name)
        let state = containerStatus.state
        let lastTerminated = containerStatus.lastState?.terminated

        func path(_ containerID: String?, fallback: Int?) throws(LogError) -> String {
            if let containerID, let attempt = Self.attempt(containerID: containerID) {
                return "\(directory)/\(attempt).log"
            }
            guard let fallback else {
                throw LogError(description: "container \"\(name)\" in pod \"\(podName)\" is terminated")
            }
            return "\(directory)/\(fallback).log"
        }
        let newest = numbers.last
        let beforeNewest = numbers.count >= 2 ? numbers[numbers.count - 2] : nil

        if previous {
            guard lastTerminated != nil else {
                throw LogError(description: "previous terminated container \"\(name)\" in pod \"\(podName)\" not found")
            }
            do {
                return try path(lastTerminated?.containerID, fallback: beforeNewest)
            } catch {
                throw LogError(description: "previous terminated container \"\(name)\" in pod \"\(podName)\" not found")
            }
        }
        if state?.running != nil {
            return try path(containerStatus.containerID, fallback: newest)
        }
        if let terminated = state?.terminated {
            // When the next start never happened, the terminated state may carry no ID: kubelet
            // then shows the last terminated start.
            return try path(terminated.containerID ?? lastTerminated?.containerID ?? containerStatus.containerID, fallback: newest)
        }
        if let lastTerminated {
            return try path(lastTerminated.containerID, fallback: newest)
        }
        if let waiting = state?.waiting {
            switch waiting.reason ?? "" {
            case "ErrImagePull":
                throw LogError(description: "container \"\(name)\" in pod \"\(podName)\" is waiting to start: image can't be pulled")
            case "ImagePullBackOff":
                throw LogError(description: "container \"\(name)\" in pod \"\(podName)\" is waiting to start: trying and failing to pull image")
            case let reason:
                throw LogError(description: "container \"\(name)\" in pod \"\(podName)\" is waiting to start: \(reason)")
            }
        }
        throw LogError(description: "container \"\(name)\" in pod \"\(podName)\" is waiting to start - no logs yet")
    }

    /// The start number in `swiftlet://<uid>/<name>/<attempt>`: the container's log file
    /// number and the suffix of its cgroup (`<name>_<attempt>`).
    public static func attempt(containerID: String) -> Int? {
        guard containerID.hasPrefix("swiftlet://"), let last = containerID.split(separator: "/").last else { return nil }
        return Int(last)
    }

    /// Whether `kubectl logs -f` should stop once the file is read: the container ran and will
    /// not run again (its pod completed, or its restart policy does not restart it). kubelet
    /// stops following when the container exits; swiftlet follows a restarted container into
    /// its next log file, which is what a user watching a crash loop wants.
    public static func followEnds(pod: Pod, container name: String) -> Bool {
        let status = pod.status
        if status?.phase == "Succeeded" || status?.phase == "Failed" { return true }
        let all = status?.allContainerStatuses ?? []
        guard let terminated = all.first(where: { $0.name == name })?.state?.terminated else { return false }
        // An ephemeral container never starts again.
        if pod.spec.ephemeralContainers?.contains(where: { $0.name == name }) == true { return true }
        let isInit = pod.spec.initContainers?.contains { $0.name == name } ?? false
        if isInit { return terminated.exitCode == 0 }
        switch pod.spec.restartPolicy ?? "Always" {
        case "Never": return true
        case "OnFailure": return terminated.exitCode == 0
        default: return false
        }
    }
}
