@testable import APIMachinery
@testable import APIRegistry
import APITestSupport
@testable import ControllerRuntime
@testable import Controllers
@testable import Scheduler
import Foundation
import KubeAPI
import Testing

/// The DaemonSet controller with the whole controller manager (the scheduler binds the pods)
/// over the in-process API. A small loop plays the nodes' kubelets: bound pods become Running
/// and Ready, pods marked for deletion are removed.
@Suite struct DaemonSetControllerTests {
    static func daemonSetJSON(_ name: String, image: String = "busybox", nodeSelector: String = "", tolerations: String = "") -> String {
        """
        {"apiVersion":"apps/v1","kind":"DaemonSet","metadata":{"name":"\(name)"},
         "spec":{"selector":{"matchLabels":{"app":"\(name)"}},"template":{"metadata":{"labels":{"app":"\(name)"}},
           "spec":{\(nodeSelector.isEmpty ? "" : "\"nodeSelector\":{\(nodeSelector)},")\(tolerations.isEmpty ? "" : "\"tolerations\":[\(tolerations)],")
             "containers":[{"name":"c","image":"\(image)"}]}}}}
        """
    }

    static func object(_ text: String) throws -> KubeObject {
        guard case .object(let fields) = try JSONParser.parse(Array(text.utf8)) else { throw TestFailure("not an object: \(text)") }
        return KubeObject(fields: fields)
    }

    func withKubelets<T: Sendable>(_ cluster: ControllerTestCluster, _ body: @Sendable () async throws -> T) async throws -> T {
        try await withFakeKubelets(client: cluster.client, body)
    }

    /// Active pods of `app` by node (unbound ones under "").
    func podsByNode(_ cluster: ControllerTestCluster, _ app: String) async throws -> [String: [KubeObject]] {
        let pods = try await cluster.client.list(.pods, namespace: "default", labelSelector: LabelSelector(parsing: "app=\(app)")).items
        return Dictionary(grouping: pods.filter { $0.deletionTimestamp == nil }) { $0.string(at: ["spec", "nodeName"]) ?? "" }
    }

