import Runtime
import Foundation
import Glibc

/// Node-wide figures read from /proc and statvfs, for `/stats/summary` and `/metrics`.
/// kubelet takes them from cAdvisor's root container; /proc gives the same numbers on cgroup
/// v1 and v2 alike without depending on root-cgroup files that v2 lacks.
enum HostReadings {
    /// CPU time spent by all cores outside idle and iowait (`/proc/stat`), in nanoseconds.
    static func cpuUsageNanoseconds(procStat: String = "/proc/stat") -> UInt64? {
        guard let text = ProcFile.read(procStat),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("cpu ") }) else { return nil }
        let fields = line.split(separator: " ").dropFirst().compactMap { UInt64($0) }
        guard fields.count >= 4 else { return nil }
        // user nice system idle iowait irq softirq steal (guest time is already in user).
        var busy: UInt64 = 0
        for (index, value) in fields.prefix(8).enumerated() where index != 3 && index != 4 {
            busy += value
        }
        let ticksPerSecond = UInt64(max(sysconf(Int32(_SC_CLK_TCK)), 1))
        return busy * (1_000_000_000 / ticksPerSecond)
    }

    /// When the machine booted (`btime` of /proc/stat): the node's stats start time.
    static func bootTime(procStat: String = "/proc/stat") -> Date? {
        guard let text = ProcFile.read(procStat),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("btime ") }),
              let seconds = TimeInterval(line.dropFirst(6).trimmingCharacters(in: .whitespaces)) else { return nil }
        return Date(timeIntervalSince1970: seconds)
    }

    struct Memory: Equatable {
        var total: UInt64
        var usage: UInt64
        var workingSet: UInt64
        /// kubelet's node `memory.available`: capacity minus working set.
        var available: UInt64 { total > workingSet ? total - workingSet : 0 }
    }

    /// Node memory from /proc/meminfo: usage is what is not free (page cache included),
    /// the working set is usage minus inactive file pages, as for a cgroup.
    static func memory(meminfo: String = "/proc/meminfo") -> Memory? {
        guard let text = ProcFile.read(meminfo) else { return nil }
        var values: [Substring: UInt64] = [:]
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 1)
            guard parts.count == 2, let kib = UInt64(parts[1].split(separator: " ").first ?? "") else { continue }
            values[parts[0]] = kib * 1024
        }
        guard let total = values["MemTotal"], let free = values["MemFree"] else { return nil }
        let usage = total > free ? total - free : 0
        let inactiveFile = values["Inactive(file)"] ?? 0
        return Memory(total: total, usage: usage, workingSet: usage > inactiveFile ? usage - inactiveFile : 0)
    }

    struct Filesystem: Equatable {
        var capacity: UInt64
        var available: UInt64
        var used: UInt64
        var inodes: UInt64
        var inodesFree: UInt64
    }

    /// The filesystem holding `path` (its nearest existing ancestor).
    static func filesystem(_ path: String) -> Filesystem? {
        var current = path.isEmpty ? "/" : path
        var info = statvfs()
        while statvfs(current, &info) != 0 {
            guard errno == ENOENT, current != "/" else { return nil }
            current = (current as NSString).deletingLastPathComponent
            if current.isEmpty { current = "/" }
        }
        let unit = UInt64(info.f_frsize)
        return Filesystem(capacity: UInt64(info.f_blocks) * unit, available: UInt64(info.f_bavail) * unit,
                          used: UInt64(info.f_blocks - info.f_bfree) * unit,
                          inodes: UInt64(info.f_files), inodesFree: UInt64(info.f_ffree))
    }

    /// The kernel's largest pid (`/proc/sys/kernel/pid_max`).
    static func maxPID(path: String = "/proc/sys/kernel/pid_max") -> Int64? {
        (try? String(contentsOfFile: path, encoding: .utf8)).flatMap { Int64($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
    }

    /// Tasks on the node, what kubelet reports as `curproc` (sysinfo's procs): the total of the
    /// fourth field of /proc/loadavg (`running/total`), which Swift's Glibc module can read
    /// without sysinfo(2).
    static func processCount(loadavg: String = "/proc/loadavg") -> Int64? {
        guard let text = try? String(contentsOfFile: loadavg, encoding: .utf8) else { return nil }
        let fields = text.split(separator: " ")
        guard fields.count >= 4, let total = fields[3].split(separator: "/").last else { return nil }
        return Int64(total)
    }

    /// This process's resident memory (`/proc/self/statm`, second field, in pages).
    static func residentMemoryBytes() -> UInt64? {
        guard let text = ProcFile.read("/proc/self/statm") else { return nil }
        let fields = text.split(separator: " ")
        guard fields.count >= 2, let pages = UInt64(fields[1]) else { return nil }
        return pages * UInt64(sysconf(Int32(_SC_PAGESIZE)))
    }

    /// When this process started, in seconds since 1970 (field 22 of /proc/self/stat, in ticks
    /// after boot).
    static func processStartTime() -> Double? {
        guard let text = ProcFile.read("/proc/self/stat"),
              let close = text.lastIndex(of: ")") else { return nil }
        // Fields after the command name, which may hold spaces: state is field 3.
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count > 19, let ticks = Double(fields[19]), let boot = bootTime() else { return nil }
        return boot.timeIntervalSince1970 + ticks / Double(max(sysconf(Int32(_SC_CLK_TCK)), 1))
    }
}
