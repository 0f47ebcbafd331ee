import Foundation
import Testing
import TestSupport

/// Issue 17's storage with a real agent: a claim of the default class (`local-path`) gets a
/// directory on the node its first pod was scheduled to, which keeps its data for the next pod;
/// a hand-made hostPath volume is mounted read-only where the pod asks; a pod bound by hand to a
/// node with an unbound claim waits with kubelet's FailedMount message and starts once the
/// claim is bound.
extension ClusterTests {
    @Test func claimsKeepTheirDataAcrossPods() async throws {
        let cluster = try ClusterHarness()
        defer { cluster.cleanUp() }
        let storage = cluster.root.path + "/storage"
        let server = try await cluster.addHost("server")
        let node = try await cluster.addHost("node-a")
        try await cluster.startServer(server, ["--disable-agent", "--default-local-storage-path", storage])
        // --sync-frequency: how often the agent also looks for local-path directories to remove.
        try cluster.startAgent(node, ["--sync-frequency", "2"])

        func pod(_ name: String, claim: String, command: String, readOnly: Bool = false, nodeName: String? = nil) -> String {
            """
            apiVersion: v1
            kind: Pod
            metadata: {name: \(name)}
            spec:
              \(nodeName.map { "nodeName: \($0)" } ?? "terminationGracePeriodSeconds: 1")
              containers:
              - name: app
                image: busybox
                command: ["sh", "-c", "\(command)"]
                volumeMounts: [{name: data, mountPath: /data}]
              volumes:
              - name: data
                persistentVolumeClaim: {claimName: \(claim), readOnly: \(readOnly)}
            """
        }
        func apply(_ name: String, _ manifest: String) async throws {
            try cluster.writeManifest(name, manifest)
            try await cluster.kubectlOK(["apply", "-f", cluster.manifestPath(name)])
        }
        func logs(_ pod: String, contain text: String) async -> Bool {
            await TestProcess.waitFor(90) { await cluster.query(["logs", pod]).contains(text) }
        }

        // The default class's claim waits for its first pod, then is provisioned on its node.
        try await apply("claim.yaml", """
            apiVersion: v1
            kind: PersistentVolumeClaim
            metadata: {name: data}
            spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 64Mi}}}
            """)
        let pending = await cluster.query(["get", "pvc", "data", "-o", "jsonpath={.spec.storageClassName} {.status.phase}"])
        #expect(pending == "local-path Pending")
        try await apply("writer.yaml", pod("writer", claim: "data", command: "echo hello >> /data/log; cat /data/log; exec sleep 3600"))
        let wrote = await logs("writer", contain: "hello")
        let writerState = wrote ? "" : await cluster.query(["describe", "pod", "writer"])
        #expect(wrote, "\(writerState)\n\(node.log.suffix(3000))")
        guard wrote else { return }
        let uid = await cluster.query(["get", "pvc", "data", "-o", "jsonpath={.metadata.uid}"])
        let pv = await cluster.query(["get", "pvc", "data", "-o", "jsonpath={.status.phase} {.spec.volumeName}"])
        #expect(pv == "Bound pvc-\(uid)")
        let directory = storage + "/pvc-\(uid)_default_data"
        #expect((try? String(contentsOfFile: directory + "/log", encoding: .utf8)) == "hello\n")
        let mode = (try? FileManager.default.attributesOfItem(atPath: directory)[.posixPermissions] as? Int) ?? 0
        #expect(mode == 0o777, "\(String(mode, radix: 8))")
        let columns = await cluster.query(["get", "pv", "pvc-\(uid)", "--no-headers"])
        #expect(columns.split(separator: " ").prefix(7).map(String.init) == ["pvc-\(uid)", "64Mi", "RWO", "Delete", "Bound", "default/data", "local-path"],
                "\(columns)")

