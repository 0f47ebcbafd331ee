import CShims
import Foundation
import Glibc

/// A pod's shared namespaces (network, IPC, UTS), held open by bind mounts under the pod's
/// run directory, with no pause process (see DESIGN.md). Every container of the pod joins them.
/// The bind mounts keep the namespaces alive when the agent exits, and let a restarted agent
/// find them again by path (the `ip netns` technique).
public final class PodSandbox: @unchecked Sendable {
    /// Directory holding `net`, `ipc` and `uts`.
    public let directory: String
    /// Open namespace fds, in the order the containers join them.
    public private(set) var namespaces: [(fd: Int32, type: Int32)] = []
    /// The shared PID namespace of a `shareProcessNamespace` pod, whose init is a pause process.
    public private(set) var pidNamespace: Int32?
    private var pause: (pid: Int32, startTime: UInt64)?

    static let kinds: [(name: String, type: Int32)] = [
        ("net", SL_CLONE_NEWNET), ("ipc", SL_CLONE_NEWIPC), ("uts", SL_CLONE_NEWUTS),
    ]

    private init(directory: String) {
        self.directory = directory
    }

    deinit { closeFds() }

    /// Creates the namespaces, sets the pod's hostname and brings `lo` up. `hostNetwork` pods
    /// keep the host's network and UTS namespaces, as kubelet does; only IPC is new.
    public static func create(directory: String, hostname: String, hostNetwork: Bool = false,
                              sharedPID pausePath: String? = nil) throws -> PodSandbox {
        let sandbox = PodSandbox(directory: directory)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let wanted = hostNetwork ? [kinds[1]] : kinds
        let flags = wanted.reduce(Int32(0)) { $0 | $1.type }
        var fds: [Int32] = [-1, -1, -1]
        var result = sl_spawn_result()
        let rc = fds.withUnsafeMutableBufferPointer { sl_sandbox_create(flags, hostname, $0.baseAddress, &result) }
        if rc != 0 {
            throw SpawnError(step: "pod sandbox: " + String(cString: sl_step_name(result.step)), errno: result.err,
                             detail: withUnsafeBytes(of: result.detail) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) })
        }
        let opened = fds
        do {
            for (index, kind) in kinds.enumerated() where opened[index] >= 0 {
                let path = directory + "/" + kind.name
                let file = Glibc.open(path, O_CREAT | O_RDONLY | O_CLOEXEC, 0o444)
                guard file >= 0 else { throw SystemError("create", path) }
                close(file)
                guard sl_bind_fd(opened[index], path) == 0 else { throw SystemError("bind namespace", path) }
                sandbox.namespaces.append((opened[index], kind.type))
            }
            if let pausePath { try sandbox.startPause(pausePath) }
        } catch {
            for fd in opened where fd >= 0 && !sandbox.namespaces.contains(where: { $0.fd == fd }) { close(fd) }
            sandbox.destroy()
            throw error
        }
        return sandbox
    }

    /// shareProcessNamespace: a PID namespace whose init is `swiftlet-monitor --pause`, kept
    /// as `pid` (bind mount) and `pause` ("<pid> <start time>") in the sandbox directory.
    private func startPause(_ path: String) throws {
        let arena = CArena()
        let argv = arena.stringArray([path, "--pause"], nullTerminated: true)
        var pid: Int32 = -1
        var pidfd: Int32 = -1
        var nsfd: Int32 = -1
        var result = sl_spawn_result()
        guard sl_pause_create(path, argv, &pid, &pidfd, &nsfd, &result) == 0 else {
            throw SpawnError(step: "pause process: " + String(cString: sl_step_name(result.step)), errno: result.err,
                             detail: Spawner.cString(result.detail))
        }
        close(pidfd)
        let start = ProcessIdentity.startTime(pid) ?? 0
        pause = (pid, start)
        pidNamespace = nsfd
        let file = directory + "/pid"
        let created = Glibc.open(file, O_CREAT | O_RDONLY | O_CLOEXEC, 0o444)
        guard created >= 0 else { throw SystemError("create", file) }
        close(created)
        guard sl_bind_fd(nsfd, file) == 0 else { throw SystemError("bind namespace", file) }
        try AtomicFile.write("\(pid) \(start)\n", to: directory + "/pause")
    }

    /// Reopens the namespaces of an existing sandbox (after an agent restart).
    public static func open(directory: String) throws -> PodSandbox {
        let sandbox = PodSandbox(directory: directory)
        for kind in kinds {
            let path = directory + "/" + kind.name
            guard FileManager.default.fileExists(atPath: path) else { continue }
            let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { throw SystemError("open", path) }
            sandbox.namespaces.append((fd, kind.type))
        }
        guard !sandbox.namespaces.isEmpty else { throw SystemError("open sandbox", directory, errno: ENOENT) }
        if FileManager.default.fileExists(atPath: directory + "/pid") {
            let fd = Glibc.open(directory + "/pid", O_RDONLY | O_CLOEXEC)
            if fd >= 0 { sandbox.pidNamespace = fd }
            let fields = ((try? String(contentsOfFile: directory + "/pause", encoding: .utf8)) ?? "").split(separator: " ")
            if fields.count >= 2, let pid = Int32(fields[0]), let start = UInt64(fields[1].trimmingCharacters(in: .whitespacesAndNewlines)) {
                sandbox.pause = (pid, start)
            }
        }
        return sandbox
    }

    /// The fd of the sandbox's network namespace, if it has its own.
    public var networkNamespace: Int32? { namespaces.first(where: { $0.type == SL_CLONE_NEWNET })?.fd }

    private func closeFds() {
        for ns in namespaces { close(ns.fd) }
        namespaces = []
        if let fd = pidNamespace { close(fd) }
        pidNamespace = nil
    }

    /// Releases the namespaces: unmounts and removes the files and the directory. Safe to call
    /// twice and on a partly created sandbox.
    public func destroy() {
        closeFds()
        // Killing the pause process (PID 1 of the pod) ends every process left in the namespace.
        if let pause, ProcessIdentity.startTime(pause.pid) == pause.startTime {
            let fd = sl_pidfd_open(pause.pid)
            if fd >= 0 {
                _ = sl_pidfd_send_signal(fd, SIGKILL)
                var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                _ = poll(&entry, 1, 2000)
                close(fd)
            }
        }
        pause = nil
        for file in ["pid", "pause"] {
            _ = umount2(directory + "/" + file, Int32(MNT_DETACH))
            _ = unlink(directory + "/" + file)
        }
        for kind in Self.kinds {
            let path = directory + "/" + kind.name
            _ = umount2(path, Int32(MNT_DETACH))
            _ = unlink(path)
        }
        _ = rmdir(directory)
    }
}
