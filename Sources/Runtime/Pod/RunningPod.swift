import Foundation
import KubeAPI

/// A pod whose sandbox exists: namespaces, volumes, hosts files and the pod cgroup.
public final class RunningSandbox: Sendable {
    public let pod: Pod
    public let layout: PodLayout
    public let sandbox: PodSandbox
    public let info: PodRuntimeInfo
    public let cgroup: String

    init(pod: Pod, layout: PodLayout, sandbox: PodSandbox, info: PodRuntimeInfo, cgroup: String) {
        self.pod = pod
        self.layout = layout
        self.sandbox = sandbox
        self.info = info
        self.cgroup = cgroup
    }
}

/// A started container: its process, its plan and a task that resolves when it exits.
public final class RunningContainer: Sendable {
    public let name: String
    public let attempt: Int
    public let process: SpawnedProcess
    public let plan: ContainerPlan
    public let startedAt: Date
    let exit: Task<ContainerExit, Never>

    init(name: String, attempt: Int, process: SpawnedProcess, plan: ContainerPlan, startedAt: Date,
         exit: Task<ContainerExit, Never>) {
        self.name = name
        self.attempt = attempt
        self.process = process
        self.plan = plan
        self.startedAt = startedAt
        self.exit = exit
    }

    /// Waits for the container to exit.
    public func wait() async -> ContainerExit { await exit.value }
}
