@testable import APIMachinery
import APITestSupport
@testable import ControllerRuntime
@testable import Controllers
@testable import Scheduler
import Foundation
import KubeAPI
import ServerTestSupport
import Testing
import TestSupport

/// ReplicationControllers and PodTemplates with real kubectl (1.32, 1.27, Debian's 1.20)
/// against the served API and the whole controller manager (scheduler, replication
/// controller, garbage collector); a loop plays the node's kubelet. `create -f`, `get rc`
/// (and `-o wide`), `scale rc` up and down, `describe rc`, `get all`, `delete rc` removing
/// the pods, `expose rc`, server-side apply of an RC, PodTemplates' `create -f` and `get`, and
/// what the server refuses.
@Suite(.requires(Kubectl.isInstalled, "needs kubectl"))
struct ReplicationControllerKubectlTests {
    static let manifest = """
        apiVersion: v1
        kind: ReplicationController
        metadata: {name: web}
        spec:
          replicas: 2
          selector: {app: web}
          template:
            metadata: {labels: {app: web}}
            spec: {containers: [{name: c, image: busybox}]}
        """

    static let podTemplate = """
        apiVersion: v1
        kind: PodTemplate
        metadata: {name: tpl}
        template:
          metadata: {labels: {app: web, tier: front}}
          spec: {containers: [{name: c, image: busybox}, {name: d, image: nginx}]}
        """

    /// The RC's active pods, by owner reference.
    private func ownedPods(_ cluster: ControllerTestCluster, _ rc: String = "web") async throws -> [KubeObject] {
        try await cluster.client.list(.pods, namespace: "default").items.filter {
            $0.deletionTimestamp == nil && $0.controllerRef?.kind == "ReplicationController" && $0.controllerRef?.name == rc
        }
    }

