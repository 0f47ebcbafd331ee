import Cgroups
import Foundation
import KubeAPI

/// kubelet's `--enforce-node-allocatable=pods` (its default): the group that holds every pod
/// (kubelet's `kubepods`, here the runtime's cgroup parent) is limited to what the node
/// reserves for nothing else, so pods together can never take the memory and CPU kept for the
/// system and the agent. As `enforceNodeAllocatableCgroups` and `getCgroupConfig` in
/// pkg/kubelet/cm/node_container_manager_linux.go: memory limit and CPU weight of
/// capacity - system-reserved - kube-reserved (`GetNodeAllocatableAbsolute`: the eviction
/// thresholds are *not* taken off, so the agent evicts before the kernel OOM-kills), and a
/// pids limit when pids are reserved. No CPU quota: pods may use idle CPU.
public enum NodeAllocatableCgroup {
    /// The limits of the pods' parent group on a machine with `cpus` and `memoryBytes`.
    public static func resources(cpus: Int, memoryBytes: Int64, node: NodeSettings, pidMax: Int64?) -> CgroupResources {
        func reserved(_ name: String) -> Int64 {
            [node.systemReserved[name], node.kubeReserved[name]].compactMap { $0 }.reduce(Int64(0)) { total, quantity in
                let (sum, overflow) = total.addingReportingOverflow(name == "cpu" ? quantity.milliValue : quantity.value)
                return overflow ? Int64.max : sum
            }
        }
        var resources = CgroupResources()
        resources.memoryLimitBytes = max(memoryBytes - reserved("memory"), 1)
        // kubelet: a CPU request of zero would be 2 shares; at least one millicore is left.
        resources.cpuRequestMillis = max(Int64(cpus) * 1000 - reserved("cpu"), 1)
        if let pidMax, reserved("pid") > 0 {
            resources.pidsLimit = max(pidMax - reserved("pid"), 1)
        }
        // Device rules belong to containers; the parent allows every device (kubelet: SkipDevices).
        resources.allowAllDevices = true
        return resources
    }

    /// Creates or updates the pods' parent group with those limits.
    public static func enforce(on cgroups: any CgroupManager, parent: String, machine: NodeMachineInfo,
                               node: NodeSettings) throws -> CgroupResources {
        let pidMax = (try? String(contentsOfFile: "/proc/sys/kernel/pid_max", encoding: .utf8))
            .flatMap { Int64($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        let resources = resources(cpus: machine.cpus, memoryBytes: machine.memoryBytes, node: node, pidMax: pidMax)
        try cgroups.create(parent, resources: resources)
        return resources
    }
}
