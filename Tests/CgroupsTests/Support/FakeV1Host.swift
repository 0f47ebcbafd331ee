@testable import Cgroups

/// A fake v1 host in a temp tree: cpu and cpuacct co-mounted (`cpu,cpuacct`), memory, pids,
/// devices, freezer, and a manager recording its writes.
struct FakeV1Host {
    static let mounts = ["cpu,cpuacct", "memory", "pids", "devices", "freezer"]

    let tree: TempTree
    let trace = WriteTrace()
    let manager: CgroupV1Manager

    init() throws {
        tree = try TempTree()
        var hierarchies: [String: String] = [:]
        for mount in Self.mounts {
            try tree.mkdir(mount)
            for controller in mount.split(separator: ",") {
                hierarchies[String(controller)] = tree.url(mount)
            }
        }
        manager = CgroupV1Manager(hierarchies: hierarchies, files: CgroupFiles(trace: trace))
    }

    /// Creates `group` in every hierarchy with the control files a fresh kernel cgroup has.
    func makeKernelGroup(_ group: String, devicesList: String = "a *:* rwm\n") throws {
        try tree.group("cpu,cpuacct/" + group, files: [
            "cpu.shares": "1024\n", "cpu.cfs_period_us": "100000\n", "cpu.cfs_quota_us": "-1\n",
            "cpuacct.usage": "0\n", "cgroup.procs": "",
        ])
        try tree.group("memory/" + group, files: [
            "memory.limit_in_bytes": "9223372036854771712\n", "memory.usage_in_bytes": "0\n",
            "memory.stat": "cache 0\nrss 0\ntotal_inactive_file 0\n",
            "memory.oom_control": "oom_kill_disable 0\nunder_oom 0\noom_kill 0\n", "cgroup.procs": "",
        ])
        try tree.group("pids/" + group, files: ["pids.max": "max\n", "pids.current": "0\n", "cgroup.procs": ""])
        try tree.group("devices/" + group, files: [
            "devices.list": devicesList, "devices.allow": "", "devices.deny": "", "cgroup.procs": "",
        ])
        try tree.group("freezer/" + group, files: ["freezer.state": "THAWED\n", "cgroup.procs": ""])
    }

    /// The file contents, trimmed.
    func value(_ mount: String, _ group: String, _ file: String) throws -> String {
        try tree.read(mount + "/" + group + "/" + file).trimmingWhitespace()
    }
}
