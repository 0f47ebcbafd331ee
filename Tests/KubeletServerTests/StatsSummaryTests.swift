import Cgroups
import Foundation
import Glibc
import KubeAPI
import KubeletServer
import Testing
import TestSupport

/// `/stats/summary` with a REAL cgroup: needs root (CI runs as root). The test makes a pod and
/// a container cgroup under a parent of its own, runs a busy shell in the container group, and
/// removes process and cgroups in a defer.
@Suite(.serialized)
struct StatsSummaryTests {
    @Test(.requires(getuid() == 0, "needs root to make cgroups"))
    func rootSummaryReportsNodeAndPodUsageFromRealCgroups() async throws {
        let root = try TestRoot()
        defer { root.cleanUp() }
        let cgroups = try Cgroups.detect()
        let parent = "swiftlet-kubelet-test-\(UUID().uuidString.prefix(8))"
        let uid = "uid-stats"
        let podGroup = "\(parent)/pod\(uid)"
        let containerGroup = "\(podGroup)/app_3"
        try cgroups.create(podGroup, resources: CgroupResources())
        defer { try? cgroups.killAll(parent); try? cgroups.destroy(parent) }
        try cgroups.create(containerGroup, resources: CgroupResources())

        // The shell waits until it is in the container's group, then allocates and spins.
        let shell = try TestChild.launch(["/bin/sh", "-c", #"sleep 0.3; x=$(head -c 4000000 /dev/zero | tr '\0' a); while :; do :; done"#])
        defer { kill(shell.pid, SIGKILL); _ = shell.wait() }
        try cgroups.addProcess(shell.pid, to: containerGroup)
        try await Task.sleep(for: .milliseconds(1200))

        let host = FakeKubeletHost(root: root.path, cgroups: cgroups, cgroupParent: parent)
        var pod = try makePod("busy", uid: uid, statuses: [running("app", uid: uid, attempt: 3)])
        pod.spec.containers[0].resources = ResourceRequirements(limits: ["memory": try Quantity("256Mi")])
        host.set([pod, try makePod("not-started", uid: "uid-none", statuses: [waiting("app", reason: "ContainerCreating")])])

        try await withKubeletServer(host: host, certificateDirectory: root.path + "/pki") { server in
            // The container's CPU time as its cgroup counts it, around the request: what the
            // summary reports must lie between (how much CPU the shell got depends on the load).
            let before = try cgroups.stats(containerGroup).cpuUsageNanos
            let response = try await server.get("/stats/summary")
            let after = try cgroups.stats(containerGroup).cpuUsageNanos
            #expect(response.status == 200)
            #expect(response.contentType == "application/json")
            let summary = try JSONDecoder().decode(StatsSummary.self, from: Data(response.body.utf8))

            #expect(summary.node.nodeName == "node-a")
            #expect((summary.node.cpu?.usageCoreNanoSeconds ?? 0) > 0)
            #expect(summary.node.cpu?.usageNanoCores != nil)
            let memory = try #require(summary.node.memory)
            #expect((memory.usageBytes ?? 0) > 0 && (memory.workingSetBytes ?? 0) <= (memory.usageBytes ?? 0))
            #expect((memory.availableBytes ?? 0) > 0)
            #expect((summary.node.fs?.capacityBytes ?? 0) > 0 && (summary.node.fs?.usedBytes ?? 0) > 0)
            #expect((summary.node.rlimit?.maxpid ?? 0) > 0 && (summary.node.rlimit?.curproc ?? 0) > 0)
            #expect(summary.node.startTime.date < Date())

            // Only the pod with a cgroup is reported.
            #expect(summary.pods.map { "\($0.podRef.namespace)/\($0.podRef.name)/\($0.podRef.uid)" } == ["default/busy/\(uid)"])
            let podStats = try #require(summary.pods.first)
            let container = try #require(podStats.containers.first)
            #expect(container.name == "app")
            // A spinning shell: its cgroup's counter, and a rate above zero.
            let reported = container.cpu?.usageCoreNanoSeconds ?? 0
            #expect(before > 0 && reported >= before && reported <= after, "\(before) <= \(reported) <= \(after)")
            #expect((container.cpu?.usageNanoCores ?? 0) > 0)
            #expect((container.memory?.usageBytes ?? 0) > 0)
            let limit: UInt64 = 256 << 20
            #expect(container.memory?.availableBytes == limit - (container.memory?.workingSetBytes ?? 0))
            #expect((podStats.cpu?.usageCoreNanoSeconds ?? 0) >= container.cpu?.usageCoreNanoSeconds ?? 0)
            #expect((podStats.memory?.workingSetBytes ?? 0) > 0)

            // The JSON has kubelet's field names.
            let object = try #require(try JSONSerialization.jsonObject(with: Data(response.body.utf8)) as? [String: Any])
            let node = try #require(object["node"] as? [String: Any])
            #expect(Set(node.keys).isSuperset(of: ["nodeName", "startTime", "cpu", "memory", "fs", "runtime", "rlimit"]))
            let pods = try #require(object["pods"] as? [[String: Any]])
            #expect(Set(pods[0].keys).isSuperset(of: ["podRef", "startTime", "containers", "cpu", "memory"]))
        }
    }

    @Test func withoutCgroupsTheNodeIsStillReported() async throws {
        let root = try TestRoot()
        defer { root.cleanUp() }
        let host = FakeKubeletHost(root: root.path)
        host.set([try makePod("web", statuses: [running("app", attempt: 0)])])
        try await withKubeletServer(host: host, certificateDirectory: root.path + "/pki") { server in
            let summary = try JSONDecoder().decode(StatsSummary.self, from: Data(try await server.get("/stats/summary").body.utf8))
            #expect(summary.pods.isEmpty)
            #expect((summary.node.memory?.usageBytes ?? 0) > 0)
        }
    }
}
