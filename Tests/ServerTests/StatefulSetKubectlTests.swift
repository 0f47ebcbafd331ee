@testable import APIMachinery
@testable import APIRegistry
import APITestSupport
import Foundation
import KubeAPI
import ServerTestSupport
import Testing

/// Real kubectl (the 1.32 dispatcher) driving StatefulSets and DaemonSets through the whole
/// controller manager: `get sts` and `get controllerrevisions` columns, `scale`, and
/// `rollout status/history/undo/restart` as kubectl drives them (ControllerRevisions listed
/// by the set's selector, undo as a strategic merge patch of the revision's data).
@Suite struct StatefulSetKubectlTests {
    static let manifest = """
        apiVersion: v1
        kind: Service
        metadata: {name: web}
        spec:
          clusterIP: None
          selector: {app: web}
          ports: [{port: 80}]
        ---
        apiVersion: apps/v1
        kind: StatefulSet
        metadata: {name: web}
        spec:
          serviceName: web
          replicas: 2
          selector: {matchLabels: {app: web}}
          template:
            metadata: {labels: {app: web}}
            spec: {containers: [{name: c, image: busybox}]}
        """

    func withServedControllers(_ body: @Sendable (Kubectl, ControllerTestCluster) async throws -> Void) async throws {
        try await withTestServer { server in
            try await withControllers(on: server.api) { cluster in
                try await withFakeKubelets(client: cluster.client) {
                    try await cluster.addNode("n1")
                    try await body(try Kubectl(api: server.api), cluster)
                }
            }
        }
    }

    func images(_ cluster: ControllerTestCluster, _ selector: String) async throws -> [String: String] {
        let pods = try await cluster.client.list(.pods, namespace: "default", labelSelector: LabelSelector(parsing: selector)).items
        return Dictionary(pods.filter { $0.deletionTimestamp == nil }.map {
            ($0.name ?? "", $0.value(at: ["spec", "containers"])?.arrayValue?.first?["image"]?.stringValue ?? "")
        }) { a, _ in a }
    }

