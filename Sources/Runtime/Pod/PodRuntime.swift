import CShims
import Cgroups
import Foundation
import Glibc
import Images
import KubeAPI
import Logging
import NodeNetwork
import Synchronization

/// Runs pods on this node: sandbox, containers, stop and cleanup. It holds no per-pod state of
/// its own; callers keep the `RunningSandbox`/`RunningContainer` handles (the agent's pod workers
/// will, the `swiftlet run` command does).
public final class PodRuntime: Sendable {
    public let config: RuntimeConfig
    public let images: ImageStore
    public let cgroups: any CgroupManager
    public let nodeName: String
    /// The pod network, or nil for pods with only a loopback interface (`swiftlet run`).
    public let network: (any PodNetwork)?
    /// The cluster's Services for containers' Service variables; nil without a server.
    public let services: (any ServiceLister)?
    let builder: ContainerSpecBuilder
    let logger: Logger
    /// Whether the kernel's refusal of a QoS oom_score_adj has been logged (once per runtime).
    private let oomScoreAdjFallbackLogged = Atomic<Bool>(false)

    public init(config: RuntimeConfig, images: ImageStore, cgroups: any CgroupManager, nodeName: String,
                network: (any PodNetwork)? = nil, services: (any ServiceLister)? = nil,
                logger: Logger = Logger(label: "swiftlet.runtime")) {
        self.config = config
        self.services = services
        self.images = images
        self.cgroups = cgroups
        self.nodeName = nodeName
        self.network = network
        self.builder = ContainerSpecBuilder(config: config, cgroups: cgroups)
        self.logger = logger
    }

    /// Creates the pod's directory, namespaces, volumes, hosts files and cgroup. On failure
    /// everything already made is released. `objects` are the ConfigMaps and Secrets the pod's
    /// volumes refer to (none for static pods). Blocking (tens of syscalls; the calling thread
    /// enters the new namespaces and leaves them again): call it from a thread of its own, not
    /// from Swift's cooperative pool, as `startContainer`.
    /// `firstStarts`: the containers (name, attempt) that start right after, whose cgroups are
    /// made here too (see below, `CgroupManager.makeGroup`); their limits are written when they
    /// start.
    public func createSandbox(for pod: Pod, objects: PodConfigObjects = .none,
                              firstStarts: [(name: String, attempt: Int)] = []) throws -> RunningSandbox {
        guard let uid = pod.metadata.uid, !uid.isEmpty, !uid.contains("/"), uid != "..", uid != "." else {
            throw RuntimeError.invalidContainer(pod.metadata.name ?? "", "pod has no valid metadata.uid")
        }
        // A pod that asks for a user namespace must not run without one: kubelet refuses such
        // a pod when the runtime does not support them, and so do we.
        if pod.spec.hostUsers == false {
            throw RuntimeError.unsupported("pod \"\(pod.metadata.name ?? "")\": hostUsers: false (a user namespace for the pod) is not supported by this runtime; remove it to run the pod with the host's user namespace")
        }
        let layout = PodLayout(config: config, uid: uid)
        let hostname = HostFiles.hostname(for: pod)
        let cgroup = layout.cgroup(parent: config.cgroupParent)
        let firstGroups = firstStarts.map { layout.containerCgroup(parent: config.cgroupParent, name: $0.name, attempt: $0.attempt) }
        var sandbox: PodSandbox?
        var podIPs: [String] = []
        do {
            try FileManager.default.createDirectory(atPath: layout.directory, withIntermediateDirectories: true)
            var pausePath: String?
            if pod.spec.shareProcessNamespace == true {
                guard let monitor = config.monitorPath else {
                    throw RuntimeError.unsupported("shareProcessNamespace needs swiftlet-monitor (its --pause mode is the pod's PID 1)")
                }
                pausePath = monitor
            }
            // The cgroups first (the pod's, and its first containers'), then the migration
            // warm-up: the containers' cgroup.procs writes come moments after this, and the
            // migration lock's RCU wait is paid now on a thread of its own, while the
            // namespaces, network and files are made. The kernel waits for that grace period
            // holding cgroup_mutex, which every cgroup mkdir takes: a group made after the
            // warm-up had begun waited for it (9-13 ms of a traced start), so they are made
            // before it.
            // Device rules live on the container groups: a v1 child can never be granted more
            // devices than its parent, so the pod group allows all (kubelet's SkipDevices).
            var resources = CgroupResources()
            resources.allowAllDevices = true
            if config.podPidsLimit > 0 { resources.pidsLimit = config.podPidsLimit }
            try cgroups.create(cgroup, resources: resources)
            for group in firstGroups {
                // Directories only: startContainer writes the container's limits into them
                // before the container joins.
                try cgroups.makeGroup(group)
            }
            cgroups.prepareMigration()
            // Volumes first: a payload that cannot be written (a hostile item path) fails the
            // start before any namespace is made (the worker reports it as FailedMount).
            try VolumeManager.prepare(pod: pod, layout: layout, objects: objects)
            sandbox = try PodSandbox.create(directory: layout.namespaces, hostname: hostname,
                                            hostNetwork: pod.spec.hostNetwork ?? false, sharedPID: pausePath)
            if let network, pod.spec.hostNetwork != true, let netns = sandbox?.networkNamespace {
                podIPs = try network.setUp(podUID: uid, netns: netns, hostPorts: Self.hostPorts(pod)).ips
            }
            try HostFiles.write(for: pod, layout: layout, podIPs: podIPs, hostResolvConf: config.hostResolvConf,
                                clusterDNS: config.clusterDNS)
        } catch {
            if !podIPs.isEmpty { try? network?.tearDown(podUID: uid) }
            VolumeManager.release(pod: pod, layout: layout)
            sandbox?.destroy()
            try? cgroups.destroy(cgroup)
            try? FileManager.default.removeItem(atPath: layout.directory)
            removeEmptyParents(of: layout.namespaces)
            throw error
        }
        let info = PodRuntimeInfo(nodeName: nodeName, podIP: podIPs.first, hostname: hostname)
        logger.info("pod sandbox created", metadata: ["pod": "\(pod.metadata.namespace ?? "default")/\(pod.metadata.name ?? "")"])
        let running = RunningSandbox(pod: pod, layout: layout, sandbox: sandbox!, info: info, cgroup: cgroup,
                                     madeContainerGroups: Set(firstGroups))
        running.configObjects = objects
        return running
    }

