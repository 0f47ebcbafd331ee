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

/// Issue 17: PersistentVolumes, PersistentVolumeClaims and StorageClasses as real kubectl
/// (1.32, 1.27, Debian's 1.20) drives them: `get sc` showing the built-in `local-path` class as
/// the default, a hand-made volume and a claim bound by the persistentvolume-binder with
/// kubectl's columns, `describe`, `explain`, the claim released on deletion; then bad input
/// refused with kube-apiserver's messages while what was stored stays: a volume without a source
/// or capacity, two sources, a `..` path, a local volume without node affinity, a claim of zero
/// bytes, a changed claim spec, a grown claim of a class without expansion, a changed class.
@Suite(.requires(Kubectl.isInstalled, "needs kubectl"))
struct StorageKubectlTests {
    static let volume = """
        apiVersion: v1
        kind: PersistentVolume
        metadata: {name: pv-one, labels: {tier: disk}}
        spec:
          capacity: {storage: 2Gi}
          accessModes: [ReadWriteOnce, ReadOnlyMany]
          storageClassName: manual
          hostPath: {path: /srv/pv-one, type: DirectoryOrCreate}
        """
    static let claim = """
        apiVersion: v1
        kind: PersistentVolumeClaim
        metadata: {name: data}
        spec:
          storageClassName: manual
          accessModes: [ReadWriteOnce]
          resources: {requests: {storage: 1Gi}}
        """

