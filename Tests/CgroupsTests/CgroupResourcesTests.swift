import Testing
@testable import Cgroups

/// kubelet's conversions (pkg/kubelet/cm/helpers_linux.go, kuberuntime_container_linux.go).
struct CgroupResourcesTests {
    @Test func quarterCPUMatchesKubelet() {
        let resources = CgroupResources(cpuLimitMillis: 250, cpuRequestMillis: 250)
        #expect(resources.cpuShares == 256)
        #expect(resources.cpuQuotaMicros == 25_000)
        #expect(resources.cpuWeight == 10)
    }

    @Test(arguments: [
        // (millis, shares, weight) with kubelet's values
        (Int64(0), UInt64(2), UInt64(1)),
        (1, 2, 1),            // 1*1024/1000 = 1 → raised to MinShares
        (100, 102, 4),
        (1000, 1024, 39),
        (2000, 2048, 79),
        (256_000, 262_144, 10_000),
        (1_000_000, 262_144, 10_000), // capped at MaxShares
    ])
    func sharesAndWeightFromRequest(millis: Int64, shares: UInt64, weight: UInt64) {
        let resources = CgroupResources(cpuRequestMillis: millis)
        #expect(resources.cpuShares == shares)
        #expect(resources.cpuWeight == weight)
    }

    @Test(arguments: [
        (Int64(1), Int64(1000)),   // 100 µs raised to MinQuotaPeriod
        (10, 1000),
        (11, 1100),
        (500, 50_000),
        (1500, 150_000),
        (4000, 400_000),
    ])
    func quotaFromLimit(millis: Int64, quota: Int64) {
        #expect(CgroupResources(cpuLimitMillis: millis).cpuQuotaMicros == quota)
    }

    @Test func unsetValuesMeanNoLimit() {
        let none = CgroupResources()
        #expect(none.cpuShares == nil)
        #expect(none.cpuWeight == nil)
        #expect(none.cpuQuotaMicros == nil)
        #expect(none.effectiveMemoryLimit == nil)
        #expect(none.effectivePidsLimit == nil)
        #expect(none.allowAllDevices == false)
        // kubelet treats a zero quantity as unset.
        let zeros = CgroupResources(cpuLimitMillis: 0, memoryLimitBytes: 0, pidsLimit: 0)
        #expect(zeros.cpuQuotaMicros == nil)
        #expect(zeros.effectiveMemoryLimit == nil)
        #expect(zeros.effectivePidsLimit == nil)
    }

    @Test func limitOnlyContainerGetsSharesFromItsLimit() {
        // kuberuntime: "if cpuRequest.IsZero() && !cpuLimit.IsZero() { shares from limit }".
        #expect(CgroupResources(cpuLimitMillis: 500).cpuShares == 512)
        #expect(CgroupResources(cpuLimitMillis: 500, cpuRequestMillis: 0).cpuShares == 512)
        #expect(CgroupResources(cpuLimitMillis: 500, cpuRequestMillis: 100).cpuShares == 102)
        // An explicit zero request with no limit is kubelet's BestEffort minimum.
        #expect(CgroupResources(cpuRequestMillis: 0).cpuShares == 2)
    }
}