    /// Rewrites the sandbox's configMap, secret, downwardAPI and projected volumes from newly
    /// read objects (atomically, each volume seen whole): the names that changed and the
    /// volumes that could not be written. `pod` is the pod with its current labels and
    /// annotations for downward API items (the sandbox's pod when nil).
    public func updateVolumes(_ sandbox: RunningSandbox, pod: Pod? = nil, objects: PodConfigObjects) -> (changed: [String], errors: [RuntimeError]) {
        VolumeManager.update(pod: pod ?? sandbox.pod, layout: sandbox.layout, objects: objects)
    }

    /// Where a container's stdout and stderr go.
    public enum Output: Sendable {
        /// To these fds, with us as the container's parent (`swiftlet run`).
        case fds(stdout: Int32, stderr: Int32)
        /// Into a CRI-format log file written by a monitor that is the container's parent, so
        /// the container outlives us (the agent). Needs `config.monitorPath`.
        case monitored(logPath: String)
    }

    /// Starts one container of the pod; returns once it has exec'd. `image` is the image the
    /// agent made sure of (pulled or found); without it the container's image is resolved in
    /// the store. Blocking (layer unpacking on first use, syscalls): call it from a thread of
    /// its own, not from Swift's cooperative pool.
    /// - Parameter targetPID: a process whose PID namespace the container joins instead of
    ///   its own: an ephemeral container's target (`kubectl debug --target`), as containerd
    ///   gives it the target's namespace (CRI's `NamespaceMode_TARGET`).
    public func startContainer(_ container: Container, attempt: Int = 0, in sandbox: RunningSandbox,
                               output: Output, image resolved: Image? = nil, targetPID: Int32? = nil) throws -> RunningContainer {
        let image = try resolved ?? images.resolve(container.image ?? "")
        let layers = try images.layerDirectories(for: image)
        var targetNamespace: Int32?
        if let targetPID {
            let path = "/proc/\(targetPID)/ns/pid"
            let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { throw SystemError("open the target's PID namespace", path) }
            targetNamespace = fd
        }
        // The child has joined the namespace once the spawn returned.
        defer { if let targetNamespace { close(targetNamespace) } }
        var plan = try builder.plan(pod: sandbox.pod, container: container, image: image, layers: layers,
                                    layout: sandbox.layout, attempt: attempt, sandbox: sandbox.sandbox, info: containerInfo(sandbox),
                                    targetPIDNamespace: targetNamespace)
        let reference = try? ImageReference(parsing: container.image ?? "")
        let imageName = reference?.normalized ?? image.references.first ?? ""
        let imageID = Self.imageID(image, name: reference?.name)
        do {
            try builder.prepareDirectories(plan)
            if sandbox.takeMadeContainerGroup(plan.cgroup) {
                try cgroups.update(plan.cgroup, resources: plan.resources)
            } else {
                try cgroups.create(plan.cgroup, resources: plan.resources)
            }
            plan.spawn.cgroupProcs = cgroups.procsFiles(for: plan.cgroup)
            let process: ContainerProcess
            let exitFile = plan.directory + "/" + ContainerRecord.exitFileName
            switch output {
            case .fds(let stdout, let stderr):
                plan.spawn.stdout = stdout
                plan.spawn.stderr = stderr
                process = .direct(try Spawner.spawn(plan.spawn))
            case .monitored(let logPath):
                guard let monitor = config.monitorPath else {
                    throw RuntimeError.unsupported("no swiftlet-monitor configured: containers cannot outlive the agent")
                }
                try FileManager.default.createDirectory(atPath: (logPath as NSString).deletingLastPathComponent,
                                                        withIntermediateDirectories: true)
                // kubelet's stdin/stdinOnce/tty, and an attach socket for `kubectl attach`.
                let stdio = MonitoredStdio(tty: container.tty == true, stdin: container.stdin == true,
                                           stdinOnce: container.stdinOnce == true, attachDirectory: plan.directory)
                let monitored = try Spawner.spawnMonitored(plan.spawn, monitorPath: monitor, logPath: logPath,
                                                           exitFile: exitFile, stdio: stdio)
                process = .monitored(monitored)
            }
            noteOOMScoreAdjFallback(process, wanted: plan.spawn.process.oomScoreAdj)
            let startedAt = Date()
            if case .monitored(let monitored) = process {
                let record = ContainerRecord(
                    name: container.name, attempt: attempt, containerPid: monitored.containerPid,
                    containerStartTime: ProcessIdentity.startTime(monitored.containerPid) ?? 0,
                    monitorPid: monitored.monitorPid, monitorStartTime: ProcessIdentity.startTime(monitored.monitorPid) ?? 0,
                    startedAt: startedAt.timeIntervalSince1970, cgroup: plan.cgroup, image: imageName, imageID: imageID)
                try record.write(to: plan.directory)
            }
            return RunningContainer(name: container.name, attempt: attempt, process: process, cgroup: plan.cgroup,
                                    directory: plan.directory, startedAt: startedAt, image: imageName, imageID: imageID,
                                    exit: exitTask(process, cgroup: plan.cgroup, exitFile: exitFile, startedAt: startedAt))
        } catch {
            try? cgroups.destroy(plan.cgroup)
            try? FileManager.default.removeItem(atPath: plan.directory)
            throw error
        }
    }

