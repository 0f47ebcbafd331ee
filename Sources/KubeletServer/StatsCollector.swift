import Agent
import Cgroups
import Foundation
import KubeAPI
import Synchronization

/// Builds `/stats/summary`: node figures from /proc and statvfs, pod and container usage from
/// their cgroups (`<parent>/pod<uid>` and `<parent>/pod<uid>/<name>_<attempt>`).
///
/// `usageNanoCores` is a rate, so it needs two samples: each answer is computed against the
/// samples of the previous request, and when there are none (the first request, a new
/// container) the collector samples again after `firstSampleWindow` (kubelet's cAdvisor samples
/// in the background; an on-demand server has to wait a moment once instead).
public final class StatsCollector: Sendable {
    let host: any KubeletHost
    let firstSampleWindow: Duration
    private let samples = Mutex<[String: (at: ContinuousClock.Instant, usage: UInt64)]>([:])

    public init(host: any KubeletHost, firstSampleWindow: Duration = .milliseconds(200)) {
        self.host = host
        self.firstSampleWindow = firstSampleWindow
    }

    /// Raw usage of everything reported, read at one moment.
    struct Readings {
        var at = ContinuousClock.now
        var node: UInt64?
        var groups: [String: CgroupStats] = [:]

        var cpu: [String: UInt64] {
            var all = groups.mapValues(\.cpuUsageNanos)
            all["node"] = node
            return all
        }
    }

    public func summary() async -> StatsSummary {
        let pods = host.pods()
        var readings = read(pods)
        var rates = record(readings)
        if readings.cpu.keys.contains(where: { rates[$0] == nil }) {
            try? await Task.sleep(for: firstSampleWindow)
            readings = read(pods)
            rates = record(readings)
        }
        return build(pods: pods, readings: readings, rates: rates)
    }

    private func read(_ pods: [Pod]) -> Readings {
        var readings = Readings()
        readings.node = HostReadings.cpuUsageNanoseconds()
        guard let cgroups = host.cgroups else { return readings }
        for pod in pods {
            guard let uid = pod.metadata.uid else { continue }
            let podGroup = podCgroup(uid)
            guard cgroups.exists(podGroup) else { continue }
            // Containers before their pod, so the pod's counters (which include theirs) are
            // never read lower than a container's.
            for (_, group, _) in runningContainers(pod) {
                if let stats = try? cgroups.stats(group) { readings.groups[group] = stats }
            }
            readings.groups[podGroup] = try? cgroups.stats(podGroup)
        }
        return readings
    }

    /// Stores these samples and returns the CPU rates (nanocores) against the previous ones.
    private func record(_ readings: Readings) -> [String: UInt64] {
        let cpu = readings.cpu
        return samples.withLock { stored in
            var rates: [String: UInt64] = [:]
            for (key, usage) in cpu {
                if let previous = stored[key], readings.at > previous.at, usage >= previous.usage {
                    let elapsed = readings.at - previous.at
                    let nanos = Double(elapsed.components.seconds) * 1e9 + Double(elapsed.components.attoseconds) / 1e9
                    if nanos > 0 { rates[key] = UInt64(Double(usage - previous.usage) / nanos * 1e9) }
                }
            }
            // Keep only what still exists; a new sample replaces one only when it is at least a
            // sample window newer, so back-to-back requests still see a rate over a real interval.
            stored = stored.filter { cpu[$0.key] != nil }
            for (key, usage) in cpu where stored[key].map({ readings.at - $0.at >= firstSampleWindow }) ?? true {
                stored[key] = (readings.at, usage)
            }
            return rates
        }
    }