    func wait(_ what: String, _ condition: @Sendable () async throws -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            if try await condition() { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw TestFailure("timed out waiting for \(what)")
    }

    @Test func runsOnePodPerNodeAsNodesComeAndGo() async throws {
        try await withControllerCluster { cluster in
            try await withKubelets(cluster) {
                for name in ["n1", "n2"] { try await cluster.addNode(name) }
                try await cluster.addNode("tainted", taints: [NodeTaint(key: "dedicated", value: "db", effect: "NoSchedule")])
                let daemonSet = try await cluster.client.create(.daemonSets, namespace: "default", Self.object(Self.daemonSetJSON("agent")))
                try await wait("a pod on n1 and n2") {
                    let pods = try await podsByNode(cluster, "agent")
                    return pods["n1"]?.count == 1 && pods["n2"]?.count == 1 && pods.count == 2
                }
                let pod = try #require(try await podsByNode(cluster, "agent")["n1"]?.first)
                #expect(pod.controllerRef?.uid == daemonSet.uid)
                #expect(pod.labels["controller-revision-hash"] != nil)
                let tolerations = pod.value(at: ["spec", "tolerations"])?.arrayValue ?? []
                #expect(tolerations.contains { $0["key"]?.stringValue == "node.kubernetes.io/unreachable" && $0["effect"]?.stringValue == "NoExecute" })
                #expect(tolerations.contains { $0["key"]?.stringValue == "node.kubernetes.io/unschedulable" && $0["effect"]?.stringValue == "NoSchedule" })
                let affinity = pod.value(at: ["spec", "affinity", "nodeAffinity", "requiredDuringSchedulingIgnoredDuringExecution", "nodeSelectorTerms"])
                #expect(affinity?.arrayValue?.first?["matchFields"]?.arrayValue?.first?["values"] == .array([.string("n1")]))

                try await wait("status of 2 ready") {
                    let status = try await cluster.client.get(.daemonSets, namespace: "default", name: "agent")?.value(at: ["status"])
                    return status?["numberReady"]?.intValue == 2 && status?["numberAvailable"]?.intValue == 2
                }
                let status = try await cluster.client.get(.daemonSets, namespace: "default", name: "agent")?.value(at: ["status"])
                #expect(status?["desiredNumberScheduled"]?.intValue == 2)
                #expect(status?["currentNumberScheduled"]?.intValue == 2)
                #expect(status?["updatedNumberScheduled"]?.intValue == 2)
                #expect(status?["numberMisscheduled"]?.intValue == 0)
                #expect(status?["observedGeneration"]?.intValue == 1)

                // A tolerating DaemonSet does run on the tainted node.
                _ = try await cluster.client.create(.daemonSets, namespace: "default", Self.object(Self.daemonSetJSON(
                    "db", tolerations: #"{"key":"dedicated","operator":"Equal","value":"db","effect":"NoSchedule"}"#)))
                try await wait("db pods on all three nodes") { try await podsByNode(cluster, "db").keys.sorted() == ["n1", "n2", "tainted"] }

                // A new node gets its pod; a deleted node's pod goes (pod GC), nothing replaces it.
                try await cluster.addNode("n3")
                try await wait("a pod on n3") { try await podsByNode(cluster, "agent")["n3"]?.count == 1 }
                try await cluster.client.delete(.nodes, namespace: nil, name: "n2")
                try await wait("n2's pod gone") { try await podsByNode(cluster, "agent").keys.sorted() == ["n1", "n3"] }
                try await wait("desired 2") {
                    try await cluster.client.get(.daemonSets, namespace: "default", name: "agent")?.int(at: ["status", "desiredNumberScheduled"]) == 2
                }

                // A deleted daemon pod is replaced on its node.
                let victim = try #require(try await podsByNode(cluster, "agent")["n1"]?.first)
                try await cluster.client.delete(.pods, namespace: "default", name: victim.name ?? "", gracePeriodSeconds: 0)
                try await wait("a new pod on n1") {
                    let pods = try await podsByNode(cluster, "agent")["n1"] ?? []
                    return pods.count == 1 && pods.first?.uid != victim.uid
                }
            }
        }
    }

    @Test func followsTheNodeSelector() async throws {
        try await withControllerCluster { cluster in
            try await withKubelets(cluster) {
                try await cluster.addNode("edge-1", labels: ["role": "edge"])
                try await cluster.addNode("core-1")
                _ = try await cluster.client.create(.daemonSets, namespace: "default", Self.object(Self.daemonSetJSON("proxy", nodeSelector: #""role":"edge""#)))
                try await wait("a pod on edge-1 only") { try await podsByNode(cluster, "proxy").keys.sorted() == ["edge-1"] }
                _ = try await cluster.client.patch(.nodes, namespace: nil, name: "core-1", JSONParser.parse(Array(#"{"metadata":{"labels":{"role":"edge"}}}"#.utf8)))
                try await wait("a pod on core-1 once labelled") { try await podsByNode(cluster, "proxy").keys.sorted() == ["core-1", "edge-1"] }
                _ = try await cluster.client.patch(.nodes, namespace: nil, name: "edge-1", JSONParser.parse(Array(#"{"metadata":{"labels":{"role":null}}}"#.utf8)))
                try await wait("edge-1's pod removed once unlabelled") { try await podsByNode(cluster, "proxy").keys.sorted() == ["core-1"] }
            }
        }
    }

    /// RollingUpdate with maxUnavailable 1: never more than one node without an available pod.
    @Test func rollsANewTemplateOutNodeByNode() async throws {
        try await withControllerCluster { cluster in
            try await withKubelets(cluster) {
                for name in ["n1", "n2", "n3"] { try await cluster.addNode(name) }
                _ = try await cluster.client.create(.daemonSets, namespace: "default", Self.object(Self.daemonSetJSON("agent")))
                try await wait("3 available") {
                    try await cluster.client.get(.daemonSets, namespace: "default", name: "agent")?.int(at: ["status", "numberAvailable"]) == 3
                }
                _ = try await cluster.client.patch(.daemonSets, namespace: "default", name: "agent", JSONParser.parse(Array(
                    #"{"spec":{"template":{"spec":{"containers":[{"name":"c","image":"busybox:2"}]}}}}"#.utf8)))
                var fewestAvailable = 3
                let deadline = ContinuousClock.now + .seconds(40)
                while ContinuousClock.now < deadline {
                    let pods = try await podsByNode(cluster, "agent").values.flatMap { $0 }
                    let available = pods.filter(ReplicaSetPods.isReady).count
                    fewestAvailable = min(fewestAvailable, available)
                    let images = pods.compactMap { $0.value(at: ["spec", "containers"])?.arrayValue?.first?["image"]?.stringValue }
                    let status = try await cluster.client.get(.daemonSets, namespace: "default", name: "agent")?.value(at: ["status"])
                    if images == ["busybox:2", "busybox:2", "busybox:2"], available == 3, status?["updatedNumberScheduled"]?.intValue == 3,
                       status?["numberAvailable"]?.intValue == 3, status?["observedGeneration"]?.intValue == 2 { break }
                    try await Task.sleep(for: .milliseconds(20))
                }
                let pods = try await podsByNode(cluster, "agent")
                #expect(pods.keys.sorted() == ["n1", "n2", "n3"])
                #expect(pods.values.flatMap { $0 }.allSatisfy { $0.value(at: ["spec", "containers"])?.arrayValue?.first?["image"]?.stringValue == "busybox:2" })
                #expect(fewestAvailable >= 2, "maxUnavailable 1 of 3 nodes")
            }
        }
    }

    /// Templates are kept as ControllerRevisions named `<ds>-<hash>` (the pods' hash label),
    /// numbered in the order taken; an old template taken again is renumbered, not copied.
    @Test func keepsTemplateRevisions() async throws {
        try await withControllerCluster { cluster in
            try await withKubelets(cluster) {
                try await cluster.addNode("n1")
                let daemonSet = try await cluster.client.create(.daemonSets, namespace: "default", Self.object(Self.daemonSetJSON("agent")))
                @Sendable func revisions() async throws -> [String: Int64] {
                    let items = try await cluster.client.list(.controllerRevisions, namespace: "default").items
                    return Dictionary(uniqueKeysWithValues: items.map { ($0.name ?? "", $0.int(at: ["revision"])) })
                }
                @Sendable func podHash() async throws -> String? {
                    try await podsByNode(cluster, "agent")["n1"]?.first?.labels["controller-revision-hash"]
                }
                try await wait("a pod and a revision") {
                    let count = try await revisions().count
                    return try await podHash() != nil && count == 1
                }
                let first = try #require(try await podHash())
                #expect(try await revisions() == ["agent-\(first)": 1])
                let revision = try #require(try await cluster.client.get(.controllerRevisions, namespace: "default", name: "agent-\(first)"))
                #expect(revision.controllerRef?.uid == daemonSet.uid)
                #expect(revision.labels["controller-revision-hash"] == first)
                #expect(revision.value(at: ["data", "spec", "template", "$patch"])?.stringValue == "replace")

                let image = #"{"spec":{"template":{"spec":{"containers":[{"name":"c","image":"IMAGE"}]}}}}"#
                _ = try await cluster.client.patch(.daemonSets, namespace: "default", name: "agent",
                                                   JSONParser.parse(Array(image.replacingOccurrences(of: "IMAGE", with: "busybox:2").utf8)))
                try await wait("the new template on n1") { try await podHash().map { $0 != first } ?? false }
                let second = try #require(try await podHash())
                #expect(try await revisions() == ["agent-\(first)": 1, "agent-\(second)": 2])

                _ = try await cluster.client.patch(.daemonSets, namespace: "default", name: "agent",
                                                   JSONParser.parse(Array(image.replacingOccurrences(of: "IMAGE", with: "busybox").utf8)))
                try await wait("back at the first template") { try await podHash() == first }
                try await wait("the first revision renumbered") { try await revisions() == ["agent-\(first)": 3, "agent-\(second)": 2] }
            }
        }
    }

    @Test func rejectsBadDaemonSets() async throws {
        try await withTestAPI { api in
            func message(_ text: String) async throws -> String? {
                do {
                    _ = try await api.client.create(.daemonSets, namespace: "default", Self.object(text))
                    return nil
                } catch let error as APIError {
                    return error.message
                }
            }
            let created = try await api.client.create(.daemonSets, namespace: "default", Self.object(Self.daemonSetJSON("ok")))
            #expect(created.string(at: ["spec", "updateStrategy", "type"]) == "RollingUpdate")
            #expect(created.value(at: ["spec", "updateStrategy", "rollingUpdate", "maxUnavailable"])?.intValue == 1)
            #expect(created.value(at: ["spec", "revisionHistoryLimit"])?.intValue == 10)
            let mismatch = Self.daemonSetJSON("m").replacingOccurrences(of: #""labels":{"app":"m"}"#, with: #""labels":{"app":"other"}"#)
            #expect(try await message(mismatch)?.contains("spec.template.metadata.labels: Invalid value") == true)
            let never = Self.daemonSetJSON("n").replacingOccurrences(of: #""containers""#, with: #""restartPolicy":"Never","containers""#)
            #expect(try await message(never)?.contains(#"spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: "Always""#) == true)
            let strategy = Self.daemonSetJSON("s").replacingOccurrences(of: #""selector""#, with: #""updateStrategy":{"type":"Sometimes"},"selector""#)
            #expect(try await message(strategy)?.contains(#"spec.updateStrategy.type: Unsupported value: "Sometimes": supported values: "OnDelete", "RollingUpdate""#) == true)
            let zero = Self.daemonSetJSON("z").replacingOccurrences(of: #""selector""#, with: #""updateStrategy":{"type":"RollingUpdate","rollingUpdate":{"maxUnavailable":0}},"selector""#)
            #expect(try await message(zero)?.contains("spec.updateStrategy.rollingUpdate.maxUnavailable: Invalid value: 0: may not be 0 when `maxSurge` is 0") == true)
            do {
                _ = try await api.client.patch(.daemonSets, namespace: "default", name: "ok", JSONParser.parse(Array(#"{"spec":{"selector":{"matchLabels":{"app":"x"}}}}"#.utf8)))
                Issue.record("the selector changed")
            } catch let error as APIError {
                #expect(error.message.contains("field is immutable"))
            }
        }
    }
}
