@testable import APIMachinery
import APIRegistry
import APITestSupport
@testable import ControllerRuntime
@testable import Controllers
@testable import Scheduler
import Foundation
import KubeAPI
import Testing

/// Issue 17: the resource quota controller against the API in process: status.hard follows
/// spec.hard, status.used is recounted from the namespace's objects (pods that have not
/// finished, compute requests and limits, services, object counts, scopes), usage comes back
/// when pods are deleted or finish, and the periodic resync corrects a charge whose object
/// was never stored.
@Suite struct ResourceQuotaControllerTests {
    static func used(_ cluster: ControllerTestCluster, _ name: String, namespace: String = "default") async throws -> [String: String] {
        let quota = try await cluster.client.get(.resourceQuotas, namespace: namespace, name: name)
        return (quota?.value(at: ["status", "used"])?.objectValue ?? [:]).compactMapValues(\.stringValue)
    }

    static func quota(_ name: String, hard: [String: String], scopes: [String] = []) -> KubeObject {
        var spec: [String: JSONValue] = ["hard": .object(hard.mapValues { .string($0) })]
        if !scopes.isEmpty { spec["scopes"] = .array(scopes.map { .string($0) }) }
        return KubeObject(fields: ["metadata": .object(["name": .string(name)]), "spec": .object(spec)])
    }

    @Test func usageIsCountedFromTheNamespacesObjectsAndComesBackWhenPodsGo() async throws {
        var settings = ControllerSettings.forTests
        settings.resourceQuotaSyncPeriod = .milliseconds(500)
        try await withControllerCluster(settings: settings) { cluster in
            // Objects that exist before the quota are counted by its first sync (the
            // `kubernetes` Service of the default namespace too).
            try await cluster.addPod("before", cpu: "250m", memory: "64Mi")
            _ = try await cluster.client.create(.configMaps, namespace: "default", KubeObject(fields: ["metadata": .object(["name": .string("settings")])]))
            _ = try await cluster.client.create(.resourceQuotas, namespace: "default", Self.quota("q", hard: [
                "pods": "10", "requests.cpu": "4", "requests.memory": "1Gi", "count/configmaps": "5",
                "count/deployments.apps": "2", "services": "3",
            ]))
            let first = try await eventually({ try await Self.used(cluster, "q") }, until: { $0["pods"] == "1" })
            #expect(first == ["pods": "1", "requests.cpu": "250m", "requests.memory": "64Mi",
                              "count/configmaps": "1", "count/deployments.apps": "0", "services": "1"])
            let stored = try #require(try await cluster.client.get(.resourceQuotas, namespace: "default", name: "q"))
            #expect(stored.value(at: ["status", "hard"]) == stored.value(at: ["spec", "hard"]))

            // New pods are charged by admission; deleting one gives its share back.
            try await cluster.addPod("second", cpu: "500m", memory: "32Mi")
            _ = try await eventually({ try await Self.used(cluster, "q") }, until: { $0["requests.cpu"] == "750m" })
            _ = try await cluster.client.delete(.pods, namespace: "default", name: "second")
            let after = try await eventually({ try await Self.used(cluster, "q") }, until: { $0["requests.cpu"] == "250m" })
            #expect(after["pods"] == "1")

            // A pod that finished stops counting against pods and compute (count/pods would keep it).
            _ = try await cluster.client.patch(.pods, namespace: "default", name: "before",
                                               .object(["status": .object(["phase": .string("Succeeded")])]), subresource: "status")
            let finished = try await eventually({ try await Self.used(cluster, "q") }, until: { $0["pods"] == "0" })
            #expect(finished["requests.cpu"] == "0" && finished["requests.memory"] == "0")

            // A change of spec.hard is reflected at once; removed resources leave used too.
            var quota = try #require(try await cluster.client.get(.resourceQuotas, namespace: "default", name: "q"))
            quota.set(.object(["pods": .string("3"), "count/configmaps": .string("5")]), at: ["spec", "hard"])
            _ = try await cluster.client.update(.resourceQuotas, quota)
            let reduced = try await eventually({ try await Self.used(cluster, "q") }, until: { $0.count == 2 })
            #expect(reduced == ["pods": "0", "count/configmaps": "1"])

            // A charge for an object that was never stored is corrected by the resync.
            var charged = try #require(try await cluster.client.get(.resourceQuotas, namespace: "default", name: "q"))
            charged.set(.string("3"), at: ["status", "used", "pods"])
            _ = try await cluster.client.update(.resourceQuotas, charged, subresource: "status")
            _ = try await eventually({ try await Self.used(cluster, "q") }, until: { $0["pods"] == "0" })
        }
    }

    @Test func scopedQuotasCountOnlyTheirPods() async throws {
        try await withControllerCluster { cluster in
            try await cluster.addPod("besteffort")
            try await cluster.addPod("burstable", cpu: "100m")
            try await cluster.addPod("deadline", cpu: "100m", extraSpec: ["activeDeadlineSeconds": .int(60)])
            _ = try await cluster.client.create(.resourceQuotas, namespace: "default", Self.quota("be", hard: ["pods": "5"], scopes: ["BestEffort"]))
            _ = try await cluster.client.create(.resourceQuotas, namespace: "default",
                                                Self.quota("long", hard: ["pods": "5", "requests.cpu": "1"], scopes: ["NotTerminating", "NotBestEffort"]))
            let bestEffort = try await eventually({ try await Self.used(cluster, "be") }, until: { !$0.isEmpty })
            #expect(bestEffort == ["pods": "1"])
            let long = try await eventually({ try await Self.used(cluster, "long") }, until: { !$0.isEmpty })
            #expect(long == ["pods": "1", "requests.cpu": "100m"])
        }
    }

    @Test func theControllerIsNamedAndCanBeTurnedOff() {
        #expect(ControllerManager.controllerNames.contains("resourcequota"))
        var settings = ControllerSettings()
        settings.controllers = ["*", "-resourcequota"]
        #expect(!settings.runs("resourcequota"))
        #expect(settings.unknownControllers.isEmpty)
    }
}
