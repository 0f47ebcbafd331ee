import Foundation
import KubeAPI

/// A read-only view of what the agent runs, for the kubelet API on :10250 (`/pods`,
/// `/containerLogs`, `/stats/summary`, `/metrics`).
extension Agent {
    /// The pods this agent runs, each with its latest status: kubelet's `GetPods`. Read from the
    /// status store, the same record `swiftlet pods` shows, so the view is consistent with it
    /// and needs no call into the pod workers.
    public func kubeletPods() -> [Pod] {
        Self.pods(from: statusStore)
    }

    /// Pods of a status store with their statuses merged in (a status without a start time
    /// keeps the one recorded when the pod was first run).
    public static func pods(from store: StatusStore) -> [Pod] {
        store.entries().map { entry in
            var pod = entry.pod
            if var status = entry.status {
                status.startTime = status.startTime ?? pod.status?.startTime
                pod.status = status
            }
            pod.apiVersion = pod.apiVersion ?? "v1"
            pod.kind = pod.kind ?? "Pod"
            return pod
        }
    }

    /// The container log files of this agent's pods.
    public var podLogs: PodLogs { PodLogs(logRoot: settings.logRoot) }
}