    /// The container status's `imageID`, as containerd reports it (its image's repo digest):
    /// `name@<digest the tag resolved to>` when the image was pulled under that name (an
    /// index's digest for a multi-platform image), else `name@<manifest digest>`, else the ID.
    static func imageID(_ image: Image, name: String?) -> String {
        if let name, let digest = image.repoDigests.first(where: { $0.hasPrefix(name + "@") }) { return digest }
        if let digest = image.repoDigests.first { return digest }
        if let name { return name + "@" + image.manifestDigest.description }
        return image.id.description
    }

    /// kubelet's QoS scores are a preference: where the agent lacks CAP_SYS_RESOURCE
    /// (containers in containers, some VMs) the kernel refuses to lower oom_score_adj, and the
    /// container got the lowest value allowed instead. Said once, not per container.
    private func noteOOMScoreAdjFallback(_ process: ContainerProcess, wanted: Int32?) {
        let fallback: Int32?
        switch process {
        case .direct(let spawned): fallback = spawned.oomScoreAdjFallback
        case .monitored(let monitored): fallback = monitored.oomScoreAdjFallback
        case .lost: fallback = nil
        }
        guard let fallback, !oomScoreAdjFallbackLogged.exchange(true, ordering: .relaxed) else { return }
        logger.warning("the kernel refused the containers' oom_score_adj (the agent lacks CAP_SYS_RESOURCE): they get the lowest value allowed instead; shown once", metadata: [
            "wanted": "\(wanted.map(String.init) ?? "")", "applied": "\(fallback)",
        ])
    }