    private func wait(_ what: String, _ condition: @Sendable () async throws -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            if try await condition() { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw TestFailure("timed out waiting for \(what)")
    }

    private func exercise(_ binary: String, strictValidation: Bool) async throws {
        try await withServedControllerCluster { cluster in
            try await withFakeKubelets(client: cluster.client) {
                try await cluster.addNode("n1")
                let kubectl = try cluster.kubectl(binary)
                let created = try await kubectl("create", "-f", "-", input: Self.manifest)
                #expect(created.stdout == "replicationcontroller/web created\n", "\(created.stderr)")
                try await wait("2 ready replicas") {
                    try await cluster.client.get(.replicationControllers, namespace: "default", name: "web")?
                        .value(at: ["status", "readyReplicas"])?.intValue == 2
                }
                let rc = try #require(try await cluster.client.get(.replicationControllers, namespace: "default", name: "web"))
                for pod in try await ownedPods(cluster) {
                    #expect(pod.controllerRef?.uid == rc.uid)
                    #expect(pod.controllerRef?.apiVersion == "v1")
                }

                let rows = tableRows(try await kubectl("get", "rc").stdout)
                #expect(rows.first == ["NAME", "DESIRED", "CURRENT", "READY", "AGE"], "\(rows)")
                #expect(rows.dropFirst().first?.prefix(4) == ["web", "2", "2", "2"], "\(rows)")
                let wide = tableRows(try await kubectl("get", "replicationcontroller", "web", "-o", "wide").stdout)
                #expect(wide.first == ["NAME", "DESIRED", "CURRENT", "READY", "AGE", "CONTAINERS", "IMAGES", "SELECTOR"], "\(wide)")
                #expect(wide.dropFirst().first?.suffix(3) == ["c", "busybox", "app=web"], "\(wide)")

                let up = try await kubectl("scale", "rc", "web", "--replicas=4")
                #expect(up.stdout == "replicationcontroller/web scaled\n", "\(up.stderr)")
                try await wait("4 pods") { try await ownedPods(cluster).count == 4 }
                let down = try await kubectl("scale", "rc/web", "--replicas=1")
                #expect(down.stdout == "replicationcontroller/web scaled\n", "\(down.stderr)")
                try await wait("1 pod") { try await ownedPods(cluster).count == 1 }
                try await wait("status of 1 ready replica") {
                    let status = try await cluster.client.get(.replicationControllers, namespace: "default", name: "web")?.value(at: ["status"])
                    return status?["replicas"]?.intValue == 1 && status?["readyReplicas"]?.intValue == 1
                }

                let describe = try await kubectl("describe", "rc", "web")
                #expect(describe.status == 0, "\(describe.stderr)")
                let described = tableRows(describe.stdout)
                #expect(described.contains(["Selector:", "app=web"]), "\(describe.stdout)")
                #expect(described.contains(["Replicas:", "1", "current", "/", "1", "desired"]), "\(describe.stdout)")
                #expect(described.contains(["Pods", "Status:", "1", "Running", "/", "0", "Waiting", "/", "0", "Succeeded", "/", "0", "Failed"]),
                        "\(describe.stdout)")
                #expect(describe.stdout.contains("SuccessfulCreate"), "\(describe.stdout)")

                let explained = try await kubectl("explain", "rc.spec.selector")
                #expect(explained.stdout.contains("Selector is a label query over pods"), "\(explained.stdout) \(explained.stderr)")

                let all = try await kubectl("get", "all")
                #expect(all.stdout.contains("replicationcontroller/web"), "\(all.stdout) \(all.stderr)")

                // Refused by the server, with Kubernetes' messages.
                let mismatch = try await kubectl("create", "-f", "-", input: Self.manifest.replacingOccurrences(of: "name: web}", with: "name: bad}")
                    .replacingOccurrences(of: "selector: {app: web}", with: "selector: {app: other}"))
                #expect(mismatch.status != 0)
                #expect(mismatch.stderr.contains(#"The ReplicationController "bad" is invalid: spec.template.metadata.labels: Invalid value: map[string]string{"app":"web"}: `selector` does not match template `labels`"#),
                        "\(mismatch.stderr)")
                let negative = try await kubectl("create", "-f", "-", input: Self.manifest.replacingOccurrences(of: "name: web}", with: "name: neg}")
                    .replacingOccurrences(of: "replicas: 2", with: "replicas: -2"))
                #expect(negative.status != 0)
                #expect(negative.stderr.contains("spec.replicas: Invalid value: -2: must be greater than or equal to 0"), "\(negative.stderr)")
                let huge = try await kubectl("scale", "rc", "web", "--replicas=3000000000")
                #expect(huge.status != 0)
                #expect(huge.stderr.contains("cannot unmarshal number 3000000000 into Go struct field ScaleSpec.spec.replicas of type int32"), "\(huge.stderr)")
                let unknown = Self.manifest.replacingOccurrences(of: "name: web}", with: "name: typo}").replacingOccurrences(of: "replicas: 2", with: "replicass: 2")
                let typo = strictValidation
                    ? try await kubectl("create", "--validate=strict", "-f", "-", input: unknown)
                    : try await kubectl("create", "--validate=true", "-f", "-", input: unknown)
                #expect(typo.status != 0)
                #expect(typo.stderr.contains("replicass"), "\(typo.stderr)")
                #expect(try await cluster.client.list(.replicationControllers, namespace: "default").items.compactMap(\.name) == ["web"])

                // `expose` reads the RC's map selector (kubectl's MapBasedSelectorForObject).
                let exposed = try await kubectl("expose", "rc", "web", "--port=80")
                #expect(exposed.stdout == "service/web exposed\n", "\(exposed.stderr)")
                let service = try await cluster.client.get(.services, namespace: "default", name: "web")
                #expect(service?.value(at: ["spec", "selector"]) == .object(["app": .string("web")]))

                if strictValidation {
                    // Server-side apply of an RC (kubectl 1.27 and later).
                    let applied = try await kubectl("apply", "--server-side", "-f", "-",
                                                    input: Self.manifest.replacingOccurrences(of: "name: web}", with: "name: ssa}"))
                    #expect(applied.stdout == "replicationcontroller/ssa serverside-applied\n", "\(applied.stderr)")
                    let scaled = try await kubectl("apply", "--server-side", "-f", "-",
                                                   input: Self.manifest.replacingOccurrences(of: "name: web}", with: "name: ssa}")
                                                       .replacingOccurrences(of: "replicas: 2", with: "replicas: 0"))
                    #expect(scaled.stdout == "replicationcontroller/ssa serverside-applied\n", "\(scaled.stderr)")
                    let ssa = try await cluster.client.get(.replicationControllers, namespace: "default", name: "ssa")
                    #expect(ssa?.value(at: ["spec", "replicas"])?.intValue == 0)
                    #expect(ssa?.metadata["managedFields"]?.arrayValue?.first?["manager"]?.stringValue == "kubectl")
                    _ = try await kubectl("delete", "rc", "ssa")
                }

                // Deleting the RC deletes its pods (the garbage collector, background propagation).
                let deleted = try await kubectl("delete", "rc", "web")
                #expect(deleted.stdout == "replicationcontroller \"web\" deleted\n", "\(deleted.stderr)")
                try await wait("the pods collected") {
                    try await cluster.client.list(.pods, namespace: "default").items.filter { $0.labels["app"] == "web" }.isEmpty
                }

                let template = try await kubectl("create", "-f", "-", input: Self.podTemplate)
                #expect(template.stdout == "podtemplate/tpl created\n", "\(template.stderr)")
                let templates = tableRows(try await kubectl("get", "podtemplates").stdout)
                #expect(templates == [["TEMPLATE", "CONTAINERS", "IMAGES", "POD", "LABELS"], ["tpl", "c,d", "busybox,nginx", "app=web,tier=front"]],
                        "\(templates)")
                let stored = try #require(try await cluster.client.get(.podTemplates, namespace: "default", name: "tpl"))
                #expect(stored.string(at: ["template", "spec", "restartPolicy"]) == "Always")
            }
        }
    }

    /// `kubectl apply --prune -l` (1.32): kubectl maps every kind of its default allowlist
    /// (pkg/cmd/apply/prune.go: PersistentVolumeClaim and PersistentVolume among them) before
    /// pruning; with every kind served, the labelled objects the file no longer has are pruned,
    /// ReplicationControllers and claims included.
    @Test func applyPruneWithTheDefaultKinds() async throws {
        try await withServedControllerCluster { cluster in
            let kubectl = try cluster.kubectl()
            let configMap = """
                apiVersion: v1
                kind: ConfigMap
                metadata: {name: settings, labels: {app: x}}
                data: {k: v}
                """
            let rc = """
                apiVersion: v1
                kind: ReplicationController
                metadata: {name: old, labels: {app: x}}
                spec:
                  replicas: 0
                  template:
                    metadata: {labels: {app: old}}
                    spec: {containers: [{name: c, image: busybox}]}
                """
            let claim = """
                apiVersion: v1
                kind: PersistentVolumeClaim
                metadata: {name: scratch, labels: {app: x}}
                spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}
                """
            let all = try await kubectl("apply", "-f", "-", input: configMap + "\n---\n" + rc + "\n---\n" + claim)
            #expect(all.stdout == "configmap/settings created\nreplicationcontroller/old created\npersistentvolumeclaim/scratch created\n", "\(all.stderr)")

            let pruned = try await kubectl("apply", "-l", "app=x", "--prune", "-f", "-", input: configMap)
            #expect(pruned.status == 0, "\(pruned.stderr)")
            #expect(pruned.stdout == "configmap/settings unchanged\npersistentvolumeclaim/scratch pruned\nreplicationcontroller/old pruned\n", "\(pruned.stdout)")
            #expect(try await cluster.client.get(.replicationControllers, namespace: "default", name: "old") == nil)
            // The claim is gone once the pvc-protection controller sees no pod using it.
            let claimGone = try await eventually({ try await cluster.client.get(.persistentVolumeClaims, namespace: "default", name: "scratch") }) { $0 == nil }
            #expect(claimGone == nil)
        }
    }

    @Test func kubectl132() async throws {
        try await exercise(Kubectl.defaultBinary, strictValidation: true)
    }

    @Test func kubectl127() async throws {
        try await exercise(Kubectl.binary127, strictValidation: true)
    }

    @Test func kubectl120() async throws {
        try await exercise(try await Kubectl.binary120(), strictValidation: false)
    }
}