        // The next pod on the claim finds what the first wrote.
        try await cluster.kubectlOK(["delete", "pod", "writer"])
        try await apply("reader.yaml", pod("reader", claim: "data", command: "echo again >> /data/log; cat /data/log; exec sleep 3600"))
        let read = await logs("reader", contain: "hello\nagain")
        let readerLogs = await cluster.query(["logs", "reader"])
        #expect(read, "\(readerLogs)")

        // The claim goes with its last pod: the Delete policy removes the volume, and the agent
        // its directory.
        try await cluster.kubectlOK(["delete", "pod", "reader"])
        try await cluster.kubectlOK(["delete", "pvc", "data"])
        let removed = await TestProcess.waitFor(60) { !FileManager.default.fileExists(atPath: directory) }
        let volumes = await cluster.query(["get", "pv"])
        #expect(removed, "\(volumes)\n\(node.log.suffix(2000))")

        // A hand-made hostPath volume, mounted read-only by the pod's claim volume.
        let exported = cluster.root.path + "/exported"
        try FileManager.default.createDirectory(atPath: exported, withIntermediateDirectories: true)
        try "shared\n".write(toFile: exported + "/file", atomically: true, encoding: .utf8)
        try await apply("static.yaml", """
            apiVersion: v1
            kind: PersistentVolume
            metadata: {name: exported}
            spec:
              capacity: {storage: 1Gi}
              accessModes: [ReadOnlyMany]
              storageClassName: manual
              hostPath: {path: \(exported), type: Directory}
            ---
            apiVersion: v1
            kind: PersistentVolumeClaim
            metadata: {name: shared}
            spec: {storageClassName: manual, accessModes: [ReadOnlyMany], resources: {requests: {storage: 1Gi}}}
            """)
        try await apply("viewer.yaml", pod("viewer", claim: "shared", command: "cat /data/file; touch /data/new || echo read-only; exec sleep 3600",
                                           readOnly: true))
        let viewed = await logs("viewer", contain: "shared\n")
        let refusedWrite = await logs("viewer", contain: "read-only")
        let viewer = await cluster.query(["describe", "pod", "viewer"]) + (await cluster.query(["logs", "viewer"]))
        #expect(viewed && refusedWrite, "\(viewer)")
        #expect(!FileManager.default.fileExists(atPath: exported + "/new"))

        // Bound by hand to the node before its claim is: the agent waits and says why.
        try await apply("late.yaml", """
            apiVersion: v1
            kind: PersistentVolumeClaim
            metadata: {name: late}
            spec: {storageClassName: later, accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}
            """)
        try await apply("early.yaml", pod("early", claim: "late", command: "echo started; exec sleep 3600", nodeName: "node-a"))
        let waiting = await TestProcess.waitFor(60) {
            await cluster.query(["get", "events", "--field-selector", "involvedObject.name=early,reason=FailedMount", "-o", "jsonpath={.items[*].message}"])
                .contains("error processing PVC default/late: PVC is not bound")
        }
        let earlyState = await cluster.query(["describe", "pod", "early"])
        #expect(waiting, "\(earlyState)")
        let creating = await cluster.query(["get", "pod", "early", "-o", "jsonpath={.status.containerStatuses[0].state.waiting.reason}"])
        #expect(creating == "ContainerCreating")
        let lateDirectory = cluster.root.path + "/late"
        try await apply("late-volume.yaml", """
            apiVersion: v1
            kind: PersistentVolume
            metadata: {name: late}
            spec:
              capacity: {storage: 1Gi}
              accessModes: [ReadWriteOnce]
              storageClassName: later
              hostPath: {path: \(lateDirectory), type: DirectoryOrCreate}
            """)
        let started = await logs("early", contain: "started")
        let earlyLater = started ? "" : await cluster.query(["describe", "pod", "early"])
        #expect(started, "\(earlyLater)\n\(node.log.suffix(3000))")
        #expect(FileManager.default.fileExists(atPath: lateDirectory))
    }
}
