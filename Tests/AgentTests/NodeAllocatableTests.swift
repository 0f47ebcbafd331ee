import Foundation
import KubeAPI
import Testing
@testable import Agent

/// kubelet's allocatable formula and the flags that feed it.
@Suite struct NodeAllocatableTests {
    static let capacity: [String: Quantity] = [
        "cpu": Quantity(value: 2), "memory": Quantity(value: 8 << 30, format: .binarySI), "pods": Quantity(value: 110),
        "ephemeral-storage": Quantity(value: 100 << 30, format: .binarySI), "hugepages-2Mi": Quantity(value: 0, format: .binarySI),
    ]

    func allocatable(system: String = "", kube: String = "", eviction: NodeEvictionThresholds = .kubeletDefaults,
                     capacity: [String: Quantity] = capacity) throws -> [String: String] {
        let reservation = NodeAllocatable.reservation(
            capacity: capacity, systemReserved: try NodeSettings.parseReservation(system, flag: "--system-reserved"),
            kubeReserved: try NodeSettings.parseReservation(kube, flag: "--kube-reserved"), evictionHard: eviction)
        return NodeAllocatable.allocatable(capacity: capacity, reservation: reservation).mapValues(\.description)
    }

    @Test func evictionThresholdsAloneComeOffMemoryAndDisk() throws {
        let result = try allocatable()
        #expect(result["cpu"] == "2")
        #expect(result["pods"] == "110")
        #expect(result["memory"] == "8092Mi")  // 8Gi - 100Mi
        // 10% as kubelet computes it: float32(0.1) × capacity in float64, truncated.
        #expect(result["ephemeral-storage"] == "96636764000")
        #expect(result["hugepages-2Mi"] == "0")
    }

    @Test func reservationsAddUp() throws {
        let result = try allocatable(system: "cpu=100m,memory=100Mi,ephemeral-storage=1Gi", kube: "cpu=200m,memory=0.5Gi")
        #expect(result["cpu"] == "1700m")
        #expect(result["memory"] == "7480Mi")  // 8192 - 100 - 512 - 100 (eviction)
        #expect(result["ephemeral-storage"] == "95563022176")  // minus 1Gi more
    }

    @Test func allocatableIsNeverNegative() throws {
        let result = try allocatable(system: "cpu=3,memory=9Gi")
        #expect(result["cpu"] == "0")
        #expect(result["memory"] == "0")
    }

    @Test func hugePagesComeOffMemory() throws {
        var capacity = Self.capacity
        capacity["hugepages-2Mi"] = Quantity(value: 1 << 30, format: .binarySI)
        #expect(try allocatable(eviction: NodeEvictionThresholds(), capacity: capacity)["memory"] == "7Gi")
    }

    @Test func reservationFlagsAreCheckedLikeKubelets() throws {
        #expect(try NodeSettings.parseReservation("cpu=100m, memory=100Mi,pid=1000", flag: "--system-reserved")
                == ["cpu": try Quantity("100m"), "memory": try Quantity("100Mi"), "pid": try Quantity("1000")])
        #expect(throws: NodeSettingsError("--system-reserved gpu=1: cannot reserve \"gpu\"; only cpu, memory, ephemeral-storage and pid can be reserved")) {
            try NodeSettings.parseReservation("gpu=1", flag: "--system-reserved")
        }
        #expect(throws: NodeSettingsError("--kube-reserved memory=-1Gi: memory=-1Gi is negative; a reservation must be zero or more")) {
            try NodeSettings.parseReservation("memory=-1Gi", flag: "--kube-reserved")
        }
        #expect(throws: NodeSettingsError("--kube-reserved cpu: expected RESOURCE=QUANTITY pairs separated by commas, e.g. cpu=100m,memory=100Mi")) {
            try NodeSettings.parseReservation("cpu", flag: "--kube-reserved")
        }
        let error = try #require(throws: NodeSettingsError.self) { try NodeSettings.parseReservation("cpu=lots", flag: "--kube-reserved") }
        #expect(error.description.hasPrefix("--kube-reserved cpu=lots: cpu=lots is not a quantity: quantities must match"))
    }

    @Test func labelAndTaintFlags() throws {
        #expect(try NodeSettings.parseLabel("disktype=ssd") == ("disktype", "ssd"))
        #expect(try NodeSettings.parseLabel("example.com/empty=") == ("example.com/empty", ""))
        #expect(throws: NodeSettingsError.self) { try NodeSettings.parseLabel("novalue") }
        #expect(throws: NodeSettingsError.self) { try NodeSettings.parseLabel("bad key=x") }
        #expect(try NodeSettings.parseTaint("dedicated=gpu:NoSchedule") == Taint(key: "dedicated", value: "gpu", effect: "NoSchedule"))
        #expect(try NodeSettings.parseTaint("node-role.kubernetes.io/control-plane:NoExecute")
                == Taint(key: "node-role.kubernetes.io/control-plane", effect: "NoExecute"))
        #expect(throws: NodeSettingsError("--node-taint a=b:Never: effect \"Never\" must be one of NoSchedule, PreferNoSchedule, NoExecute")) {
            try NodeSettings.parseTaint("a=b:Never")
        }
        #expect(throws: NodeSettingsError.self) { try NodeSettings.parseTaint("a=b") }
    }

    @Test func pressureComparesEachSignalWithItsThreshold() {
        let thresholds = NodeEvictionThresholds.kubeletDefaults
        let gib = FakeNodeHost.gib
        let disk = FilesystemStats(capacityBytes: 100 * gib, availableBytes: 50 * gib, inodes: 1000, inodesFree: 500)
        var sample = NodeResourceSample(memoryAvailableBytes: gib, nodefs: disk, imagefs: disk, maxPIDs: 1000, runningProcesses: 999)
        #expect(thresholds.pressure(sample, memoryCapacity: 8 * gib) == .init())
        sample.memoryAvailableBytes = 99 * 1024 * 1024
        sample.nodefs?.inodesFree = 49  // < 5% of 1000
        #expect(thresholds.pressure(sample, memoryCapacity: 8 * gib) == .init(memory: true, disk: true))
        sample.nodefs?.inodesFree = 500
        sample.imagefs?.availableBytes = 14 * gib  // < 15%
        #expect(thresholds.pressure(sample, memoryCapacity: 8 * gib).disk)
        // No pid.available threshold by default (kubelet's defaults_linux.go); one can be set.
        var withPIDs = thresholds
        withPIDs.pidAvailable = .percentage(0.1)
        #expect(withPIDs.pressure(sample, memoryCapacity: 8 * gib).pid)
        sample.memoryAvailableBytes = nil
        sample.nodefs = nil
        sample.imagefs = nil
        #expect(thresholds.pressure(sample, memoryCapacity: 8 * gib) == .init())
    }
}
