import KubeAPI

/// kubelet's `/stats/summary` answer, the shape of k8s.io/kubelet/pkg/apis/stats/v1alpha1
/// (what metrics-server and `kubectl top` read). Only the fields swiftlet fills are modelled;
/// absent values are left out, as the Go types' `omitempty` does.
public struct StatsSummary: Codable, Sendable, Equatable {
    public var node: NodeStats
    public var pods: [PodStats]

    public struct NodeStats: Codable, Sendable, Equatable {
        public var nodeName: String
        public var startTime: Time
        public var cpu: CPUStats?
        public var memory: MemoryStats?
        public var fs: FsStats?
        public var runtime: RuntimeStats?
        public var rlimit: RlimitStats?
    }

    public struct RuntimeStats: Codable, Sendable, Equatable {
        public var imageFs: FsStats?
    }

    public struct RlimitStats: Codable, Sendable, Equatable {
        public var time: Time
        /// The kernel's pid_max.
        public var maxpid: Int64?
        /// Processes (tasks) on the node.
        public var curproc: Int64?
    }

    public struct PodStats: Codable, Sendable, Equatable {
        public var podRef: PodReference
        public var startTime: Time
        public var containers: [ContainerStats]
        public var cpu: CPUStats?
        public var memory: MemoryStats?
        public var processStats: ProcessStats?

        enum CodingKeys: String, CodingKey {
            case podRef, startTime, containers, cpu, memory
            case processStats = "process_stats"
        }
    }

    public struct PodReference: Codable, Sendable, Equatable {
        public var name: String
        public var namespace: String
        public var uid: String
    }

    public struct ProcessStats: Codable, Sendable, Equatable {
        public var processCount: UInt64?

        enum CodingKeys: String, CodingKey {
            case processCount = "process_count"
        }
    }

    public struct ContainerStats: Codable, Sendable, Equatable {
        public var name: String
        public var startTime: Time
        public var cpu: CPUStats?
        public var memory: MemoryStats?
        public var logs: FsStats?
    }

    public struct CPUStats: Codable, Sendable, Equatable {
        public var time: Time
        /// CPU use over the last sample window, in billionths of a core.
        public var usageNanoCores: UInt64?
        /// CPU time used since the group was made.
        public var usageCoreNanoSeconds: UInt64?
    }

    public struct MemoryStats: Codable, Sendable, Equatable {
        public var time: Time
        /// The limit (or, for the node, the capacity) minus the working set; absent without a limit.
        public var availableBytes: UInt64?
        public var usageBytes: UInt64?
        public var workingSetBytes: UInt64?
    }

    public struct FsStats: Codable, Sendable, Equatable {
        public var time: Time
        public var availableBytes: UInt64?
        public var capacityBytes: UInt64?
        public var usedBytes: UInt64?
        public var inodesFree: UInt64?
        public var inodes: UInt64?
        public var inodesUsed: UInt64?
    }
}
