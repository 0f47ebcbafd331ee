import Foundation
import Runtime
import Glibc

/// `NodeHost` for this Linux machine: /proc, /sys, /etc, uname, statvfs and getifaddrs, read
/// where cadvisor reads them for kubelet.
public struct LinuxNodeHost: NodeHost {
    /// nodefs: the agent's data directory (kubelet: its root directory).
    public let dataDirectory: String
    /// imagefs: the image store.
    public let imageDirectory: String
    /// Interfaces never reported as the InternalIP (the node bridge).
    public let excludedInterfaces: Set<String>

    public init(dataDirectory: String, imageDirectory: String, excludedInterfaces: Set<String> = []) {
        self.dataDirectory = dataDirectory
        self.imageDirectory = imageDirectory
        self.excludedInterfaces = excludedInterfaces
    }

    public func machineInfo() throws -> NodeMachineInfo {
        let meminfo = Self.parseMeminfo(try Self.read("/proc/meminfo"))
        guard let memTotal = meminfo["MemTotal"] else {
            throw NodeHostError("/proc/meminfo has no MemTotal line: cannot report the node's memory capacity")
        }
        let machineID = Self.machineID()
        let uname = Self.uname()
        return NodeMachineInfo(
            cpus: max(sysconf(Int32(_SC_NPROCESSORS_ONLN)), 1),
            memoryBytes: memTotal,
            machineID: machineID,
            // Not readable without DMI (most VMs without firmware tables, containers): the
            // machine id is the next most stable identity.
            systemUUID: Self.firstLine("/sys/class/dmi/id/product_uuid") ?? machineID,
            bootID: Self.firstLine("/proc/sys/kernel/random/boot_id") ?? "",
            kernelVersion: uname.release,
            osImage: Self.osImage(osRelease: (try? Self.read("/etc/os-release")) ?? (try? Self.read("/usr/lib/os-release")) ?? ""),
            architecture: Self.goArchitecture(machine: uname.machine))
    }

    public func sample() -> NodeResourceSample {
        let meminfo = (try? Self.read("/proc/meminfo")).map(Self.parseMeminfo) ?? [:]
        // The 4th field of /proc/loadavg is running/total scheduling entities: sysinfo's procs,
        // which kubelet's pid.available counts.
        let processes = Self.firstLine("/proc/loadavg").flatMap(Self.processCount(loadavg:))
        let pidMax = Self.firstLine("/proc/sys/kernel/pid_max").flatMap { Int64($0) }
        let threadsMax = Self.firstLine("/proc/sys/kernel/threads-max").flatMap { Int64($0) }
        let maxPIDs = [pidMax, threadsMax].compactMap { $0 }.min()
        return NodeResourceSample(memoryAvailableBytes: meminfo["MemAvailable"],
                                  nodefs: try? Self.filesystem(at: dataDirectory),
                                  imagefs: try? Self.filesystem(at: imageDirectory),
                                  maxPIDs: maxPIDs, runningProcesses: processes)
    }

    public func detectInternalIP() -> String? {
        NodeAddressDetector.detect(excluding: excludedInterfaces)
    }

    // MARK: Readers

    /// statvfs of the filesystem holding `path` (or its nearest existing parent: the image
    /// directory may not exist yet on a new node).
    public static func filesystem(at path: String) throws -> FilesystemStats {
        var candidate = path
        var stats = statvfs()
        while statvfs(candidate, &stats) != 0 {
            let code = errno
            let parent = (candidate as NSString).deletingLastPathComponent
            guard code == ENOENT, parent != candidate, !parent.isEmpty else {
                throw NodeHostError("statvfs(\(path)): \(String(cString: strerror(code))): cannot measure the node's disk")
            }
            candidate = parent
        }
        let unit = Int64(stats.f_frsize)
        return FilesystemStats(capacityBytes: Int64(stats.f_blocks) * unit, availableBytes: Int64(stats.f_bavail) * unit,
                               inodes: Int64(stats.f_files), inodesFree: Int64(stats.f_ffree))
    }

    /// /etc/machine-id, or D-Bus' copy of it on older systems.
    static func machineID() -> String {
        firstLine("/etc/machine-id") ?? firstLine("/var/lib/dbus/machine-id") ?? ""
    }

    static func uname() -> (release: String, machine: String) {
        var names = utsname()
        guard Glibc.uname(&names) == 0 else { return ("", "") }
        func text<T>(_ field: inout T) -> String {
            withUnsafePointer(to: &field) { $0.withMemoryRebound(to: CChar.self, capacity: MemoryLayout<T>.size) { String(cString: $0) } }
        }
        return (text(&names.release), text(&names.machine))
    }

    static func read(_ path: String) throws -> String {
        guard let text = ProcFile.read(path) else {
            throw NodeHostError("cannot read \(path): \(String(cString: strerror(errno)))")
        }
        return text
    }

    /// The first line, trimmed; nil when the file is missing, unreadable or empty.
    static func firstLine(_ path: String) -> String? {
        guard let text = ProcFile.read(path) else { return nil }
        let line = text.split(separator: "\n").first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
        return line.isEmpty ? nil : line
    }

    // MARK: Parsers (pure)

    /// /proc/meminfo as bytes per key ("MemTotal:  16318504 kB" is 16318504 × 1024).
    static func parseMeminfo(_ text: String) -> [String: Int64] {
        var result: [String: Int64] = [:]
        for line in text.split(separator: "\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let fields = line[line.index(after: colon)...].split(separator: " ")
            guard let number = fields.first.flatMap({ Int64($0) }) else { continue }
            let kilobytes = fields.count > 1 && fields[1] == "kB"
            result[String(line[..<colon])] = kilobytes ? number * 1024 : number
        }
        return result
    }

    /// The total of `running/total` in /proc/loadavg ("0.00 0.01 0.05 1/123 4567" is 123).
    static func processCount(loadavg text: String) -> Int64? {
        let fields = text.split(separator: " ")
        guard fields.count >= 4, let slash = fields[3].firstIndex(of: "/") else { return nil }
        return Int64(fields[3][fields[3].index(after: slash)...])
    }

    /// PRETTY_NAME of os-release without its quotes; "Linux" when there is none (cadvisor's default).
    static func osImage(osRelease text: String) -> String {
        for line in text.split(separator: "\n") where line.hasPrefix("PRETTY_NAME=") {
            var value = line.dropFirst("PRETTY_NAME=".count)
            if let first = value.first, first == "\"" || first == "'", value.count >= 2, value.last == first {
                value = value.dropFirst().dropLast()
            }
            if !value.isEmpty { return String(value) }
        }
        return "Linux"
    }

    /// `uname -m` in Go's GOARCH vocabulary, which Kubernetes labels and nodeInfo use.
    static func goArchitecture(machine: String) -> String {
        switch machine {
        case "x86_64", "amd64": return "amd64"
        case "aarch64", "arm64": return "arm64"
        case "i386", "i486", "i586", "i686": return "386"
        case "ppc64le": return "ppc64le"
        case "s390x": return "s390x"
        case "riscv64": return "riscv64"
        case "loongarch64": return "loong64"
        default: return machine.hasPrefix("arm") ? "arm" : machine
        }
    }
}