    private func exercise(_ binary: String, explains: Bool = true) async throws {
        try await withServedControllerCluster { cluster in
            let kubectl = try cluster.kubectl(binary)
            let classes = tableRows(try await kubectl("get", "sc").stdout)
            #expect(classes.first == ["NAME", "PROVISIONER", "RECLAIMPOLICY", "VOLUMEBINDINGMODE", "ALLOWVOLUMEEXPANSION", "AGE"], "\(classes)")
            #expect(classes.dropFirst().first?.prefix(6) == ["local-path", "(default)", "rancher.io/local-path", "Delete", "WaitForFirstConsumer", "false"],
                    "\(classes)")

            let created = try await kubectl("apply", "-f", "-", input: Self.volume + "\n---\n" + Self.claim)
            #expect(created.stdout == "persistentvolume/pv-one created\npersistentvolumeclaim/data created\n", "\(created.stderr)")
            let bound = try await eventually({ try await kubectl("get", "pvc", "data", "-o", "jsonpath={.status.phase}").stdout }) { $0 == "Bound" }
            #expect(bound == "Bound")
            let volumes = tableRows(try await kubectl("get", "pv", "-o", "wide").stdout)
            #expect(volumes.first == ["NAME", "CAPACITY", "ACCESS", "MODES", "RECLAIM", "POLICY", "STATUS", "CLAIM", "STORAGECLASS",
                                      "VOLUMEATTRIBUTESCLASS", "REASON", "AGE", "VOLUMEMODE"] || binary != Kubectl.defaultBinary, "\(volumes)")
            let volumeRow = try #require(volumes.first { $0.first == "pv-one" })
            #expect(Array(volumeRow.prefix(7)) == ["pv-one", "2Gi", "RWO,ROX", "Retain", "Bound", "default/data", "manual"], "\(volumeRow)")
            #expect(volumeRow.last == "Filesystem", "\(volumeRow)")
            let claims = tableRows(try await kubectl("get", "pvc").stdout)
            #expect(claims.first == ["NAME", "STATUS", "VOLUME", "CAPACITY", "ACCESS", "MODES", "STORAGECLASS", "VOLUMEATTRIBUTESCLASS", "AGE"],
                    "\(claims)")
            #expect(claims.dropFirst().first.map { Array($0.prefix(7)) } == ["data", "Bound", "pv-one", "2Gi", "RWO,ROX", "manual", "<unset>"],
                    "\(claims)")

            let describe = try await kubectl("describe", "pvc", "data")
            #expect(describe.status == 0, "\(describe.stderr)")
            let lines = tableRows(describe.stdout)
            #expect(lines.contains(["Status:", "Bound"]) && lines.contains(["Volume:", "pv-one"]), "\(describe.stdout)")
            #expect(lines.contains(["Finalizers:", "[kubernetes.io/pvc-protection]"]), "\(describe.stdout)")
            #expect(lines.contains(["StorageClass:", "manual"]), "\(describe.stdout)")
            if explains {
                let explain = try await kubectl("explain", "pv.spec.hostPath")
                #expect(explain.status == 0, "\(explain.stderr)")
                #expect(explain.stdout.contains("hostPath represents a directory on the host."), "\(explain.stdout)")
            }

            // Bad input: each refused with upstream's message, nothing stored changes.
            func refused(_ manifest: String, _ message: String) async throws {
                let result = try await kubectl("apply", "-f", "-", input: manifest)
                #expect(result.status != 0, "\(manifest)")
                #expect(result.stderr.contains(message), "\(result.stderr)")
            }
            let noSource = "apiVersion: v1\nkind: PersistentVolume\nmetadata: {name: bare}\nspec: {accessModes: [ReadWriteOnce]}\n"
            // kubectl lists several causes one per line.
            try await refused(noSource, "The PersistentVolume \"bare\" is invalid: \n* spec.capacity: Required value\n"
                              + "* spec.capacity: Unsupported value: map[]: supported values: \"storage\"\n* spec: Required value: must specify a volume type\n")
            try await refused(Self.volume.replacingOccurrences(of: "pv-one", with: "two").replacingOccurrences(of: "storageClassName: manual", with: "storageClassName: manual\n  nfs: {server: nas, path: /export}"),
                              #"spec.nfs: Forbidden: may not specify more than 1 volume type"#)
            try await refused(Self.volume.replacingOccurrences(of: "pv-one", with: "up").replacingOccurrences(of: "/srv/up", with: "/srv/../etc"),
                              #"spec.hostPath.path: Invalid value: "/srv/../etc": must not contain '..'"#)
            let local = "apiVersion: v1\nkind: PersistentVolume\nmetadata: {name: disk}\nspec: {capacity: {storage: 1Gi}, accessModes: [ReadWriteOnce], local: {path: /mnt/disk}}\n"
            try await refused(local, #"spec.nodeAffinity: Required value: Local volume requires node affinity"#)
            try await refused(Self.claim.replacingOccurrences(of: "name: data", with: "name: empty").replacingOccurrences(of: "storage: 1Gi", with: "storage: 0"),
                              #"spec.resources[storage]: Invalid value: "0": must be greater than zero"#)
            try await refused(Self.claim.replacingOccurrences(of: "[ReadWriteOnce]", with: "[ReadWriteOncePod, ReadWriteMany]").replacingOccurrences(of: "name: data", with: "name: mixed"),
                              #"spec.accessModes: Forbidden: may not use ReadWriteOncePod with other access modes"#)
            try await refused(Self.claim.replacingOccurrences(of: "[ReadWriteOnce]", with: "[ReadWriteOnce, ReadOnlyMany]"),
                              #"spec: Forbidden: spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims"#)
            try await refused(Self.claim.replacingOccurrences(of: "storage: 1Gi", with: "storage: 5Gi"),
                              #"persistentvolumeclaims "data" is forbidden: only dynamically provisioned pvc can be resized and the storageclass that provisions the pvc must support resize"#)
            let changedClass = "apiVersion: storage.k8s.io/v1\nkind: StorageClass\nmetadata: {name: local-path}\nprovisioner: example.com/other\n"
            try await refused(changedClass, #"provisioner: Forbidden: updates to provisioner are forbidden."#)
            let badClass = "apiVersion: storage.k8s.io/v1\nkind: StorageClass\nmetadata: {name: odd}\nprovisioner: example.com/disk\nreclaimPolicy: Recycle\nvolumeBindingMode: Later\n"
            try await refused(badClass, "* reclaimPolicy: Unsupported value: \"Recycle\": supported values: \"Delete\", \"Retain\"\n"
                              + "* volumeBindingMode: Unsupported value: \"Later\": supported values: \"Immediate\", \"WaitForFirstConsumer\"\n")
            #expect(try await kubectl("get", "pvc", "data", "-o", "jsonpath={.status.phase} {.spec.resources.requests.storage}").stdout == "Bound 1Gi")

            // The claim goes: the Retain volume stays, Released.
            let deleted = try await kubectl("delete", "pvc", "data")
            #expect(deleted.stdout == "persistentvolumeclaim \"data\" deleted\n", "\(deleted.stderr)")
            let released = try await eventually({ try await kubectl("get", "pv", "pv-one", "-o", "jsonpath={.status.phase}").stdout }) { $0 == "Released" }
            #expect(released == "Released")
        }
    }

    @Test func kubectl132() async throws {
        try await exercise(Kubectl.defaultBinary)
    }

    @Test func kubectl127() async throws {
        try await exercise(Kubectl.binary127)
    }

    @Test func kubectl120() async throws {
        try await exercise(try await Kubectl.binary120())
    }
}
