import Foundation

/// What the node status is built from: this machine, read through a seam so the reporter's
/// logic is tested with made-up machines (`LinuxNodeHost` reads the real one).
public protocol NodeHost: Sendable {
    /// The parts that do not change while the agent runs (cpus, memory, ids, versions).
    func machineInfo() throws -> NodeMachineInfo
    /// Current free memory, disk and pids: the eviction signals.
    func sample() -> NodeResourceSample
    /// The node's IPv4 address when --node-ip is not given; nil when the machine has none.
    func detectInternalIP() -> String?
}

/// The machine as cadvisor's MachineInfo describes it to kubelet.
public struct NodeMachineInfo: Sendable, Equatable {
    /// Online logical CPUs.
    public var cpus: Int
    /// MemTotal, in bytes.
    public var memoryBytes: Int64
    public var machineID: String
    public var systemUUID: String
    public var bootID: String
    /// `uname -r`.
    public var kernelVersion: String
    /// PRETTY_NAME of /etc/os-release.
    public var osImage: String
    /// Go's GOARCH name ("amd64", "arm64").
    public var architecture: String

    public init(cpus: Int, memoryBytes: Int64, machineID: String, systemUUID: String, bootID: String,
                kernelVersion: String, osImage: String, architecture: String) {
        self.cpus = cpus
        self.memoryBytes = memoryBytes
        self.machineID = machineID
        self.systemUUID = systemUUID
        self.bootID = bootID
        self.kernelVersion = kernelVersion
        self.osImage = osImage
        self.architecture = architecture
    }
}

/// Space and inodes of one filesystem (statfs), in bytes and counts.
public struct FilesystemStats: Sendable, Equatable {
    public var capacityBytes: Int64
    public var availableBytes: Int64
    /// 0 when the filesystem does not count inodes (btrfs): inode signals are then skipped.
    public var inodes: Int64
    public var inodesFree: Int64

    public init(capacityBytes: Int64, availableBytes: Int64, inodes: Int64, inodesFree: Int64) {
        self.capacityBytes = capacityBytes
        self.availableBytes = availableBytes
        self.inodes = inodes
        self.inodesFree = inodesFree
    }
}

/// The eviction manager's signals at one moment; nil where a reading failed (no pressure is
/// inferred from a signal that could not be read).
public struct NodeResourceSample: Sendable, Equatable {
    /// memory.available: MemAvailable, in bytes.
    public var memoryAvailableBytes: Int64?
    /// nodefs: the filesystem of the agent's data directory (kubelet: of its root dir).
    public var nodefs: FilesystemStats?
    /// imagefs: the filesystem of the image store.
    public var imagefs: FilesystemStats?
    /// The most processes the kernel allows (min of pid_max and threads-max).
    public var maxPIDs: Int64?
    /// Processes running now.
    public var runningProcesses: Int64?

    public init(memoryAvailableBytes: Int64? = nil, nodefs: FilesystemStats? = nil, imagefs: FilesystemStats? = nil,
                maxPIDs: Int64? = nil, runningProcesses: Int64? = nil) {
        self.memoryAvailableBytes = memoryAvailableBytes
        self.nodefs = nodefs
        self.imagefs = imagefs
        self.maxPIDs = maxPIDs
        self.runningProcesses = runningProcesses
    }
}

/// Reading this machine failed; `description` names the file or call.
public struct NodeHostError: Error, Equatable, CustomStringConvertible {
    public let description: String

    public init(_ description: String) {
        self.description = description
    }
}
