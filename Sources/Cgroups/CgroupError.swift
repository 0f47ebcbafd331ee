import CShims
#if canImport(Glibc)
import Glibc
#endif

/// What went wrong while managing cgroups, naming the file or directory and the errno,
/// plus a hint about what the user can do next.
///
/// Example: `write /sys/fs/cgroup/memory/swiftlet/pod1/memory.limit_in_bytes: EBUSY (...)`.
public enum CgroupError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The group path is not a relative path of plain names (`swiftlet/pod<uid>/<container>`).
    case invalidGroup(String, reason: String)
    /// The group does not exist (in at least one hierarchy) but the operation needs it.
    case groupNotFound(group: String, path: String)
    /// Reading a cgroup file failed.
    case read(path: String, errno: Int32)
    /// Writing `value` to a cgroup file failed.
    case write(path: String, value: String, errno: Int32)
    /// Creating a cgroup directory failed.
    case mkdir(path: String, errno: Int32)
    /// Removing a cgroup directory failed (after retrying EBUSY).
    case rmdir(path: String, errno: Int32)
    /// Listing a cgroup directory failed.
    case listDirectory(path: String, errno: Int32)
    /// A cgroup file did not have the expected format.
    case parse(path: String, detail: String)
    /// A memory limit is below what the group already uses, and the kernel could not
    /// reclaim enough (v1 `EBUSY`), or swiftlet refused it up front (v2, as kubelet does
    /// for in-place resize, because the v2 kernel would OOM-kill instead).
    case limitBelowUsage(path: String, limit: Int64, usage: UInt64?)
    /// A resource was requested but its controller is not mounted / not enabled for the group.
    case controllerUnavailable(controller: String, needed: String, path: String)
    /// The mounts file lists no usable cgroup filesystem under the root.
    case noCgroupMount(root: String, mountsFile: String)
    /// `killAll` sent SIGKILL but processes were still in the group after the deadline.
    case processesRemain(group: String, pids: [Int32])
    /// `kill(pid, SIGKILL)` failed for a reason other than the process being gone.
    case signal(pid: Int32, errno: Int32)
    /// A bpf(2) step of cgroup v2 device control failed (`step` names it: "load device program
    /// for", "attach device program to"...); `log` is the verifier's explanation, if any.
    case bpf(step: String, path: String, errno: Int32, log: String?)

    public var description: String {
        switch self {
        case .invalidGroup(let group, let reason):
            return "invalid cgroup path \"\(group)\": \(reason) (expected a relative path such as swiftlet/pod<uid>/<container>)"
        case .groupNotFound(let group, let path):
            return "cgroup \(group) does not exist (\(path) is missing): create it first"
        case .read(let path, let err):
            return "read \(path): \(Self.errnoText(err))\(Self.hint(path: path, errno: err, writing: false))"
        case .write(let path, let value, let err):
            return "write \(path) (\"\(value)\"): \(Self.errnoText(err))\(Self.hint(path: path, errno: err, writing: true))"
        case .mkdir(let path, let err):
            return "mkdir \(path): \(Self.errnoText(err))\(Self.hint(path: path, errno: err, writing: true))"
        case .rmdir(let path, let err):
            let extra = err == EBUSY
                ? ": the group still has processes (or child groups); kill them first (killAll) and retry"
                : Self.hint(path: path, errno: err, writing: true)
            return "rmdir \(path): \(Self.errnoText(err))\(extra)"
        case .listDirectory(let path, let err):
            return "list \(path): \(Self.errnoText(err))"
        case .parse(let path, let detail):
            return "parse \(path): \(detail)"
        case .limitBelowUsage(let path, let limit, let usage):
            let used = usage.map { "\($0) bytes" } ?? "more"
            return "write \(path) (\"\(limit)\"): EBUSY (the memory limit \(limit) bytes is below what the group already uses (\(used)) and the kernel could not reclaim enough; raise the limit or stop the processes first)"
        case .controllerUnavailable(let controller, let needed, let path):
            return "the \(controller) controller is not available at \(path), but \(needed) needs it: mount it (cgroup v1) or enable it in the parent's cgroup.subtree_control (cgroup v2); `swiftlet check-config` lists what this host has"
        case .noCgroupMount(let root, let mountsFile):
            return "no cgroup filesystem is mounted under \(root) (according to \(mountsFile)); mount cgroup2 at \(root) or the v1 controllers below it"
        case .processesRemain(let group, let pids):
            return "cgroup \(group) still has processes \(pids.map(String.init).joined(separator: ",")) after SIGKILL (stuck in uninterruptible sleep?); retry later"
        case .signal(let pid, let err):
            return "kill(\(pid), SIGKILL): \(Self.errnoText(err))"
        case .bpf(let step, let path, let err, let log):
            var text = "bpf: \(step) \(path): \(Self.errnoText(err))"
            if err == EPERM || err == EACCES {
                text += ": cgroup v2 device control needs root with CAP_SYS_ADMIN (or CAP_BPF) and a kernel with CONFIG_CGROUP_BPF"
            }
            if let log, !log.isEmpty { text += "; verifier: " + log.trimmingWhitespace() }
            return text
        }
    }

    /// `EBUSY (Device or resource busy)`.
    static func errnoText(_ err: Int32) -> String {
        var buffer = [CChar](repeating: 0, count: 160)
        return String(cString: sl_errno_text(err, &buffer, UInt(buffer.count)))
    }

    /// A next step for the common failures, by errno and file.
    private static func hint(path: String, errno err: Int32, writing: Bool) -> String {
        let file = path.split(separator: "/").last.map(String.init) ?? path
        switch err {
        case EACCES, EPERM:
            if file == "devices.allow" {
                return ": a child cgroup cannot allow devices its parent denies; create the parent group with allowAllDevices"
            }
            return ": run swiftlet as root (with CAP_SYS_ADMIN) or delegate this cgroup to it"
        case EROFS:
            return ": the cgroup filesystem is mounted read-only (running inside a container?)"
        case ENOENT:
            return writing
                ? ": the cgroup or this controller file does not exist (is the controller mounted/enabled?)"
                : ": the cgroup or this file does not exist"
        case ESRCH where file == "cgroup.procs":
            return ": the process does not exist (it already exited?)"
        case EBUSY where file == "cgroup.subtree_control":
            return ": the group has processes of its own, and cgroup v2 allows controllers only for groups whose processes are in leaf groups"
        case EINVAL where file == "cpu.cfs_quota_us" || file == "cpu.cfs_period_us":
            return ": on cgroup v1 a child's CPU quota cannot exceed its parent's"
        case EINVAL where file.hasPrefix("devices."):
            return ": device rules of a group with child groups cannot be replaced wholesale; destroy the children first"
        case EOPNOTSUPP where file == "cgroup.procs":
            return ": the group is threaded or a domain-invalid v2 group"
        default:
            return ""
        }
    }
}
