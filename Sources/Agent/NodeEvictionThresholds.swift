import KubeAPI

/// kubelet's hard eviction thresholds (--eviction-hard): a signal below its threshold puts
/// the node under pressure, and the thresholds are kept off allocatable.
/// Defaults: https://github.com/kubernetes/kubernetes/blob/master/pkg/kubelet/eviction/defaults_linux.go
/// (no pid.available threshold by default, so PIDPressure stays False unless one is set).
public struct NodeEvictionThresholds: Sendable, Equatable {
    /// A threshold: an absolute amount, or a fraction of the signal's capacity.
    public enum Threshold: Sendable, Equatable {
        /// Bytes (memory, disk) or a count (inodes, pids).
        case quantity(Int64)
        /// A fraction in 0...1 ("10%" is 0.1).
        case percentage(Float)

        /// The threshold's amount against `capacity`. kubelet keeps percentages as float32 and
        /// multiplies in float64 (`GetThresholdQuantity`), so 10% of 1000000 is 100000, and 10%
        /// of a disk is a few bytes more than a tenth: the same arithmetic gives the same bytes.
        public func amount(of capacity: Int64) -> Int64 {
            switch self {
            case .quantity(let value): return value
            case .percentage(let fraction): return Int64(Double(capacity) * Double(fraction))
            }
        }
    }

    public var memoryAvailable: Threshold?
    public var nodefsAvailable: Threshold?
    public var nodefsInodesFree: Threshold?
    public var imagefsAvailable: Threshold?
    public var pidAvailable: Threshold?

    public init(memoryAvailable: Threshold? = nil, nodefsAvailable: Threshold? = nil, nodefsInodesFree: Threshold? = nil,
                imagefsAvailable: Threshold? = nil, pidAvailable: Threshold? = nil) {
        self.memoryAvailable = memoryAvailable
        self.nodefsAvailable = nodefsAvailable
        self.nodefsInodesFree = nodefsInodesFree
        self.imagefsAvailable = imagefsAvailable
        self.pidAvailable = pidAvailable
    }

    /// memory.available<100Mi, nodefs.available<10%, nodefs.inodesFree<5%, imagefs.available<15%.
    public static let kubeletDefaults = NodeEvictionThresholds(
        memoryAvailable: .quantity(100 * 1024 * 1024), nodefsAvailable: .percentage(0.1),
        nodefsInodesFree: .percentage(0.05), imagefsAvailable: .percentage(0.15))

    /// Which pressure conditions the sample shows (before the transition period).
    public struct Pressure: Sendable, Equatable {
        public var memory = false
        public var disk = false
        public var pid = false

        public init(memory: Bool = false, disk: Bool = false, pid: Bool = false) {
            self.memory = memory
            self.disk = disk
            self.pid = pid
        }
    }

    /// Compares each signal with its threshold, as the eviction manager's
    /// `thresholdsMet`: pressure when observed < threshold.
    public func pressure(_ sample: NodeResourceSample, memoryCapacity: Int64) -> Pressure {
        func below(_ observed: Int64?, _ threshold: Threshold?, capacity: Int64?) -> Bool {
            guard let observed, let threshold, let capacity, capacity > 0 else { return false }
            return observed < threshold.amount(of: capacity)
        }
        var result = Pressure()
        result.memory = below(sample.memoryAvailableBytes, memoryAvailable, capacity: memoryCapacity)
        result.disk = below(sample.nodefs?.availableBytes, nodefsAvailable, capacity: sample.nodefs?.capacityBytes)
            || below(sample.nodefs?.inodesFree, nodefsInodesFree, capacity: sample.nodefs?.inodes)
            || below(sample.imagefs?.availableBytes, imagefsAvailable, capacity: sample.imagefs?.capacityBytes)
        if let maxPIDs = sample.maxPIDs, let running = sample.runningProcesses {
            result.pid = below(maxPIDs - running, pidAvailable, capacity: maxPIDs)
        }
        return result
    }
}
