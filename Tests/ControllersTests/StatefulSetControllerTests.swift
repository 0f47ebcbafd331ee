@testable import APIMachinery
@testable import APIRegistry
import APITestSupport
@testable import ControllerRuntime
@testable import Controllers
@testable import Scheduler
import Foundation
import KubeAPI
import Testing

/// The StatefulSet controller with the whole controller manager (the scheduler binds the
/// pods) over the in-process API; `StatefulSetKubelet` plays the node, holding pods not Ready
/// when a test needs OrderedReady to wait.
@Suite struct StatefulSetControllerTests {
    static func setJSON(_ name: String, replicas: Int = 3, image: String = "busybox", policy: String? = nil,
                        strategy: String? = nil, service: String = "web-svc") -> String {
        """
        {"apiVersion":"apps/v1","kind":"StatefulSet","metadata":{"name":"\(name)"},
         "spec":{"replicas":\(replicas),"serviceName":"\(service)",\(policy.map { "\"podManagementPolicy\":\"\($0)\"," } ?? "")
           \(strategy.map { "\"updateStrategy\":\($0)," } ?? "")
           "selector":{"matchLabels":{"app":"\(name)"}},"template":{"metadata":{"labels":{"app":"\(name)"}},
           "spec":{"containers":[{"name":"c","image":"\(image)"}]}}}}
        """
    }

    static func object(_ text: String) throws -> KubeObject {
        guard case .object(let fields) = try JSONParser.parse(Array(text.utf8)) else { throw TestFailure("not an object: \(text)") }
        return KubeObject(fields: fields)
    }

    static func json(_ text: String) throws -> JSONValue { try JSONParser.parse(Array(text.utf8)) }

    /// Live pods of `app` by name.
    func pods(_ cluster: ControllerTestCluster, _ app: String) async throws -> [String: KubeObject] {
        let pods = try await cluster.client.list(.pods, namespace: "default", labelSelector: LabelSelector(parsing: "app=\(app)")).items
        return Dictionary(pods.filter { $0.deletionTimestamp == nil }.map { ($0.name ?? "", $0) }) { a, _ in a }
    }

    func set(_ cluster: ControllerTestCluster, _ name: String) async throws -> KubeObject {
        try #require(try await cluster.client.get(.statefulSets, namespace: "default", name: name))
    }

    func image(_ pod: KubeObject?) -> String? {
        pod?.value(at: ["spec", "containers"])?.arrayValue?.first?["image"]?.stringValue
    }

