import Cgroups
import KubeAPI
import Testing
@testable import Agent

/// The pods' parent group limits (kubelet's enforce-node-allocatable=pods).
struct NodeAllocatableCgroupTests {
    @Test func capacityMinusBothReservationsWithoutEvictionThresholds() throws {
        var node = NodeSettings()
        node.systemReserved = ["cpu": try Quantity("250m"), "memory": try Quantity("256Mi")]
        node.kubeReserved = ["cpu": try Quantity("0.5"), "memory": try Quantity("128Mi"), "pid": try Quantity("1000")]
        let resources = NodeAllocatableCgroup.resources(cpus: 4, memoryBytes: 8 << 30, node: node, pidMax: 4_194_304)
        #expect(resources.memoryLimitBytes == (8 << 30) - (384 << 20))
        #expect(resources.cpuRequestMillis == 3250)
        #expect(resources.cpuLimitMillis == nil)
        #expect(resources.pidsLimit == 4_193_304)
        #expect(resources.allowAllDevices)
        // kubelet's shares for 3250m: 3250 * 1024 / 1000.
        #expect(resources.cpuShares == 3328)
    }

    @Test func withoutReservationsTheWholeMachineAndNoPidsLimit() {
        let resources = NodeAllocatableCgroup.resources(cpus: 2, memoryBytes: 1 << 30, node: NodeSettings(), pidMax: 32768)
        #expect(resources.memoryLimitBytes == 1 << 30)
        #expect(resources.cpuRequestMillis == 2000)
        #expect(resources.pidsLimit == nil)
    }

    @Test func reservationsLargerThanTheMachineLeaveTheSmallestLimit() throws {
        var node = NodeSettings()
        node.systemReserved = ["cpu": try Quantity("16"), "memory": try Quantity("64Gi"), "pid": try Quantity("10M")]
        let resources = NodeAllocatableCgroup.resources(cpus: 2, memoryBytes: 1 << 30, node: node, pidMax: 32768)
        #expect(resources.memoryLimitBytes == 1)
        #expect(resources.cpuRequestMillis == 1)
        #expect(resources.pidsLimit == 1)
    }
}