    /// Resolves when the container has exited: reaped by us (direct), or recorded by its monitor.
    private func exitTask(_ process: ContainerProcess, cgroup: String, exitFile: String,
                          startedAt: Date) -> Task<ContainerExit, Never> {
        let cgroups = self.cgroups
        return Task {
            let status: ExitStatus
            var finishedAt = Date()
            switch process {
            case .direct(let spawned):
                status = await spawned.wait()
            case .monitored(let monitored):
                await PidfdWaiter.waitReadable(monitored.monitorPidfd)
                if let file = ExitFile.read(exitFile) {
                    status = ExitStatus(code: file.signal == 0 ? file.exitCode : nil, signal: file.signal == 0 ? nil : file.signal)
                    finishedAt = file.finishedAt
                } else {
                    return ContainerExit.lost(startedAt: startedAt)
                }
            case .lost:
                if let file = ExitFile.read(exitFile) {
                    status = ExitStatus(code: file.signal == 0 ? file.exitCode : nil, signal: file.signal == 0 ? nil : file.signal)
                    finishedAt = file.finishedAt
                } else {
                    return ContainerExit.lost(startedAt: startedAt)
                }
            }
            let oom = ((try? cgroups.oomKillCount(cgroup)) ?? 0) > 0
            return ContainerExit(status: status, oomKilled: oom, startedAt: startedAt, finishedAt: finishedAt)
        }
    }

    /// The pod's facts plus the Service variables as of now: kubelet computes them at each
    /// container start (and a running container keeps the ones it started with).
    func containerInfo(_ sandbox: RunningSandbox) -> PodRuntimeInfo {
        var info = sandbox.info
        info.configObjects = sandbox.configObjects
        if let services {
            info.serviceVariables = ServiceEnvironment.variables(for: sandbox.pod, services: services.services())
        }
        return info
    }

    /// The sandbox of a pod that already has one (after an agent restart), or nil.
    public func openSandbox(for pod: Pod) -> RunningSandbox? {
        guard let uid = pod.metadata.uid else { return nil }
        let layout = PodLayout(config: config, uid: uid)
        guard let sandbox = try? PodSandbox.open(directory: layout.namespaces) else { return nil }
        // The address survives restarts in the allocator's records.
        let podIP = pod.spec.hostNetwork == true ? nil : (try? network?.allocations())?[uid]
        let info = PodRuntimeInfo(nodeName: nodeName, podIP: podIP, hostname: HostFiles.hostname(for: pod))
        return RunningSandbox(pod: pod, layout: layout, sandbox: sandbox, info: info,
                              cgroup: layout.cgroup(parent: config.cgroupParent))
    }

    /// The containers a previous agent started in this sandbox, found through their state
    /// files: still running under their monitor, or exited (with the exit the monitor recorded,
    /// even if that happened while no agent ran).
    public func reattachContainers(in sandbox: RunningSandbox) -> [RunningContainer] {
        let root = sandbox.layout.directory + "/containers"
        var found: [RunningContainer] = []
        let fm = FileManager.default
        for name in (try? fm.contentsOfDirectory(atPath: root)) ?? [] {
            for attempt in (try? fm.contentsOfDirectory(atPath: root + "/" + name)) ?? [] {
                let directory = root + "/" + name + "/" + attempt
                guard let record = ContainerRecord.read(from: directory) else { continue }
                found.append(reattach(record, directory: directory))
            }
        }
        return found.sorted { ($0.name, $0.attempt) < ($1.name, $1.attempt) }
    }

