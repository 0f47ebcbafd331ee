import CShims
import Foundation
import Glibc
import KubeAPI
import Synchronization

/// A pod whose sandbox exists: namespaces, volumes, hosts files and the pod cgroup.
public final class RunningSandbox: Sendable {
    public let pod: Pod
    public let layout: PodLayout
    public let sandbox: PodSandbox
    public let info: PodRuntimeInfo
    public let cgroup: String
    /// The ConfigMaps and Secrets the pod's containers' env refers to, as last read by the agent
    /// (container starts and exec probes build the environment from them).
    private let configObjectsState = Mutex(PodConfigObjects.none)
    /// The container groups `createSandbox` made for the first starts, directories without
    /// limits: each of those starts writes its limits into its group (`update`) rather than
    /// making it again (`create`). Taken once: a later start of the same group makes it.
    private let madeContainerGroups: Mutex<Set<String>>

    public var configObjects: PodConfigObjects {
        get { configObjectsState.withLock { $0 } }
        set { configObjectsState.withLock { $0 = newValue } }
    }

    init(pod: Pod, layout: PodLayout, sandbox: PodSandbox, info: PodRuntimeInfo, cgroup: String,
         madeContainerGroups: Set<String> = []) {
        self.pod = pod
        self.layout = layout
        self.sandbox = sandbox
        self.info = info
        self.cgroup = cgroup
        self.madeContainerGroups = Mutex(madeContainerGroups)
    }

    /// Whether `group` is one the sandbox made for a first start and no start has taken yet.
    func takeMadeContainerGroup(_ group: String) -> Bool {
        madeContainerGroups.withLock { $0.remove(group) != nil }
    }
}

/// How we hold a container's process: as its parent (`swiftlet run`), or through the monitor
/// that is its parent (the agent: the container outlives us).
public enum ContainerProcess: Sendable, Equatable {
    case direct(SpawnedProcess)
    case monitored(MonitoredProcess)
    /// Found after a restart with its monitor gone and no exit recorded.
    case lost

    public var pid: Int32? {
        switch self {
        case .direct(let process): return process.pid
        case .monitored(let process): return process.containerPid
        case .lost: return nil
        }
    }

    var pidfd: Int32 {
        switch self {
        case .direct(let process): return process.pidfd
        case .monitored(let process): return process.containerPidfd
        case .lost: return -1
        }
    }
}

/// A started container: its process, where its state lives, and a task that resolves when it
/// exits.
public final class RunningContainer: Sendable {
    public let name: String
    public let attempt: Int
    public let process: ContainerProcess
    public let cgroup: String
    /// The directory of this start (rootfs mount point, upper/work dirs, state and exit files).
    public let directory: String
    public let startedAt: Date
    /// Image reference and ID as kubelet reports them in containerStatuses.
    public let image: String
    public let imageID: String
    let exit: Task<ContainerExit, Never>

    init(name: String, attempt: Int, process: ContainerProcess, cgroup: String, directory: String,
         startedAt: Date, image: String, imageID: String, exit: Task<ContainerExit, Never>) {
        self.name = name
        self.attempt = attempt
        self.process = process
        self.cgroup = cgroup
        self.directory = directory
        self.startedAt = startedAt
        self.image = image
        self.imageID = imageID
        self.exit = exit
    }

    /// Waits for the container to exit.
    public func wait() async -> ContainerExit { await exit.value }

    /// Signals the container's init through its pidfd; false when it is gone.
    @discardableResult
    public func signal(_ sig: Int32) -> Bool {
        let fd = process.pidfd
        return fd >= 0 && sl_pidfd_send_signal(fd, sig) == 0
    }

    /// `swiftlet://<pod uid>/<name>/<attempt>`, stable across agent restarts.
    public var containerID: String {
        let parts = directory.split(separator: "/")
        let uid = parts.count >= 4 ? String(parts[parts.count - 4]) : ""
        return "swiftlet://\(uid)/\(name)/\(attempt)"
    }

    func closeHandles() {
        switch process {
        case .direct(let process): process.closeHandle()
        case .monitored(let process):
            if process.containerPidfd >= 0 { close(process.containerPidfd) }
            if process.monitorPidfd >= 0 { close(process.monitorPidfd) }
        case .lost: break
        }
    }
}