    private func build(pods: [Pod], readings: Readings, rates: [String: UInt64]) -> StatsSummary {
        let now = Time.now()
        var node = StatsSummary.NodeStats(nodeName: host.nodeName, startTime: Time(HostReadings.bootTime() ?? Date()))
        if let usage = readings.node {
            node.cpu = StatsSummary.CPUStats(time: now, usageNanoCores: rates["node"], usageCoreNanoSeconds: usage)
        }
        if let memory = HostReadings.memory() {
            node.memory = StatsSummary.MemoryStats(time: now, availableBytes: memory.available, usageBytes: memory.usage,
                                                   workingSetBytes: memory.workingSet)
        }
        node.fs = HostReadings.filesystem(host.dataDirectory).map { fs($0, time: now, used: $0.used) }
        // The image filesystem's usage by images alone would need a walk of the store; the
        // filesystem's figures are reported without `usedBytes`.
        node.runtime = StatsSummary.RuntimeStats(imageFs: HostReadings.filesystem(host.imageDirectory).map { fs($0, time: now, used: nil) })
        node.rlimit = StatsSummary.RlimitStats(time: now, maxpid: HostReadings.maxPID(), curproc: HostReadings.processCount())

        var podStats: [StatsSummary.PodStats] = []
        for pod in pods {
            guard let uid = pod.metadata.uid, let stats = readings.groups[podCgroup(uid)] else { continue }
            var containers: [StatsSummary.ContainerStats] = []
            for (name, group, started) in runningContainers(pod) {
                var entry = StatsSummary.ContainerStats(name: name, startTime: started)
                if let usage = readings.groups[group] {
                    entry.cpu = cpu(usage, rate: rates[group], time: now)
                    entry.memory = memory(usage, limit: memoryLimit(pod, container: name), time: now)
                }
                containers.append(entry)
            }
            let limits = pod.spec.containers.map { memoryLimit(pod, container: $0.name) }
            let podLimit: UInt64? = limits.contains(nil) ? nil : limits.compactMap { $0 }.reduce(0, +)
            podStats.append(StatsSummary.PodStats(
                podRef: StatsSummary.PodReference(name: pod.metadata.name ?? "", namespace: pod.metadata.namespace ?? "default", uid: uid),
                startTime: pod.status?.startTime ?? now,
                containers: containers,
                cpu: cpu(stats, rate: rates[podCgroup(uid)], time: now),
                memory: memory(stats, limit: podLimit, time: now),
                processStats: stats.pidsCurrent > 0 ? StatsSummary.ProcessStats(processCount: stats.pidsCurrent) : nil))
        }
        return StatsSummary(node: node, pods: podStats)
    }

    private func podCgroup(_ uid: String) -> String { host.cgroupParent + "/pod" + uid }

    /// The running containers of a pod with their cgroups (from the start number in the
    /// container ID) and start times.
    private func runningContainers(_ pod: Pod) -> [(name: String, group: String, started: Time)] {
        guard let uid = pod.metadata.uid else { return [] }
        let statuses = (pod.status?.initContainerStatuses ?? []) + (pod.status?.containerStatuses ?? [])
        return statuses.compactMap { status in
            guard let running = status.state?.running, let id = status.containerID,
                  let attempt = PodLogs.attempt(containerID: id) else { return nil }
            return (status.name, podCgroup(uid) + "/\(status.name)_\(attempt)", running.startedAt ?? Time.now())
        }
    }

    private func memoryLimit(_ pod: Pod, container: String) -> UInt64? {
        let all = pod.spec.containers + (pod.spec.initContainers ?? [])
        guard let limit = all.first(where: { $0.name == container })?.resources?.limits?["memory"]?.value, limit > 0 else { return nil }
        return UInt64(limit)
    }

    private func cpu(_ stats: CgroupStats, rate: UInt64?, time: Time) -> StatsSummary.CPUStats {
        StatsSummary.CPUStats(time: time, usageNanoCores: rate, usageCoreNanoSeconds: stats.cpuUsageNanos)
    }

    private func memory(_ stats: CgroupStats, limit: UInt64?, time: Time) -> StatsSummary.MemoryStats {
        StatsSummary.MemoryStats(time: time,
                                 availableBytes: limit.map { $0 > stats.memoryWorkingSetBytes ? $0 - stats.memoryWorkingSetBytes : 0 },
                                 usageBytes: stats.memoryUsageBytes, workingSetBytes: stats.memoryWorkingSetBytes)
    }

    private func fs(_ filesystem: HostReadings.Filesystem, time: Time, used: UInt64?) -> StatsSummary.FsStats {
        StatsSummary.FsStats(time: time, availableBytes: filesystem.available, capacityBytes: filesystem.capacity, usedBytes: used,
                             inodesFree: filesystem.inodesFree, inodes: filesystem.inodes,
                             inodesUsed: filesystem.inodes - min(filesystem.inodesFree, filesystem.inodes))
    }
}
