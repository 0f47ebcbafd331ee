import Cgroups
import Foundation
import Glibc

/// What `swiftlet check-config` reports: the kernel features swiftlet needs, found by asking the
/// running kernel (k3s' check-config greps the kernel config; we look at /proc and /sys, which
/// also catches features compiled as modules but not loaded).
public struct HostCheck: Sendable {
    /// `info` carries a value (kernel release, cgroup mode) rather than a verdict.
    public enum Status: String, Sendable { case ok, info, warning, missing }

    public struct Item: Sendable, Equatable {
        public var group: String
        public var name: String
        public var status: Status
        public var detail: String
    }

    public var procRoot: String
    public var sysRoot: String
    public var cgroupRoot: String

    public init(procRoot: String = "/proc", sysRoot: String = "/sys", cgroupRoot: String = "/sys/fs/cgroup") {
        self.procRoot = procRoot
        self.sysRoot = sysRoot
        self.cgroupRoot = cgroupRoot
    }

    public func run() -> [Item] {
        var items: [Item] = []
        func add(_ group: String, _ name: String, _ status: Status, _ detail: String = "") {
            items.append(Item(group: group, name: name, status: status, detail: detail))
        }
        var uts = utsname()
        uname(&uts)
        let release = withUnsafeBytes(of: uts.release) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
        let version = release.split(whereSeparator: { !$0.isNumber }).prefix(2).compactMap { Int($0) }
        let atLeast56 = version.count == 2 && (version[0], version[1]) >= (5, 6)
        add("Kernel", "version", atLeast56 ? .info : .missing,
            atLeast56 ? release : "\(release): swiftlet needs 5.6 or newer (openat2, pidfd, clone3)")
        add("Kernel", "running as root", geteuid() == 0 ? .ok : .missing,
            geteuid() == 0 ? "" : "run swiftlet as root")

        for ns in ["mnt", "pid", "net", "ipc", "uts", "cgroup", "user"] {
            let present = access(procRoot + "/self/ns/" + ns, F_OK) == 0
            add("Namespaces", ns, present ? .ok : (ns == "user" || ns == "cgroup" ? .warning : .missing),
                present ? "" : "kernel built without \(ns) namespaces")
        }

        do {
            let info = try Cgroups.hostInfo(root: cgroupRoot, mountsFile: procRoot + "/self/mounts")
            let mode = info.mode == .v2 ? "v2 (unified)" : (info.isHybrid ? "v1 (hybrid: cgroup2 at \(info.unifiedPath ?? "") without controllers)" : "v1")
            add("cgroups", "mode", .info, mode)
            for controller in info.controllers { add("cgroups", controller, .ok) }
            for controller in info.missingControllers {
                let optional = ["devices", "freezer", "io"].contains(controller)
                add("cgroups", controller, optional ? .warning : .missing, "controller not available: limits using it cannot be applied")
            }
        } catch {
            add("cgroups", "mount", .missing, "\(error)")
        }

        let filesystems = read(procRoot + "/filesystems")
        let hasOverlay = filesystems.contains("\toverlay\n") || access(sysRoot + "/module/overlay", F_OK) == 0
        add("Filesystems", "overlay", hasOverlay ? .ok : .missing, hasOverlay ? "" : "load it with: modprobe overlay")
        for fs in ["tmpfs", "proc", "sysfs", "devpts", "mqueue"] {
            let present = filesystems.contains("\t\(fs)\n")
            add("Filesystems", fs, present ? .ok : .missing)
        }

        let status = read(procRoot + "/self/status")
        let seccomp = status.contains("\nSeccomp:")
        let actions = read(procRoot + "/sys/kernel/seccomp/actions_avail")
        add("Security", "seccomp filters", seccomp && actions.contains("errno") ? .ok : .missing,
            seccomp ? actions.trimmingCharacters(in: .whitespacesAndNewlines) : "kernel built without CONFIG_SECCOMP_FILTER")
        add("Security", "no_new_privs", status.contains("\nNoNewPrivs:") ? .ok : .missing)

        for module in ["veth", "bridge", "nf_tables", "nf_nat", "br_netfilter"] {
            let loaded = access(sysRoot + "/module/" + module, F_OK) == 0
            add("Network", module, loaded ? .ok : .warning, loaded ? "" : "not loaded (modprobe \(module)); built-in modules may not be listed")
        }
        let forward = read(procRoot + "/sys/net/ipv4/ip_forward").trimmingCharacters(in: .whitespacesAndNewlines)
        add("Network", "net.ipv4.ip_forward", forward == "1" ? .ok : .warning,
            forward == "1" ? "" : "is \(forward.isEmpty ? "unknown" : forward); pods cannot reach beyond the node without it")
        return items
    }

    private func read(_ path: String) -> String {
        ProcFile.read(path) ?? ""
    }
}
