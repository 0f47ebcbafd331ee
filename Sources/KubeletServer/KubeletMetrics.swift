import Foundation
import KubeAPI

/// `/metrics` in the Prometheus text format (version 0.0.4): a few of kubelet's own metrics
/// with kubelet's names and help texts, and the process metrics every Go binary exports.
enum KubeletMetrics {
    static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    static func text(nodeName: String, pods: [Pod]) -> String {
        // kubelet_running_pods counts pods with a ready sandbox.
        let running = pods.filter { pod in
            pod.status?.conditions?.contains { $0.type == "PodReadyToStartContainers" && $0.status == "True" } ?? false
        }.count
        // kubelet_running_containers counts the runtime's containers by state: a running start,
        // a start that exited (kept until the next one replaces it).
        var states: [String: Int] = ["created": 0, "exited": 0, "running": 0, "unknown": 0]
        for pod in pods {
            for status in (pod.status?.initContainerStatuses ?? []) + (pod.status?.containerStatuses ?? []) {
                if status.state?.running != nil {
                    states["running", default: 0] += 1
                } else if status.state?.terminated != nil || status.lastState?.terminated != nil {
                    states["exited", default: 0] += 1
                }
            }
        }
        var lines: [String] = []
        func metric(_ name: String, _ help: String, _ type: String, _ samples: [(labels: String, value: String)]) {
            lines.append("# HELP \(name) \(help)")
            lines.append("# TYPE \(name) \(type)")
            for sample in samples { lines.append("\(name)\(sample.labels) \(sample.value)") }
        }
        metric("kubelet_node_name", "[ALPHA] The node's name. The count is always 1.", "gauge",
               [("{node=\"\(escape(nodeName))\"}", "1")])
        metric("kubelet_running_containers", "[ALPHA] Number of containers currently running", "gauge",
               states.keys.sorted().map { ("{container_state=\"\($0)\"}", String(states[$0] ?? 0)) })
        metric("kubelet_running_pods", "[ALPHA] Number of pods that have a running pod sandbox", "gauge", [("", String(running))])
        if let resident = HostReadings.residentMemoryBytes() {
            metric("process_resident_memory_bytes", "Resident memory size in bytes.", "gauge", [("", String(resident))])
        }
        if let start = HostReadings.processStartTime() {
            metric("process_start_time_seconds", "Start time of the process since unix epoch in seconds.", "gauge",
                   [("", String(format: "%.2f", start))])
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Label values escape backslash, double quote and newline.
    static func escape(_ value: String) -> String {
        value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n")
    }
}