    private func reattach(_ record: ContainerRecord, directory: String) -> RunningContainer {
        let exitFile = directory + "/" + ContainerRecord.exitFileName
        var process = ContainerProcess.lost
        if !FileManager.default.fileExists(atPath: exitFile),
           ProcessIdentity.startTime(record.monitorPid) == record.monitorStartTime {
            let monitorPidfd = sl_pidfd_open(record.monitorPid)
            let containerPidfd = ProcessIdentity.startTime(record.containerPid) == record.containerStartTime
                ? sl_pidfd_open(record.containerPid) : -1
            // Re-check after opening: the pid could have been reused in between.
            if monitorPidfd >= 0 && ProcessIdentity.startTime(record.monitorPid) == record.monitorStartTime {
                process = .monitored(MonitoredProcess(containerPid: record.containerPid, containerPidfd: containerPidfd,
                                                      monitorPid: record.monitorPid, monitorPidfd: monitorPidfd))
            } else {
                if monitorPidfd >= 0 { close(monitorPidfd) }
                if containerPidfd >= 0 { close(containerPidfd) }
            }
        }
        let startedAt = Date(timeIntervalSince1970: record.startedAt)
        return RunningContainer(name: record.name, attempt: record.attempt, process: process, cgroup: record.cgroup,
                                directory: directory, startedAt: startedAt, image: record.image, imageID: record.imageID,
                                exit: exitTask(process, cgroup: record.cgroup, exitFile: exitFile, startedAt: startedAt))
    }

    /// Graceful stop: SIGTERM, up to `gracePeriod` seconds, then SIGKILL (kubelet's
    /// killContainer). PID 1 of a pid namespace ignores signals it has no handler for, so a
    /// container that does not handle SIGTERM is killed after the grace period, as on Kubernetes.
    @discardableResult
    public func stop(_ container: RunningContainer, gracePeriod: Int64) async -> ContainerExit {
        container.signal(SIGTERM)
        // A timer that sends SIGKILL at the deadline unless the container exits first.
        let killer = Task {
            try await Task.sleep(for: .seconds(max(gracePeriod, 0)))
            container.signal(SIGKILL)
        }
        let exit = await container.wait()
        killer.cancel()
        return exit
    }

    /// The pod's `hostPort`s, as kubelet hands them to the network plugin.
    static func hostPorts(_ pod: Pod) -> [HostPortMapping] {
        (pod.spec.containers + (pod.spec.initContainers ?? [])).flatMap { $0.ports ?? [] }.compactMap { port in
            guard let host = port.hostPort, host > 0, let hostPort = UInt16(exactly: host),
                  let containerPort = UInt16(exactly: port.containerPort) else { return nil }
            return HostPortMapping(hostPort: hostPort, containerPort: containerPort, proto: port.protocol ?? "TCP", hostIP: port.hostIP)
        }
    }

    /// Releases what a container held: any process left in its cgroup, the cgroup, its
    /// writable layer and rootfs mount point. A container still running is killed first
    /// (call `stop` before for a graceful end).
    public func removeContainer(_ container: RunningContainer) async {
        container.signal(SIGKILL) // ESRCH when it has exited: harmless
        _ = await container.wait()
        container.closeHandles()
        // The cgroups' removal and the writable layer's deletion block: not on the pool.
        let cgroups = self.cgroups, logger = self.logger
        await BlockingCall.run(stackSize: 256 * 1024) {
            try? cgroups.killAll(container.cgroup)
            do { try cgroups.destroy(container.cgroup) } catch {
                logger.warning("cgroup not removed", metadata: ["cgroup": "\(container.cgroup)", "error": "\(error)"])
            }
            try? FileManager.default.removeItem(atPath: container.directory)
        }
    }

    /// Releases the sandbox: pod network, volumes, namespaces, pod cgroup, pod directory.
    /// Blocking, as `createSandbox`.
    public func removeSandbox(_ sandbox: RunningSandbox) {
        if let network, sandbox.pod.spec.hostNetwork != true {
            do { try network.tearDown(podUID: sandbox.layout.uid) } catch {
                logger.warning("pod network not released", metadata: ["pod": "\(sandbox.layout.uid)", "error": "\(error)"])
            }
        }
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
