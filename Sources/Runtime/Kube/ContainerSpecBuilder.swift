import CShims
import Cgroups
import Foundation
import Images
import KubeAPI

/// Everything needed to start one container of a pod.
public struct ContainerPlan: Sendable {
    public var spawn: SpawnSpec
    /// cgroup path of the container, relative to each hierarchy.
    public var cgroup: String
    public var resources: CgroupResources
    /// The directory of this start of the container (rootfs mount point, upper and work dirs).
    public var directory: String
}

/// Turns a pod's container and its image into a `ContainerPlan`: command, environment, user,
/// capabilities, seccomp, mounts and cgroup limits, by Kubernetes' and containerd's rules.
public struct ContainerSpecBuilder: Sendable {
    public let config: RuntimeConfig
    /// Where the containers' groups are, for their view of `/sys/fs/cgroup`.
    public let cgroups: any CgroupManager
    let seccompCache: SeccompCache

    public init(config: RuntimeConfig, cgroups: any CgroupManager) {
        self.config = config
        self.cgroups = cgroups
        seccompCache = SeccompCache(directory: config.stateRoot + "/cache/seccomp")
    }

    /// `targetPIDNamespace`: the PID namespace of the container an ephemeral container targets,
    /// joined instead of the pod's (CRI's `NamespaceMode_TARGET`); the caller owns the fd.
    public func plan(pod: Pod, container: Container, image: Image, layers: [String], layout: PodLayout,
                     attempt: Int, sandbox: PodSandbox, info: PodRuntimeInfo, targetPIDNamespace: Int32? = nil) throws -> ContainerPlan {
        let directory = layout.container(container.name, attempt: attempt)
        let security = container.securityContext
        let privileged = security?.privileged ?? false

        var env = try EnvironmentBuilder.build(pod: pod, container: container, image: image.config, info: info)
        // $(VAR) in command and args sees the container's own variables only, as in kubelet.
        let all = EnvironmentBuilder.declared(in: env)
        var declared: [String: String] = [:]
        for variable in container.env ?? [] { declared[variable.name] = all[variable.name] }
        let argv = try CommandResolver.argv(container: container, image: image.config, env: declared)
        let user = try UserResolver(layers: layers).resolve(pod: pod, container: container, imageUser: image.config.user)
        // runc (under containerd) sets HOME when neither image nor pod did: the user's home
        // in the image's /etc/passwd, else "/" (libcontainer's setupUser).
        if !env.contains(where: { $0.hasPrefix("HOME=") }) {
            env.append("HOME=" + (user.home.flatMap { $0.isEmpty ? nil : $0 } ?? "/"))
        }

        var process = ProcessSpec(argv: argv, env: env, cwd: container.workingDir ?? nonEmpty(image.config.workingDir) ?? "/")
        process.uid = user.uid
        process.gid = user.gid
        process.groups = user.groups
        process.rlimits = ContainerDefaults.rlimits()
        do {
            process.capabilities = try Capabilities.forContainer(
                privileged: privileged, add: security?.capabilities?.add ?? [], drop: security?.capabilities?.drop ?? [])
        } catch {
            throw RuntimeError.invalidContainer(container.name, "securityContext.capabilities: \(error)")
        }
        // no_new_privs unless escalation is allowed; Kubernetes' default (unset) allows it.
        process.noNewPrivileges = !(security?.allowPrivilegeEscalation ?? true) && !privileged
        process.seccompFilter = try seccompFilter(pod: pod, container: container, privileged: privileged,
                                                  capabilities: process.capabilities)
        process.oomScoreAdj = Self.oomScoreAdj(pod: pod, container: container)

        var spawn = SpawnSpec(rootfs: directory + "/rootfs", process: process)
        spawn.joinNamespaces = sandbox.namespaces
        // Own PID namespace, unless the container targets another's (an ephemeral container's
        // `targetContainerName`), the pod shares one (shareProcessNamespace) or uses the host's.
        if let shared = targetPIDNamespace ?? sandbox.pidNamespace {
            spawn.cloneFlags = SL_CLONE_NEWNS
            spawn.pidNamespace = shared
        } else if pod.spec.hostPID == true {
            spawn.cloneFlags = SL_CLONE_NEWNS
        } else {
            spawn.cloneFlags = SL_CLONE_NEWNS | SL_CLONE_NEWPID
        }
        let lower = layers.reversed().joined(separator: ":")
        spawn.overlayOptions = "lowerdir=\(lower),upperdir=\(directory)/upper,workdir=\(directory)/work"
        let readonlyRoot = security?.readOnlyRootFilesystem ?? false
        spawn.readonlyRootfs = readonlyRoot
        if !privileged {
            spawn.maskedPaths = ContainerDefaults.maskedPaths
            spawn.readonlyPaths = ContainerDefaults.readonlyPaths
        }
        let cgroup = layout.containerCgroup(parent: config.cgroupParent, name: container.name, attempt: attempt)
        let cgroupView = try cgroups.containerView(for: cgroup)
        spawn.cgroupNamespace = cgroupView == .v2

        var mounts = ContainerDefaults.mounts(privileged: privileged)
        mounts += ContainerDefaults.cgroupMounts(cgroupView, privileged: privileged)
        // The pod's hosts files are one file per pod, shared by its containers: with a read-only
        // root they are read-only too, or one container could rewrite what its siblings resolve
        // with (containerd's containerMounts: `Readonly: securityContext.GetReadonlyRootfs()`).
        if pod.spec.hostNetwork == true {
            mounts.append(.bind("/etc/hosts", to: "/etc/hosts", readonly: true, file: true))
        } else {
            mounts.append(.bind(layout.etcHosts, to: "/etc/hosts", readonly: readonlyRoot, file: true))
            mounts.append(.bind(layout.etcHostname, to: "/etc/hostname", readonly: readonlyRoot, file: true))
        }
        mounts.append(.bind(layout.resolvConf, to: "/etc/resolv.conf", readonly: readonlyRoot, file: true))
        mounts += try VolumeManager.mounts(pod: pod, container: container, layout: layout, claims: info.configObjects.claimVolumes)
        let terminationLog = container.terminationMessagePath ?? "/dev/termination-log"
        mounts.append(.bind(directory + "/termination-log", to: terminationLog, file: true))
        spawn.mounts = mounts

        return ContainerPlan(spawn: spawn, cgroup: cgroup, resources: Self.resources(container, privileged: privileged),
                             directory: directory)
    }

