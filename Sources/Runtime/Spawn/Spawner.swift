import CShims
import Glibc

/// A process started by `Spawner`: its pid in our pid namespace and a pidfd for it.
public struct SpawnedProcess: Sendable, Equatable {
    public let pid: Int32
    public let pidfd: Int32
    /// The oom_score_adj the process got instead of the one asked for, which the kernel
    /// refused; nil when it got what was asked.
    public var oomScoreAdjFallback: Int32? = nil
}

/// A container started under a monitor: pids and pidfds of both. The monitor is the
/// container's parent; we are neither's.
public struct MonitoredProcess: Sendable, Equatable {
    public let containerPid: Int32
    public let containerPidfd: Int32
    public let monitorPid: Int32
    public let monitorPidfd: Int32
    /// As `SpawnedProcess.oomScoreAdjFallback`.
    public var oomScoreAdjFallback: Int32? = nil
}

/// Why a container could not start: the step of the spawn path, the errno and the path.
public struct SpawnError: Error, CustomStringConvertible, Equatable {
    public let step: String
    public let errno: Int32
    public let detail: String

    public var description: String {
        if step == "execve" && (errno == ENOENT || errno == EACCES) && !detail.contains("/") {
            // runc's wording, which users of Kubernetes know from `kubectl describe`.
            return "exec: \"\(detail)\": executable file not found in $PATH"
        }
        let what = detail.isEmpty ? step : "\(step) \(detail)"
        return "\(what): \(Errno.text(errno))"
    }
}

/// Marshals a `SpawnSpec` into C memory and runs the C spawn path.
public enum Spawner {
    static let capLastCap = sl_cap_last_cap()

    /// Starts the container process as our child; returns once it has exec'd.
    public static func spawn(_ spec: SpawnSpec) throws -> SpawnedProcess {
        try withCConfig(spec) { config in
            var result = sl_spawn_result()
            guard sl_spawn(&config, &result) == 0 else {
                throw SpawnError(step: String(cString: sl_step_name(result.step)), errno: result.err,
                                 detail: cString(result.detail))
            }
            // clone3 hands us a pidfd; the clone(2) fallback does not, but the pid cannot be reused
            // before we reap it, so opening one now is race-free. Every signal goes through it.
            let pidfd = result.pidfd >= 0 ? result.pidfd : sl_pidfd_open(result.pid)
            return SpawnedProcess(pid: result.pid, pidfd: pidfd,
                                  oomScoreAdjFallback: result.oom_score_adj_refused != 0 ? result.oom_score_adj_applied : nil)
        }
    }

    /// Starts the container under `monitorPath` (see `sl_spawn_monitored`): the monitor, not us,
    /// is its parent, writes its output to `logPath` in the CRI format and its exit to `exitFile`,
    /// and with `stdio.attachDirectory` serves attach clients on `<directory>/attach`.
    public static func spawnMonitored(_ spec: SpawnSpec, monitorPath: String, logPath: String,
                                      exitFile: String, stdio: MonitoredStdio = MonitoredStdio()) throws -> MonitoredProcess {
        let arena = CArena()
        var arguments = [monitorPath, "--log", logPath, "--exit-file", exitFile]
        if stdio.tty { arguments.append("--tty") }
        if stdio.stdin { arguments.append("--stdin") }
        if stdio.stdinOnce { arguments.append("--stdin-once") }
        if let directory = stdio.attachDirectory {
            arguments += ["--attach", directory + "/" + MonitoredStdio.attachSocketName]
        }
        let argv = arena.stringArray(arguments, nullTerminated: true)
        var options = sl_monitor_stdio()
        options.tty = stdio.tty ? 1 : 0
        options.stdin_pipe = stdio.stdin ? 1 : 0
        options.attach_dir = arena.optionalString(stdio.attachDirectory)
        return try withCConfig(spec) { config in
            var result = sl_monitored_result()
            guard sl_spawn_monitored(&config, monitorPath, argv, &options, &result) == 0 else {
                throw SpawnError(step: String(cString: sl_step_name(result.step)), errno: result.err,
                                 detail: cString(result.detail))
            }
            withExtendedLifetime(arena) {}
            return MonitoredProcess(containerPid: result.container_pid, containerPidfd: result.container_pidfd,
                                    monitorPid: result.monitor_pid, monitorPidfd: result.monitor_pidfd,
                                    oomScoreAdjFallback: result.oom_score_adj_refused != 0 ? result.oom_score_adj_applied : nil)
        }
    }

    /// Runs `spec.process` inside the running container behind `pidfd` (exec probes), joining
    /// `spec.cgroupProcs`. Returns our child, which exits with the command's status.
    public static func exec(in pidfd: Int32, _ spec: SpawnSpec) throws -> SpawnedProcess {
        try exec(in: pidfd, spec, terminal: nil).process
    }

