import Cgroups
import Foundation
import Glibc
import Images
import KubeAPI
import Logging

/// Runs pods on this node: sandbox, containers, stop and cleanup. It holds no per-pod state of
/// its own; callers keep the `RunningSandbox`/`RunningContainer` handles (the agent's pod workers
/// will, the `swiftlet run` command does).
public final class PodRuntime: Sendable {
    public let config: RuntimeConfig
    public let images: ImageStore
    public let cgroups: any CgroupManager
    public let nodeName: String
    let builder: ContainerSpecBuilder
    let logger: Logger

    public init(config: RuntimeConfig, images: ImageStore, cgroups: any CgroupManager, nodeName: String,
                logger: Logger = Logger(label: "swiftlet.runtime")) {
        self.config = config
        self.images = images
        self.cgroups = cgroups
        self.nodeName = nodeName
        self.builder = ContainerSpecBuilder(config: config)
        self.logger = logger
    }

    /// Creates the pod's directory, namespaces, volumes, hosts files and cgroup. On failure
    /// everything already made is released.
    public func createSandbox(for pod: Pod, podIPs: [String] = []) throws -> RunningSandbox {
        guard let uid = pod.metadata.uid, !uid.isEmpty, !uid.contains("/"), uid != "..", uid != "." else {
            throw RuntimeError.invalidContainer(pod.metadata.name ?? "", "pod has no valid metadata.uid")
        }
        let layout = PodLayout(config: config, uid: uid)
        let hostname = HostFiles.hostname(for: pod)
        let cgroup = layout.cgroup(parent: config.cgroupParent)
        var sandbox: PodSandbox?
        do {
            try FileManager.default.createDirectory(atPath: layout.directory, withIntermediateDirectories: true)
            sandbox = try PodSandbox.create(directory: layout.namespaces, hostname: hostname,
                                            hostNetwork: pod.spec.hostNetwork ?? false)
            try VolumeManager.prepare(pod: pod, layout: layout)
            try HostFiles.write(for: pod, layout: layout, podIPs: podIPs, hostResolvConf: config.hostResolvConf)
            // Device rules live on the container groups: a v1 child can never be granted more
            // devices than its parent, so the pod group allows all (kubelet's SkipDevices).
            var resources = CgroupResources()
            resources.allowAllDevices = true
            if config.podPidsLimit > 0 { resources.pidsLimit = config.podPidsLimit }
            try cgroups.create(cgroup, resources: resources)
        } catch {
            VolumeManager.release(pod: pod, layout: layout)
            sandbox?.destroy()
            try? cgroups.destroy(cgroup)
            try? FileManager.default.removeItem(atPath: layout.directory)
            removeEmptyParents(of: layout.namespaces)
            throw error
        }
        let info = PodRuntimeInfo(nodeName: nodeName, podIP: podIPs.first, hostname: hostname)
        logger.info("pod sandbox created", metadata: ["pod": "\(pod.metadata.namespace ?? "default")/\(pod.metadata.name ?? "")"])
        return RunningSandbox(pod: pod, layout: layout, sandbox: sandbox!, info: info, cgroup: cgroup)
    }

    /// Starts one container of the pod; returns once it has exec'd.
    public func startContainer(_ container: Container, attempt: Int = 0, in sandbox: RunningSandbox,
                               stdout: Int32, stderr: Int32) throws -> RunningContainer {
        let image = try images.resolve(container.image ?? "")
        let layers = try images.layerDirectories(for: image)
        var plan = try builder.plan(pod: sandbox.pod, container: container, image: image, layers: layers,
                                    layout: sandbox.layout, attempt: attempt, sandbox: sandbox.sandbox, info: sandbox.info)
        do {
            try builder.prepareDirectories(plan)
            try cgroups.create(plan.cgroup, resources: plan.resources)
            plan.spawn.cgroupProcs = cgroups.procsFiles(for: plan.cgroup)
            plan.spawn.stdout = stdout
            plan.spawn.stderr = stderr
            let process = try Spawner.spawn(plan.spawn)
            let startedAt = Date()
            let cgroups = self.cgroups
            let cgroup = plan.cgroup
            let exit = Task<ContainerExit, Never> {
                let status = await process.wait()
                let oom = ((try? cgroups.oomKillCount(cgroup)) ?? 0) > 0
                return ContainerExit(status: status, oomKilled: oom, startedAt: startedAt, finishedAt: Date())
            }
            return RunningContainer(name: container.name, attempt: attempt, process: process, plan: plan,
                                    startedAt: startedAt, exit: exit)
        } catch {
            try? cgroups.destroy(plan.cgroup)
            try? FileManager.default.removeItem(atPath: plan.directory)
            throw error
        }
    }

    /// Graceful stop: SIGTERM, up to `gracePeriod` seconds, then SIGKILL (kubelet's
    /// killContainer). PID 1 of a pid namespace ignores signals it has no handler for, so a
    /// container that does not handle SIGTERM is killed after the grace period, as on Kubernetes.
    @discardableResult
    public func stop(_ container: RunningContainer, gracePeriod: Int64) async -> ContainerExit {
        _ = container.process.signal(SIGTERM)
        // A timer that sends SIGKILL at the deadline unless the container exits first.
        let killer = Task {
            try await Task.sleep(for: .seconds(max(gracePeriod, 0)))
            _ = container.process.signal(SIGKILL)
        }
        let exit = await container.wait()
        killer.cancel()
        return exit
    }

    /// Releases what a container held: any process left in its cgroup, the cgroup, its
    /// writable layer and rootfs mount point. A container still running is killed first
    /// (call `stop` before for a graceful end).
    public func removeContainer(_ container: RunningContainer) async {
        _ = container.process.signal(SIGKILL) // ESRCH when it has exited: harmless
        _ = await container.wait()
        container.process.closeHandle()
        try? cgroups.killAll(container.plan.cgroup)
        do { try cgroups.destroy(container.plan.cgroup) } catch {
            logger.warning("cgroup not removed", metadata: ["cgroup": "\(container.plan.cgroup)", "error": "\(error)"])
        }
        try? FileManager.default.removeItem(atPath: container.plan.directory)
    }

    /// Releases the sandbox: volumes, namespaces, pod cgroup, pod directory.
    public func removeSandbox(_ sandbox: RunningSandbox) {
        VolumeManager.release(pod: sandbox.pod, layout: sandbox.layout)
        sandbox.sandbox.destroy()
        removeEmptyParents(of: sandbox.layout.namespaces)
        try? cgroups.killAll(sandbox.cgroup)
        do { try cgroups.destroy(sandbox.cgroup) } catch {
            logger.warning("pod cgroup not removed", metadata: ["cgroup": "\(sandbox.cgroup)", "error": "\(error)"])
        }
        try? FileManager.default.removeItem(atPath: sandbox.layout.directory)
    }

    /// Removes `<runRoot>/pods/<uid>` once its `ns` directory is gone.
    private func removeEmptyParents(of namespaces: String) {
        let podRunDir = (namespaces as NSString).deletingLastPathComponent
        _ = rmdir(namespaces)
        _ = rmdir(podRunDir)
    }
}