    /// Creates the container directory's parts the plan refers to.
    public func prepareDirectories(_ plan: ContainerPlan) throws {
        let fm = FileManager.default
        for sub in ["rootfs", "upper", "work"] {
            try fm.createDirectory(atPath: plan.directory + "/" + sub, withIntermediateDirectories: true)
        }
        try AtomicFile.createEmpty(plan.directory + "/termination-log", mode: 0o666)
    }

    /// The profile by Kubernetes' precedence: container, then pod, then `--seccomp-default`.
    /// Privileged containers run unconfined, as containerd does.
    func seccompFilter(pod: Pod, container: Container, privileged: Bool, capabilities: CapabilitySet) throws -> [UInt8]? {
        if privileged { return nil }
        let chosen = container.securityContext?.seccompProfile ?? pod.spec.securityContext?.seccompProfile
        let type = chosen?.type ?? (config.seccompDefault ? "RuntimeDefault" : "Unconfined")
        let names = capabilities.effective.names
        switch type {
        case "Unconfined":
            return nil
        case "RuntimeDefault":
            return try seccompCache.filter(for: .runtimeDefault, capabilities: names)
        case "Localhost":
            guard let relative = chosen?.localhostProfile, !relative.isEmpty else {
                throw RuntimeError.invalidContainer(container.name, "seccompProfile: localhostProfile must be set when type is Localhost")
            }
            let parts = relative.split(separator: "/")
            guard !relative.hasPrefix("/"), !parts.contains("..") else {
                throw RuntimeError.invalidContainer(container.name, "seccompProfile: localhostProfile \"\(relative)\" must be a relative path without '..'")
            }
            let path = config.seccompProfileRoot + "/" + relative
            guard let data = FileManager.default.contents(atPath: path) else {
                throw RuntimeError.invalidContainer(container.name, "seccompProfile: cannot read localhost profile \(path)")
            }
            do {
                return try seccompCache.filter(for: SeccompProfile(json: data), capabilities: names)
            } catch {
                throw RuntimeError.invalidContainer(container.name, "seccompProfile \(path): \(error)")
            }
        default:
            throw RuntimeError.invalidContainer(container.name, "seccompProfile: unsupported type \"\(type)\"")
        }
    }

    static func resources(_ container: Container, privileged: Bool) -> CgroupResources {
        var resources = CgroupResources()
        let limits = container.resources?.limits ?? [:]
        let requests = container.resources?.requests ?? [:]
        resources.cpuLimitMillis = limits["cpu"]?.milliValue
        // kubelet: requests default to limits when only limits are given, and a container
        // without any CPU request gets the minimum of 2 shares (MilliCPUToShares(0)).
        resources.cpuRequestMillis = requests["cpu"]?.milliValue ?? limits["cpu"]?.milliValue ?? 0
        resources.memoryLimitBytes = limits["memory"]?.value
        resources.allowAllDevices = privileged
        // kubelet on cgroup v2 (pkg/kubelet/kuberuntime/kuberuntime_container_linux.go,
        // singleProcessOOMKill false): an OOM kill ends the whole container.
        resources.oomKillGroup = true
        return resources
    }

    /// kubelet's GetContainerOOMScoreAdjust: Guaranteed -997, BestEffort 1000, Burstable
    /// 1000 - 1000*request/capacity clamped to [2, 999].
    static func oomScoreAdj(pod: Pod, container: Container) -> Int32 {
        let all = pod.spec.containers
        let guaranteed = all.allSatisfy { c in
            let limits = c.resources?.limits ?? [:]
            let requests = c.resources?.requests ?? [:]
            return ["cpu", "memory"].allSatisfy { r in
                guard let limit = limits[r] else { return false }
                return (requests[r] ?? limit) == limit
            }
        }
        if guaranteed { return -997 }
        let bestEffort = all.allSatisfy { ($0.resources?.limits ?? [:]).isEmpty && ($0.resources?.requests ?? [:]).isEmpty }
        if bestEffort { return 1000 }
        let capacity = Int64(ProcessInfo.processInfo.physicalMemory)
        let request = container.resources?.requests?["memory"]?.value ?? container.resources?.limits?["memory"]?.value ?? 0
        let score = 1000 - (1000 * request) / max(capacity, 1)
        return Int32(min(max(score, 2), 999))
    }

    private func nonEmpty(_ value: String?) -> String? {
        guard let value, !value.isEmpty else { return nil }
        return value
    }
}