    func wait(_ what: String, _ condition: @Sendable () async throws -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            if try await condition() { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw TestFailure("timed out waiting for \(what)")
    }

    @Test func statefulSetWithKubectl() async throws {
        try await withServedControllers { kubectl, cluster in
            let applied = try await kubectl("apply", "-f", "-", input: Self.manifest)
            #expect(applied.stdout == "service/web created\nstatefulset.apps/web created\n", "\(applied.stderr)")
            let status = try await kubectl("rollout", "status", "sts/web", "--timeout=60s")
            // The API defaults rollingUpdate.partition to 0, so kubectl reports a partitioned rollout.
            #expect(status.stdout.hasSuffix("partitioned roll out complete: 2 new pods have been updated...\n"), "\(status.stdout) \(status.stderr)")
            let rows = tableRows(try await kubectl("get", "sts").stdout)
            #expect(rows.first == ["NAME", "READY", "AGE"], "\(rows)")
            #expect(rows.dropFirst().first?.prefix(2) == ["web", "2/2"], "\(rows)")
            let wide = tableRows(try await kubectl("get", "statefulset", "web", "-o", "wide").stdout)
            #expect(wide.first == ["NAME", "READY", "AGE", "CONTAINERS", "IMAGES"], "\(wide)")
            #expect(try await images(cluster, "app=web").keys.sorted() == ["web-0", "web-1"])

            // The headless Service's endpoints carry the pods' hostnames (what cluster DNS serves).
            try await wait("hostnames in the EndpointSlice") {
                let slices = try await cluster.client.list(.endpointSlices, namespace: "default",
                                                           labelSelector: LabelSelector(parsing: "kubernetes.io/service-name=web")).items
                let hostnames = slices.flatMap { $0.fields["endpoints"]?.arrayValue ?? [] }.compactMap { $0["hostname"]?.stringValue }
                return hostnames.sorted() == ["web-0", "web-1"]
            }

            let scaled = try await kubectl("scale", "sts", "web", "--replicas=3")
            #expect(scaled.stdout == "statefulset.apps/web scaled\n", "\(scaled.stderr)")
            _ = try await kubectl("rollout", "status", "sts/web", "--timeout=60s")
            try await wait("web-2") { try await images(cluster, "app=web").count == 3 }

            let setImage = try await kubectl("set", "image", "sts/web", "c=busybox:2")
            #expect(setImage.stdout == "statefulset.apps/web image updated\n", "\(setImage.stderr)")
            let updated = try await kubectl("rollout", "status", "sts/web", "--timeout=60s")
            #expect(updated.stdout.hasSuffix("partitioned roll out complete: 3 new pods have been updated...\n"), "\(updated.stdout) \(updated.stderr)")
            #expect(try await images(cluster, "app=web").values.allSatisfy { $0 == "busybox:2" })

            let history = try await kubectl("rollout", "history", "sts/web")
            #expect(tableRows(history.stdout).dropFirst().map { $0.first ?? "" } == ["REVISION", "1", "2"], "\(history.stdout) \(history.stderr)")
            let revisionOne = try await kubectl("rollout", "history", "sts/web", "--revision=1")
            #expect(revisionOne.stdout.contains("Image:\tbusybox\n") || revisionOne.stdout.contains("busybox\n"), "\(revisionOne.stdout) \(revisionOne.stderr)")
            #expect(!revisionOne.stdout.contains("busybox:2"), "\(revisionOne.stdout)")
            let revisions = tableRows(try await kubectl("get", "controllerrevisions").stdout)
            #expect(revisions.first == ["NAME", "CONTROLLER", "REVISION", "AGE"], "\(revisions)")
            let controllers: [String] = revisions.dropFirst().map { row in row.count > 2 ? row[1] + " " + row[2] : "" }.sorted()
            #expect(controllers == ["statefulset.apps/web 1", "statefulset.apps/web 2"], "\(revisions)")

            let undo = try await kubectl("rollout", "undo", "sts/web")
            #expect(undo.stdout == "statefulset.apps/web rolled back\n", "\(undo.stderr)")
            _ = try await kubectl("rollout", "status", "sts/web", "--timeout=60s")
            try await wait("busybox again") { try await images(cluster, "app=web").values.allSatisfy { $0 == "busybox" } }
            let afterUndo = try await kubectl("rollout", "history", "sts/web")
            #expect(tableRows(afterUndo.stdout).dropFirst().map { $0.first ?? "" } == ["REVISION", "2", "3"], "\(afterUndo.stdout)")
            let toMissing = try await kubectl("rollout", "undo", "sts/web", "--to-revision=9")
            #expect(toMissing.stderr.contains("unable to find specified revision 9 in history"), "\(toMissing.stderr)")

            let before = try await cluster.client.list(.pods, namespace: "default", labelSelector: LabelSelector(parsing: "app=web")).items.compactMap(\.uid)
            let restart = try await kubectl("rollout", "restart", "sts/web")
            #expect(restart.stdout == "statefulset.apps/web restarted\n", "\(restart.stderr)")
            let restarted = try await kubectl("rollout", "status", "sts/web", "--timeout=60s")
            #expect(restarted.stdout.hasSuffix("partitioned roll out complete: 3 new pods have been updated...\n"), "\(restarted.stdout) \(restarted.stderr)")
            try await wait("every pod replaced") {
                let pods = try await cluster.client.list(.pods, namespace: "default", labelSelector: LabelSelector(parsing: "app=web")).items
                return pods.count == 3 && pods.allSatisfy { !before.contains($0.uid ?? "") && $0.annotations["kubectl.kubernetes.io/restartedAt"] != nil }
            }

            let onDelete = try await kubectl("patch", "sts", "web", "-p", #"{"spec":{"updateStrategy":{"type":"OnDelete","rollingUpdate":null}}}"#)
            #expect(onDelete.status == 0, "\(onDelete.stderr)")
            let refused = try await kubectl("rollout", "status", "sts/web", "--timeout=10s")
            #expect(refused.stderr.contains("rollout status is only available for RollingUpdate strategy type"), "\(refused.stderr)")

            let describe = try await kubectl("describe", "sts", "web")
            #expect(describe.stdout.contains("Pods Status:") && describe.stdout.contains("create Pod web-0 in StatefulSet web successful"),
                    "\(describe.stdout) \(describe.stderr)")
            let all = try await kubectl("get", "all", "-o", "name")
            #expect(all.stdout.contains("statefulset.apps/web\n"), "\(all.stdout) \(all.stderr)")

            // Deleting the StatefulSet takes its pods and revisions along (garbage collector).
            let deleted = try await kubectl("delete", "sts", "web")
            #expect(deleted.stdout == "statefulset.apps \"web\" deleted\n", "\(deleted.stderr)")
            try await wait("pods and revisions collected") {
                let pods = try await cluster.client.list(.pods, namespace: "default", labelSelector: LabelSelector(parsing: "app=web")).items
                let revisions = try await cluster.client.list(.controllerRevisions, namespace: "default").items
                return pods.isEmpty && revisions.isEmpty
            }

            let claims = Self.manifest.replacingOccurrences(of: "name: web}\nspec:\n  serviceName", with: "name: db}\nspec:\n  serviceName")
                .replacingOccurrences(of: "  replicas: 2\n", with: "  replicas: 2\n  volumeClaimTemplates: [{metadata: {name: data}, spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}}]\n")
            // Claim templates: each pod gets its own claim, made before it.
            let withClaims = try await kubectl("apply", "-f", "-", input: claims)
            #expect(withClaims.stdout.contains("statefulset.apps/db created\n"), "\(withClaims.stdout) \(withClaims.stderr)")
            try await wait("claims made") {
                try await kubectl("get", "pvc", "-o", "name").stdout.contains("persistentvolumeclaim/data-db-0\n")
            }
            let pod = try await kubectl("get", "pod", "db-0", "-o", "jsonpath={.spec.volumes[?(@.name==\"data\")].persistentVolumeClaim.claimName}")
            #expect(pod.stdout == "data-db-0", "\(pod.stderr)")
        }
    }

    @Test func daemonSetRolloutWithKubectl() async throws {
        try await withServedControllers { kubectl, cluster in
            try await cluster.addNode("n2")
            let manifest = """
                apiVersion: apps/v1
                kind: DaemonSet
                metadata: {name: agent}
                spec:
                  selector: {matchLabels: {app: agent}}
                  template:
                    metadata: {labels: {app: agent}}
                    spec: {containers: [{name: c, image: busybox}]}
                """
            _ = try await kubectl("apply", "-f", "-", input: manifest)
            _ = try await kubectl("rollout", "status", "ds/agent", "--timeout=60s")
            let setImage = try await kubectl("set", "image", "ds/agent", "c=busybox:2")
            #expect(setImage.stdout == "daemonset.apps/agent image updated\n", "\(setImage.stderr)")
            let status = try await kubectl("rollout", "status", "ds/agent", "--timeout=60s")
            #expect(status.stdout.hasSuffix("daemon set \"agent\" successfully rolled out\n"), "\(status.stdout) \(status.stderr)")
            try await wait("busybox:2 on both nodes") {
                let images = try await images(cluster, "app=agent")
                return images.count == 2 && images.values.allSatisfy { $0 == "busybox:2" }
            }

            let history = try await kubectl("rollout", "history", "ds/agent")
            #expect(tableRows(history.stdout).dropFirst().map { $0.first ?? "" } == ["REVISION", "1", "2"], "\(history.stdout) \(history.stderr)")
            let undo = try await kubectl("rollout", "undo", "ds/agent")
            #expect(undo.stdout == "daemonset.apps/agent rolled back\n", "\(undo.stderr)")
            _ = try await kubectl("rollout", "status", "ds/agent", "--timeout=60s")
            try await wait("busybox again on both nodes") {
                let images = try await images(cluster, "app=agent")
                return images.count == 2 && images.values.allSatisfy { $0 == "busybox" }
            }
            let afterUndo = try await kubectl("rollout", "history", "ds/agent")
            #expect(tableRows(afterUndo.stdout).dropFirst().map { $0.first ?? "" } == ["REVISION", "2", "3"], "\(afterUndo.stdout)")

            let before = try await cluster.client.list(.pods, namespace: "default", labelSelector: LabelSelector(parsing: "app=agent")).items.compactMap(\.uid)
            let restart = try await kubectl("rollout", "restart", "ds/agent")
            #expect(restart.stdout == "daemonset.apps/agent restarted\n", "\(restart.stderr)")
            let restarted = try await kubectl("rollout", "status", "ds/agent", "--timeout=60s")
            #expect(restarted.stdout.hasSuffix("daemon set \"agent\" successfully rolled out\n"), "\(restarted.stdout) \(restarted.stderr)")
            try await wait("both pods replaced") {
                let pods = try await cluster.client.list(.pods, namespace: "default", labelSelector: LabelSelector(parsing: "app=agent")).items
                    .filter { $0.deletionTimestamp == nil }
                return pods.count == 2 && pods.allSatisfy { !before.contains($0.uid ?? "") }
            }
        }
    }
}