    /// As `exec(in:_:)`; with a `terminal`, the process runs on a new pseudo-terminal of the
    /// container (`sl_exec_in_container`) and its master side is returned, ours to close.
    public static func exec(in pidfd: Int32, _ spec: SpawnSpec,
                            terminal: TerminalSize?) throws -> (process: SpawnedProcess, ptyMaster: Int32?) {
        try withCConfig(spec) { config in
            var result = sl_spawn_result()
            var options = sl_exec_terminal()
            if let terminal {
                options.tty = 1
                options.rows = terminal.rows
                options.cols = terminal.columns
            }
            var master: Int32 = -1
            guard sl_exec_in_container(pidfd, &config, &options, &master, &result) == 0 else {
                throw SpawnError(step: String(cString: sl_step_name(result.step)), errno: result.err,
                                 detail: cString(result.detail))
            }
            let handle = result.pidfd >= 0 ? result.pidfd : sl_pidfd_open(result.pid)
            return (SpawnedProcess(pid: result.pid, pidfd: handle), master >= 0 ? master : nil)
        }
    }

    static func cString<T>(_ tuple: T) -> String {
        withUnsafeBytes(of: tuple) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
    }

    /// Copies `spec` into C memory that lives until `body` returns (the cloned child reads it).
    static func withCConfig<R>(_ spec: SpawnSpec, _ body: (inout sl_spawn_config) throws -> R) throws -> R {
        let process = spec.process
        guard !process.argv.isEmpty else {
            throw SpawnError(step: "execve", errno: EINVAL, detail: "empty command")
        }
        let arena = CArena()
        var config = sl_spawn_config()
        config.clone_flags = spec.cloneFlags
        config.join_fds = arena.copy(spec.joinNamespaces.map(\.fd))
        config.join_types = arena.copy(spec.joinNamespaces.map(\.type))
        config.njoin = Int32(spec.joinNamespaces.count)
        config.hostname = arena.optionalString(spec.hostname)
        config.pid_ns_fd = spec.pidNamespace ?? -1 // 0 would be stdin
        config.cgroup_procs = arena.stringArray(spec.cgroupProcs)
        config.ncgroup_procs = Int32(spec.cgroupProcs.count)
        config.cgroup_namespace = spec.cgroupNamespace ? 1 : 0
        config.rootfs = arena.string(spec.rootfs)
        config.overlay_data = arena.optionalString(spec.overlayOptions)
        config.mounts = arena.copy(spec.mounts.map { mount in
            var m = sl_mount()
            m.kind = mount.kind.rawValue
            m.source = arena.string(mount.source)
            m.target = arena.string(mount.target)
            m.fstype = arena.optionalString(mount.fstype)
            m.flags = mount.flags
            m.data = arena.optionalString(mount.data)
            m.readonly = mount.readonly ? 1 : 0
            m.target_is_file = mount.targetIsFile ? 1 : 0
            m.mode = mount.mode
            m.major = mount.major
            m.minor = mount.minor
            return m
        })
        config.nmounts = Int32(spec.mounts.count)
        config.masked_paths = arena.stringArray(spec.maskedPaths)
        config.nmasked = Int32(spec.maskedPaths.count)
        config.readonly_paths = arena.stringArray(spec.readonlyPaths)
        config.nreadonly = Int32(spec.readonlyPaths.count)
        config.readonly_rootfs = spec.readonlyRootfs ? 1 : 0

        config.argv = arena.stringArray(process.argv, nullTerminated: true)
        config.envp = arena.stringArray(process.env, nullTerminated: true)
        config.path_env = arena.optionalString(process.pathEnv)
        config.cwd = arena.string(process.cwd)
        config.uid = process.uid
        config.gid = process.gid
        config.groups = arena.copy(process.groups)
        config.ngroups = Int32(process.groups.count)
        config.rlimits = arena.copy(process.rlimits.map { sl_rlimit(resource: $0.resource, soft: $0.soft, hard: $0.hard) })
        config.nrlimits = Int32(process.rlimits.count)
        if let adj = process.oomScoreAdj {
            config.oom_score_adj = adj
            config.set_oom_score_adj = 1
        }
        config.cap_last_cap = capLastCap
        let caps = process.capabilities
        config.cap_bounding = caps.bounding.mask
        config.cap_effective = caps.effective.mask
        config.cap_permitted = caps.permitted.mask
        config.cap_inheritable = caps.inheritable.mask
        config.cap_ambient = caps.ambient.mask
        config.no_new_privs = process.noNewPrivileges ? 1 : 0
        if let filter = process.seccompFilter, !filter.isEmpty {
            config.seccomp_filter = arena.bytes(filter)
            config.seccomp_len = UInt16(filter.count / 8)
        }
        config.stdin_fd = spec.stdin
        config.stdout_fd = spec.stdout
        config.stderr_fd = spec.stderr
        let result = try body(&config)
        withExtendedLifetime(arena) {}
        return result
    }
}