    func wait(_ what: String, _ condition: @Sendable () async throws -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            if try await condition() { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw TestFailure("timed out waiting for \(what)")
    }

    /// Waits until the controller has synced generation `generation` (its status says so).
    func waitObserved(_ cluster: ControllerTestCluster, _ name: String, generation: Int64) async throws {
        try await wait("generation \(generation) observed") {
            try await set(cluster, name).int(at: ["status", "observedGeneration"]) >= generation
        }
    }

    func withCluster(_ body: @Sendable (ControllerTestCluster, StatefulSetKubelet) async throws -> Void) async throws {
        try await withControllerCluster { cluster in
            try await cluster.addNode("n1")
            let kubelet = StatefulSetKubelet(client: cluster.client)
            try await kubelet.running { try await body(cluster, kubelet) }
        }
    }

    @Test func orderedReadyMakesPodsInOrderWithStableIdentity() async throws {
        try await withCluster { cluster, kubelet in
            kubelet.holdNewPods(true)
            let created = try await cluster.client.create(.statefulSets, namespace: "default", Self.object(Self.setJSON("web")))
            #expect(created.string(at: ["spec", "podManagementPolicy"]) == "OrderedReady")
            #expect(created.value(at: ["spec", "updateStrategy", "rollingUpdate", "partition"])?.intValue == 0)
            #expect(created.string(at: ["spec", "persistentVolumeClaimRetentionPolicy", "whenScaled"]) == "Retain")
            try await wait("web-0 running") { try await pods(cluster, "web")["web-0"]?.string(at: ["status", "phase"]) == "Running" }

            // A scale proves a sync after web-0 ran: web-1 still waits for web-0 to be Ready.
            _ = try await cluster.client.patch(.statefulSets, namespace: "default", name: "web", Self.json(#"{"spec":{"replicas":4}}"#))
            try await waitObserved(cluster, "web", generation: 2)
            #expect(try await pods(cluster, "web").keys.sorted() == ["web-0"])

            for (index, name) in ["web-0", "web-1", "web-2"].enumerated() {
                try await wait("\(name) made") { try await pods(cluster, "web")[name] != nil }
                #expect(try await pods(cluster, "web").count == index + 1, "the next pod waits for \(name)")
                // web-3 is not held: stop holding before the release that lets it be made.
                if name == "web-2" { kubelet.holdNewPods(false) }
                try await kubelet.release(name)
            }
            try await wait("4 ready") { try await set(cluster, "web").int(at: ["status", "readyReplicas"]) == 4 }
            #expect(kubelet.created.filter { $0.hasPrefix("web-") } == ["web-0", "web-1", "web-2", "web-3"])

            let pod = try #require(try await pods(cluster, "web")["web-2"])
            #expect(pod.string(at: ["spec", "hostname"]) == "web-2")
            #expect(pod.string(at: ["spec", "subdomain"]) == "web-svc")
            #expect(pod.labels["statefulset.kubernetes.io/pod-name"] == "web-2")
            #expect(pod.labels["apps.kubernetes.io/pod-index"] == "2")
            #expect(pod.controllerRef?.uid == created.uid)
            let status = try await set(cluster, "web").value(at: ["status"])
            let revision = try #require(status?["updateRevision"]?.stringValue)
            #expect(pod.labels["controller-revision-hash"] == revision)
            #expect(status?["currentRevision"]?.stringValue == revision)
            #expect(status?["replicas"]?.intValue == 4 && status?["currentReplicas"]?.intValue == 4 && status?["updatedReplicas"]?.intValue == 4)
            #expect(status?["availableReplicas"]?.intValue == 4)
            let revisions = try await cluster.client.list(.controllerRevisions, namespace: "default").items
            #expect(revisions.map(\.name) == [revision])
            #expect(revisions.first?.int(at: ["revision"]) == 1)
            #expect(revisions.first?.value(at: ["data", "spec", "template", "$patch"])?.stringValue == "replace")
            #expect(revisions.first?.controllerRef?.uid == created.uid)
            #expect(try await cluster.events(about: "web", reason: "SuccessfulCreate").contains {
                $0.string(at: ["message"]) == "create Pod web-3 in StatefulSet web successful"
            })

            // Scaling down removes the highest ordinals first, one at a time.
            _ = try await cluster.client.patch(.statefulSets, namespace: "default", name: "web", Self.json(#"{"spec":{"replicas":1}}"#))
            try await wait("one pod left") { try await pods(cluster, "web").keys.sorted() == ["web-0"] }
            #expect(kubelet.deleted == ["web-3", "web-2", "web-1"])
            try await wait("status of 1") { try await set(cluster, "web").int(at: ["status", "replicas"]) == 1 }

            // A deleted pod comes back with the same name.
            let old = try #require(try await pods(cluster, "web")["web-0"])
            try await cluster.client.delete(.pods, namespace: "default", name: "web-0")
            try await wait("web-0 again") {
                let pod = try await pods(cluster, "web")["web-0"]
                return pod != nil && pod?.uid != old.uid
            }
        }
    }

    @Test func parallelMakesAllPodsAtOnce() async throws {
        try await withCluster { cluster, kubelet in
            kubelet.holdNewPods(true)
            _ = try await cluster.client.create(.statefulSets, namespace: "default", Self.object(Self.setJSON("db", policy: "Parallel")))
            try await wait("three pods though none is ready") { try await pods(cluster, "db").keys.sorted() == ["db-0", "db-1", "db-2"] }
            _ = try await cluster.client.patch(.statefulSets, namespace: "default", name: "db", Self.json(#"{"spec":{"replicas":0}}"#))
            try await wait("all gone though none was ready") { try await pods(cluster, "db").isEmpty }
        }
    }

    @Test func rollingUpdateWithPartitionThenAllAndBack() async throws {
        try await withCluster { cluster, kubelet in
            _ = try await cluster.client.create(.statefulSets, namespace: "default", Self.object(Self.setJSON("web")))
            try await wait("3 ready") { try await set(cluster, "web").int(at: ["status", "readyReplicas"]) == 3 }
            let first = try #require(try await set(cluster, "web").string(at: ["status", "currentRevision"]))

            _ = try await cluster.client.patch(.statefulSets, namespace: "default", name: "web", Self.json(
                #"{"spec":{"updateStrategy":{"rollingUpdate":{"partition":2}},"template":{"spec":{"containers":[{"name":"c","image":"busybox:2"}]}}}}"#))
            try await wait("web-2 updated") {
                let status = try await set(cluster, "web").value(at: ["status"])
                return status?["updatedReplicas"]?.intValue == 1 && status?["readyReplicas"]?.intValue == 3
            }
            var current = try await pods(cluster, "web")
            #expect(image(current["web-2"]) == "busybox:2")
            #expect(image(current["web-1"]) == "busybox" && image(current["web-0"]) == "busybox")
            let status = try await set(cluster, "web").value(at: ["status"])
            let second = try #require(status?["updateRevision"]?.stringValue)
            #expect(second != first)
            #expect(status?["currentRevision"]?.stringValue == first, "a partitioned rollout keeps the current revision")
            #expect(status?["currentReplicas"]?.intValue == 2)

            _ = try await cluster.client.patch(.statefulSets, namespace: "default", name: "web", Self.json(#"{"spec":{"updateStrategy":{"rollingUpdate":{"partition":0}}}}"#))
            try await wait("all updated") {
                let status = try await set(cluster, "web").value(at: ["status"])
                return status?["currentRevision"]?.stringValue == second && status?["readyReplicas"]?.intValue == 3
                    && status?["updatedReplicas"]?.intValue == 3
            }
            current = try await pods(cluster, "web")
            #expect(current.values.allSatisfy { image($0) == "busybox:2" && $0.labels["controller-revision-hash"] == second })
            #expect(kubelet.deleted == ["web-2", "web-1", "web-0"], "highest ordinal first")

            // Back to the first template: its revision is taken again and renumbered, no new one.
            _ = try await cluster.client.patch(.statefulSets, namespace: "default", name: "web", Self.json(
                #"{"spec":{"template":{"spec":{"containers":[{"name":"c","image":"busybox"}]}}}}"#))
            try await wait("back at the first revision") {
                let status = try await set(cluster, "web").value(at: ["status"])
                return status?["currentRevision"]?.stringValue == first && status?["updatedReplicas"]?.intValue == 3
                    && status?["readyReplicas"]?.intValue == 3
            }
            let revisions = try await cluster.client.list(.controllerRevisions, namespace: "default").items
            let numbers = Dictionary(uniqueKeysWithValues: revisions.map { ($0.name ?? "", $0.int(at: ["revision"])) })
            #expect(numbers == [first: 3, second: 2])
        }
    }

    @Test func onDeleteWaitsForTheUser() async throws {
        try await withCluster { cluster, _ in
            _ = try await cluster.client.create(.statefulSets, namespace: "default", Self.object(Self.setJSON("web", strategy: #"{"type":"OnDelete"}"#)))
            try await wait("3 ready") { try await set(cluster, "web").int(at: ["status", "readyReplicas"]) == 3 }
            _ = try await cluster.client.patch(.statefulSets, namespace: "default", name: "web", Self.json(
                #"{"spec":{"template":{"spec":{"containers":[{"name":"c","image":"busybox:2"}]}}}}"#))
            try await waitObserved(cluster, "web", generation: 2)
            #expect(try await pods(cluster, "web").values.allSatisfy { image($0) == "busybox" })
            try await cluster.client.delete(.pods, namespace: "default", name: "web-1")
            try await wait("web-1 made from the new template, and counted") {
                let status = try await set(cluster, "web").value(at: ["status"])
                return image(try await pods(cluster, "web")["web-1"]) == "busybox:2" && status?["updatedReplicas"]?.intValue == 1
                    && status?["readyReplicas"]?.intValue == 3
            }
            let status = try await set(cluster, "web").value(at: ["status"])
            #expect(status?["currentRevision"] != status?["updateRevision"])
            #expect(image(try await pods(cluster, "web")["web-0"]) == "busybox")
        }
    }

    /// Revisions no pod uses beyond revisionHistoryLimit are deleted; live ones stay.
    @Test func oldRevisionsBeyondTheLimitGo() async throws {
        try await withCluster { cluster, _ in
            let text = Self.setJSON("web", replicas: 2).replacingOccurrences(of: #""replicas":2,"#, with: #""replicas":2,"revisionHistoryLimit":1,"#)
            _ = try await cluster.client.create(.statefulSets, namespace: "default", Self.object(text))
            try await wait("2 ready") { try await set(cluster, "web").int(at: ["status", "readyReplicas"]) == 2 }
            for wanted in ["busybox:2", "busybox:3"] {
                _ = try await cluster.client.patch(.statefulSets, namespace: "default", name: "web", Self.json(
                    #"{"spec":{"template":{"spec":{"containers":[{"name":"c","image":"IMAGE"}]}}}}"#.replacingOccurrences(of: "IMAGE", with: wanted)))
                try await wait("\(wanted) rolled out") {
                    let status = try await set(cluster, "web").value(at: ["status"])
                    let first = image(try await pods(cluster, "web")["web-0"])
                    return status?["currentRevision"] == status?["updateRevision"] && status?["updatedReplicas"]?.intValue == 2
                        && status?["readyReplicas"]?.intValue == 2 && first == wanted
                }
            }
            // Three templates, limit 1: the live one and one more.
            try await wait("the oldest revision deleted") {
                let revisions = try await cluster.client.list(.controllerRevisions, namespace: "default").items
                return revisions.map { $0.int(at: ["revision"]) }.sorted() == [2, 3]
            }
        }
    }

    @Test func aFailedPodIsReplaced() async throws {
        try await withCluster { cluster, _ in
            _ = try await cluster.client.create(.statefulSets, namespace: "default", Self.object(Self.setJSON("web", replicas: 1)))
            try await wait("web-0 ready") { try await set(cluster, "web").int(at: ["status", "readyReplicas"]) == 1 }
            let old = try #require(try await pods(cluster, "web")["web-0"])
            _ = try await cluster.client.patch(.pods, namespace: "default", name: "web-0", Self.json(#"{"status":{"phase":"Failed"}}"#), subresource: "status")
            try await wait("a new web-0") {
                let pod = try await pods(cluster, "web")["web-0"]
                return pod != nil && pod?.uid != old.uid
            }
        }
    }

    /// volumeClaimTemplates: each pod gets the claim `<template>-<set>-<ordinal>` (labelled with
    /// the set's selector), made before it and kept when it is replaced; the retention policy
    /// makes the set (whenDeleted) or the scaled-down pod (whenScaled) the claims' owner.
    @Test func podsGetTheirOwnClaims() async throws {
        try await withCluster { cluster, _ in
            let json = Self.setJSON("db", replicas: 2, policy: "Parallel").replacingOccurrences(of: #""selector""#, with:
                #""volumeClaimTemplates":[{"metadata":{"name":"data","labels":{"tier":"disk"}},"spec":{"accessModes":["ReadWriteOnce"],"resources":{"requests":{"storage":"1Gi"}}}}],"persistentVolumeClaimRetentionPolicy":{"whenDeleted":"Delete","whenScaled":"Delete"},"selector""#)
            let created = try await cluster.client.create(.statefulSets, namespace: "default", Self.object(json))
            #expect(created.value(at: ["spec", "volumeClaimTemplates"])?.arrayValue?.first?["spec"]?["volumeMode"] == .string("Filesystem"))
            try await wait("two ready") { try await set(cluster, "db").int(at: ["status", "readyReplicas"]) == 2 }
            for ordinal in 0..<2 {
                let claim = try #require(try await cluster.client.get(.persistentVolumeClaims, namespace: "default", name: "data-db-\(ordinal)"))
                #expect(claim.labels == ["tier": "disk", "app": "db"])
                #expect(claim.value(at: ["metadata", "ownerReferences"])?.arrayValue?.map { $0["uid"]?.stringValue } == [created.uid])
                let pod = try #require(try await pods(cluster, "db")["db-\(ordinal)"])
                #expect(pod.value(at: ["spec", "volumes"])?.arrayValue?.first { $0["name"]?.stringValue == "data" }?["persistentVolumeClaim"]?["claimName"]
                        == .string("data-db-\(ordinal)"))
            }
            let events = try await cluster.events(about: "db", reason: "SuccessfulCreate")
            #expect(events.contains { $0.string(at: ["message"]) == "create Claim data-db-0 Pod db-0 in StatefulSet db success" })

            // whenScaled: Delete: db-1's claim is given to db-1 before it goes.
            let pod1 = try #require(try await pods(cluster, "db")["db-1"])
            _ = try await cluster.client.patch(.statefulSets, namespace: "default", name: "db", Self.json(#"{"spec":{"replicas":1}}"#))
            let owned = try await eventually({ try await cluster.client.get(.persistentVolumeClaims, namespace: "default", name: "data-db-1") }) { claim in
                claim == nil || (claim?.value(at: ["metadata", "ownerReferences"])?.arrayValue ?? []).contains { $0["uid"]?.stringValue == pod1.uid }
            }
            #expect(owned == nil || (owned?.value(at: ["metadata", "ownerReferences"])?.arrayValue ?? []).contains { $0["kind"]?.stringValue == "Pod" })
        }
    }

    @Test func rejectsBadStatefulSets() async throws {
        try await withTestAPI { api in
            func message(_ text: String) async throws -> String? {
                do {
                    _ = try await api.client.create(.statefulSets, namespace: "default", Self.object(text))
                    return nil
                } catch let error as APIError {
                    return error.message
                }
            }
            _ = try await api.client.create(.statefulSets, namespace: "default", Self.object(Self.setJSON("ok")))
            let claims = Self.setJSON("c").replacingOccurrences(of: #""selector""#, with:
                #""volumeClaimTemplates":[{"metadata":{"name":"data"},"spec":{"accessModes":["ReadWriteOnce"]}}],"selector""#)
            #expect(try await message(claims) == #"StatefulSet.apps "c" is invalid: spec.volumeClaimTemplates[0].spec.resources[storage]: Required value"#)
            #expect(try await message(Self.setJSON("p", policy: "Sometimes"))?
                .contains(#"spec.podManagementPolicy: Invalid value: "Sometimes": must be 'OrderedReady' or 'Parallel'"#) == true)
            #expect(try await message(Self.setJSON("s", strategy: #"{"type":"RollingUpdate","rollingUpdate":{"partition":-1}}"#))?
                .contains("spec.updateStrategy.rollingUpdate.partition: Invalid value: -1: must be greater than or equal to 0") == true)
            #expect(try await message(Self.setJSON("o", strategy: #"{"type":"OnDelete","rollingUpdate":{"partition":1}}"#))?
                .contains("spec.updateStrategy.rollingUpdate: Invalid value") == true)
            #expect(try await message(Self.setJSON("Upper")) != nil, "names are DNS labels")
            let never = Self.setJSON("n").replacingOccurrences(of: #""containers""#, with: #""restartPolicy":"Never","containers""#)
            #expect(try await message(never)?.contains(#"spec.template.spec.restartPolicy: Unsupported value: "Never""#) == true)
            do {
                _ = try await api.client.patch(.statefulSets, namespace: "default", name: "ok", Self.json(#"{"spec":{"serviceName":"other"}}"#))
                Issue.record("serviceName changed")
            } catch let error as APIError {
                #expect(error.message.contains("spec: Forbidden: updates to statefulset spec for fields other than 'replicas'"), "\(error.message)")
            }
        }
    }
}
