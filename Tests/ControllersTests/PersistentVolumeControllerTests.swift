@testable import APIMachinery
import APITestSupport
@testable import ControllerRuntime
@testable import Controllers
@testable import Scheduler
import Foundation
import KubeAPI
import Testing

/// Issue 17's storage: the volume matcher on its own, then the whole controller manager (the
/// persistentvolume-binder, the local-path provisioner, the protection controllers and the
/// scheduler's volume binding) over the real API: static binding, release and reclaim, the
/// default class, WaitForFirstConsumer provisioning on the node the scheduler chose, claims a
/// running pod keeps from deletion, and the scheduler's messages for claims it cannot serve.
@Suite struct PersistentVolumeControllerTests {
    static func object(_ text: String) throws -> KubeObject {
        guard case .object(let fields) = try JSONParser.parse(Array(text.utf8)) else { throw TestFailure("not an object: \(text)") }
        return KubeObject(fields: fields)
    }

    static func volume(_ name: String, size: String, modes: [String] = ["ReadWriteOnce"], className: String = "manual",
                       phase: String = "Available", labels: String = "{}", extra: String = "") throws -> KubeObject {
        let modeList = modes.map { "\"\($0)\"" }.joined(separator: ",")
        return try object(#"{"metadata":{"name":"\#(name)","labels":\#(labels)},"spec":{"capacity":{"storage":"\#(size)"},"accessModes":[\#(modeList)],"storageClassName":"\#(className)","hostPath":{"path":"/tmp/\#(name)"}\#(extra)},"status":{"phase":"\#(phase)"}}"#)
    }

    static func claim(_ name: String, size: String, modes: [String] = ["ReadWriteOnce"], className: String? = "manual",
                      extra: String = "") throws -> KubeObject {
        let modeList = modes.map { "\"\($0)\"" }.joined(separator: ",")
        let classField = className.map { #","storageClassName":"\#($0)""# } ?? ""
        return try object(#"{"metadata":{"name":"\#(name)","namespace":"default","uid":"uid-\#(name)"},"spec":{"accessModes":[\#(modeList)],"resources":{"requests":{"storage":"\#(size)"}}\#(classField)\#(extra)}}"#)
    }

    @Test func matcherPicksTheSmallestFittingVolumeWithTheFewestModes() throws {
        let claim = try Self.claim("data", size: "1Gi")
        let volumes = [
            try Self.volume("big", size: "10Gi"),
            try Self.volume("small", size: "500Mi"),
            try Self.volume("fits", size: "2Gi"),
            try Self.volume("wide", size: "1Gi", modes: ["ReadWriteOnce", "ReadWriteMany"]),
            try Self.volume("other-class", size: "1Gi", className: "fast"),
            try Self.volume("released", size: "1Gi", phase: "Released"),
        ]
        // RWO-only volumes are tried before RWO+RWX ones; among them the smallest that fits.
        #expect(VolumeMatcher.bestMatch(for: claim, in: volumes)?.name == "fits")
        // Asking for RWX leaves only the wide one.
        #expect(VolumeMatcher.bestMatch(for: try Self.claim("rwx", size: "1Gi", modes: ["ReadWriteMany"]), in: volumes)?.name == "wide")
        // A selector filters by the volume's labels; a class must match exactly ("" is no class).
        let labelled = try Self.volume("labelled", size: "5Gi", labels: #"{"tier":"gold"}"#)
        let selecting = try Self.claim("gold", size: "1Gi", extra: #","selector":{"matchLabels":{"tier":"gold"}}"#)
        #expect(VolumeMatcher.bestMatch(for: selecting, in: volumes + [labelled])?.name == "labelled")
        #expect(VolumeMatcher.bestMatch(for: try Self.claim("none", size: "1Gi", className: ""), in: volumes) == nil)
        // A volume pre-bound to the claim wins over a better fit, whatever its phase.
        let reserved = try Self.volume("reserved", size: "10Gi", phase: "Pending",
                                       extra: #","claimRef":{"namespace":"default","name":"data"}"#)
        #expect(VolumeMatcher.bestMatch(for: claim, in: volumes + [reserved])?.name == "reserved")
        // Too small for a pre-bound volume too; bound to another claim: never.
        #expect(VolumeMatcher.bestMatch(for: try Self.claim("data", size: "20Gi"), in: [reserved]) == nil)
        let taken = try Self.volume("taken", size: "1Gi", extra: #","claimRef":{"namespace":"default","name":"else","uid":"x"}"#)
        #expect(VolumeMatcher.bestMatch(for: claim, in: [taken]) == nil)
        // Delayed binding: nothing without a node; with one, its node affinity must admit it.
        let pinned = try Self.volume("pinned", size: "1Gi", extra: #","nodeAffinity":{"required":{"nodeSelectorTerms":[{"matchExpressions":[{"key":"kubernetes.io/hostname","operator":"In","values":["a"]}]}]}}"#)
        let nodeA = try Self.object(#"{"metadata":{"name":"a","labels":{"kubernetes.io/hostname":"a"}}}"#)
        let nodeB = try Self.object(#"{"metadata":{"name":"b","labels":{"kubernetes.io/hostname":"b"}}}"#)
        #expect(VolumeMatcher.bestMatch(for: claim, in: [pinned], delayBinding: true) == nil)
        #expect(VolumeMatcher.bestMatch(for: claim, in: [pinned], delayBinding: true, node: nodeA)?.name == "pinned")
        #expect(VolumeMatcher.bestMatch(for: claim, in: [pinned], delayBinding: true, node: nodeB) == nil)
        #expect(VolumeMatcher.mismatch(try Self.volume("tiny", size: "1Mi"), for: claim) == "requested PV is too small")
    }

    @Test func staticVolumesBindReleaseAndAreReclaimed() async throws {
        try await withControllerCluster { cluster in
            let client = cluster.client
            _ = try await client.create(.persistentVolumes, namespace: nil, try Self.volume("pv-keep", size: "1Gi"))
            _ = try await client.create(.persistentVolumes, namespace: nil,
                                        try Self.volume("pv-drop", size: "5Gi", extra: #","persistentVolumeReclaimPolicy":"Delete""#))
            // A new volume is Pending with the protection finalizer, then Available.
            let available = try await eventually({ try await client.get(.persistentVolumes, namespace: nil, name: "pv-keep") }) { $0?.phase == "Available" }
            #expect(available?.finalizers == ["kubernetes.io/pv-protection"])
            #expect(available?.string(at: ["status", "lastPhaseTransitionTime"]) != nil)

            var claim = try Self.claim("data", size: "1Gi")
            claim.set(nil, at: ["metadata", "uid"])
            _ = try await client.create(.persistentVolumeClaims, namespace: "default", claim)
            let bound = try await eventually({ try await client.get(.persistentVolumeClaims, namespace: "default", name: "data") }) { $0?.phase == "Bound" }
            #expect(bound?.string(at: ["spec", "volumeName"]) == "pv-keep")
            #expect(bound?.annotations["pv.kubernetes.io/bind-completed"] == "yes")
            #expect(bound?.annotations["pv.kubernetes.io/bound-by-controller"] == "yes")
            #expect(bound?.value(at: ["status", "capacity", "storage"]) == .string("1Gi"))
            #expect(bound?.value(at: ["status", "accessModes"]) == .array([.string("ReadWriteOnce")]))
            #expect(bound?.finalizers == ["kubernetes.io/pvc-protection"])
            let volume = try await eventually({ try await client.get(.persistentVolumes, namespace: nil, name: "pv-keep") }) { $0?.phase == "Bound" }
            #expect(volume?.claimRef?.name == "data" && volume?.claimRef?.uid == bound?.uid)

            // The claim goes (no pod uses it): Retain leaves the volume Released.
            _ = try await client.delete(.persistentVolumeClaims, namespace: "default", name: "data")
            let gone = try await eventually({ try await client.get(.persistentVolumeClaims, namespace: "default", name: "data") }) { $0 == nil }
            #expect(gone == nil)
            let released = try await eventually({ try await client.get(.persistentVolumes, namespace: nil, name: "pv-keep") }) { $0?.phase == "Released" }
            #expect(released?.phase == "Released")

            // A claim naming the Delete volume: bound, then on deletion the volume fails to be
            // deleted (no deleter plugin here for a hand-made hostPath volume).
            var named = try Self.claim("named", size: "1Gi", extra: #","volumeName":"pv-drop""#)
            named.set(nil, at: ["metadata", "uid"])
            _ = try await client.create(.persistentVolumeClaims, namespace: "default", named)
            let namedBound = try await eventually({ try await client.get(.persistentVolumeClaims, namespace: "default", name: "named") }) { $0?.phase == "Bound" }
            #expect(namedBound?.annotations["pv.kubernetes.io/bound-by-controller"] == nil)
            _ = try await client.delete(.persistentVolumeClaims, namespace: "default", name: "named")
            let failed = try await eventually({ try await client.get(.persistentVolumes, namespace: nil, name: "pv-drop") }) { $0?.phase == "Failed" }
            #expect(failed?.string(at: ["status", "message"]) == "error getting deleter volume plugin for volume \"pv-drop\": no deletable volume plugin matched")
            let events = try await eventually({ try await client.list(.events, namespace: "default").items }) { events in
                events.contains { $0.string(at: ["reason"]) == "VolumeFailedDelete" }
            }
            #expect(events.contains { $0.string(at: ["involvedObject", "name"]) == "pv-drop" && $0.string(at: ["reason"]) == "VolumeFailedDelete" })

            // A released volume being deleted loses its finalizer and goes.
            _ = try await client.delete(.persistentVolumes, namespace: nil, name: "pv-keep")
            let deleted = try await eventually({ try await client.get(.persistentVolumes, namespace: nil, name: "pv-keep") }) { $0 == nil }
            #expect(deleted == nil)
        }
    }

    @Test func claimsWithoutVolumesWaitAndSayWhy() async throws {
        try await withControllerCluster { cluster in
            let client = cluster.client
            // No class and no volume: FailedBinding.
            var plain = try Self.claim("plain", size: "1Gi", className: "")
            plain.set(nil, at: ["metadata", "uid"])
            _ = try await client.create(.persistentVolumeClaims, namespace: "default", plain)
            let failed = try await eventually({ try await cluster.events(about: "plain", reason: "FailedBinding") }) { !$0.isEmpty }
            #expect(failed.first?.string(at: ["message"]) == "no persistent volumes available for this claim and no storage class is set")
            // No class named: the default class (local-path, WaitForFirstConsumer) is chosen.
            var defaulted = try Self.claim("defaulted", size: "1Gi", className: nil)
            defaulted.set(nil, at: ["metadata", "uid"])
            let created = try await client.create(.persistentVolumeClaims, namespace: "default", defaulted)
            #expect(created.string(at: ["spec", "storageClassName"]) == "local-path")
            let waiting = try await eventually({ try await cluster.events(about: "defaulted", reason: "WaitForFirstConsumer") }) { !$0.isEmpty }
            #expect(waiting.first?.string(at: ["message"]) == "waiting for first consumer to be created before binding")
            #expect(try await client.get(.persistentVolumeClaims, namespace: "default", name: "defaulted")?.phase == "Pending")
        }
    }

    @Test func firstConsumerGetsALocalPathVolumeOnItsNode() async throws {
        try await withControllerCluster { cluster in
            let client = cluster.client
            _ = try await cluster.addNode("node-a")
            _ = try await cluster.addNode("node-b")
            var claim = try Self.claim("data", size: "2Gi", className: "local-path")
            claim.set(nil, at: ["metadata", "uid"])
            let created = try await client.create(.persistentVolumeClaims, namespace: "default", claim)
            let uid = try #require(created.uid)
            var pod = try Self.object(#"{"metadata":{"name":"app","namespace":"default"},"spec":{"containers":[{"name":"app","image":"busybox"}],"volumes":[{"name":"data","persistentVolumeClaim":{"claimName":"data"}}]}}"#)
            pod = try await client.create(.pods, namespace: "default", pod)
            let scheduled = try await eventually({ try await cluster.pod("app") }) { !($0?.string(at: ["spec", "nodeName"]) ?? "").isEmpty }
            let node = try #require(scheduled?.string(at: ["spec", "nodeName"]))
            let bound = try await eventually({ try await client.get(.persistentVolumeClaims, namespace: "default", name: "data") }) { $0?.phase == "Bound" }
            #expect(bound?.annotations["volume.kubernetes.io/selected-node"] == node)
            #expect(bound?.annotations["volume.kubernetes.io/storage-provisioner"] == "rancher.io/local-path")
            #expect(bound?.string(at: ["spec", "volumeName"]) == "pvc-\(uid)")
            let volume = try #require(try await client.get(.persistentVolumes, namespace: nil, name: "pvc-\(uid)"))
            #expect(volume.string(at: ["spec", "local", "path"]) == "/var/lib/swiftlet/storage/pvc-\(uid)_default_data")
            #expect(volume.annotations["pv.kubernetes.io/provisioned-by"] == "rancher.io/local-path")
            #expect(volume.value(at: ["spec", "nodeAffinity", "required", "nodeSelectorTerms"])
                    == .array([.object(["matchExpressions": .array([.object(["key": .string("kubernetes.io/hostname"), "operator": .string("In"),
                                                                              "values": .array([.string(node)])])])])]))
            #expect(volume.string(at: ["spec", "persistentVolumeReclaimPolicy"]) == "Delete")
            #expect(volume.value(at: ["spec", "capacity", "storage"]) == .string("2Gi"))
            let succeeded = try await cluster.events(about: "data", reason: "ProvisioningSucceeded")
            #expect(succeeded.first?.string(at: ["message"]) == "Successfully provisioned volume pvc-\(uid)")

            // A second pod with the claim goes to the volume's node (its node affinity).
            let other = node == "node-a" ? "node-b" : "node-a"
            var second = try Self.object(#"{"metadata":{"name":"second","namespace":"default"},"spec":{"containers":[{"name":"app","image":"busybox"}],"volumes":[{"name":"data","persistentVolumeClaim":{"claimName":"data"}}],"affinity":{"nodeAffinity":{"preferredDuringSchedulingIgnoredDuringExecution":[{"weight":1,"preference":{"matchExpressions":[{"key":"kubernetes.io/hostname","operator":"In","values":["\#(other)"]}]}}]}}}}"#)
            second = try await client.create(.pods, namespace: "default", second)
            let placed = try await eventually({ try await cluster.pod("second") }) { !($0?.string(at: ["spec", "nodeName"]) ?? "").isEmpty }
            #expect(placed?.string(at: ["spec", "nodeName"]) == node)

            // In use: deleting the claim leaves it Terminating until its pods are gone; then the
            // Delete policy removes the provisioned volume.
            _ = try await client.delete(.persistentVolumeClaims, namespace: "default", name: "data")
            try await Task.sleep(for: .milliseconds(500))
            let terminating = try await client.get(.persistentVolumeClaims, namespace: "default", name: "data")
            #expect(terminating?.deletionTimestamp != nil && terminating?.finalizers == ["kubernetes.io/pvc-protection"])
            for name in ["app", "second"] {
                _ = try await client.delete(.pods, namespace: "default", name: name, gracePeriodSeconds: 0)
            }
            let gone = try await eventually({ try await client.get(.persistentVolumeClaims, namespace: "default", name: "data") }) { $0 == nil }
            #expect(gone == nil)
            let volumeGone = try await eventually({ try await client.get(.persistentVolumes, namespace: nil, name: "pvc-\(uid)") }) { $0 == nil }
            #expect(volumeGone == nil)
        }
    }

    /// ResourceQuota's pvcEvaluator: claims count, with their storage, in all and per class.
    @Test func claimsCountAgainstQuota() async throws {
        try await withControllerCluster { cluster in
            let client = cluster.client
            let quota = try Self.object(#"{"metadata":{"name":"q","namespace":"default"},"spec":{"hard":{"persistentvolumeclaims":"2","requests.storage":"3Gi","manual.storageclass.storage.k8s.io/requests.storage":"1Gi"}}}"#)
            _ = try await client.create(.resourceQuotas, namespace: "default", quota)
            _ = try await eventually({ try await client.get(.resourceQuotas, namespace: "default", name: "q") }) { $0?.value(at: ["status", "used"]) != nil }
            var first = try Self.claim("first", size: "1Gi")
            first.set(nil, at: ["metadata", "uid"])
            _ = try await client.create(.persistentVolumeClaims, namespace: "default", first)
            var second = try Self.claim("second", size: "1Gi")
            second.set(nil, at: ["metadata", "uid"])
            do {
                _ = try await client.create(.persistentVolumeClaims, namespace: "default", second)
                Issue.record("a second manual claim was admitted over the class's quota")
            } catch let error as APIError {
                #expect(error.message == "persistentvolumeclaims \"second\" is forbidden: exceeded quota: q, requested: manual.storageclass.storage.k8s.io/requests.storage=1Gi, used: manual.storageclass.storage.k8s.io/requests.storage=1Gi, limited: manual.storageclass.storage.k8s.io/requests.storage=1Gi",
                        "\(error.message)")
            }
            let used = try await eventually({ try await client.get(.resourceQuotas, namespace: "default", name: "q") }) {
                $0?.value(at: ["status", "used", "requests.storage"]) == .string("1Gi")
            }
            #expect(used?.value(at: ["status", "used", "persistentvolumeclaims"]) == .string("1"))

            // LimitRange's PersistentVolumeClaim items bound the request.
            let limits = try Self.object(#"{"metadata":{"name":"sizes","namespace":"default"},"spec":{"limits":[{"type":"PersistentVolumeClaim","min":{"storage":"1Gi"},"max":{"storage":"2Gi"}}]}}"#)
            _ = try await client.create(.limitRanges, namespace: "default", limits)
            for (name, size, message) in [("small", "500Mi", "minimum storage usage per PersistentVolumeClaim is 1Gi, but request is 500Mi"),
                                          ("large", "5Gi", "maximum storage usage per PersistentVolumeClaim is 2Gi, but request is 5Gi")] {
                var claim = try Self.claim(name, size: size, className: "")
                claim.set(nil, at: ["metadata", "uid"])
                do {
                    _ = try await client.create(.persistentVolumeClaims, namespace: "default", claim)
                    Issue.record("\(name) admitted")
                } catch let error as APIError {
                    #expect(error.message == "persistentvolumeclaims \"\(name)\" is forbidden: \(message)", "\(error.message)")
                }
            }
        }
    }

    @Test func schedulerExplainsClaimsItCannotServe() async throws {
        try await withControllerCluster { cluster in
            let client = cluster.client
            _ = try await cluster.addNode("node-a")
            func pod(_ name: String, claim: String) throws -> KubeObject {
                try Self.object(#"{"metadata":{"name":"\#(name)","namespace":"default"},"spec":{"containers":[{"name":"app","image":"busybox"}],"volumes":[{"name":"data","persistentVolumeClaim":{"claimName":"\#(claim)"}}]}}"#)
            }
            func condition(_ name: String) async throws -> String? {
                try await eventually({ try await cluster.pod(name) }) { pod in
                    (pod?.value(at: ["status", "conditions"])?.arrayValue ?? []).contains { $0["reason"]?.stringValue == "Unschedulable" }
                }.flatMap { pod in
                    (pod.value(at: ["status", "conditions"])?.arrayValue ?? []).first { $0["type"]?.stringValue == "PodScheduled" }?["message"]?.stringValue
                }
            }
            _ = try await client.create(.pods, namespace: "default", try pod("missing", claim: "nope"))
            #expect(try await condition("missing") == "0/1 nodes are available: persistentvolumeclaim \"nope\" not found. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.")
            // An Immediate claim (its class "manual" does not exist) that nothing binds.
            var immediate = try Self.claim("immediate", size: "1Gi")
            immediate.set(nil, at: ["metadata", "uid"])
            _ = try await client.create(.persistentVolumeClaims, namespace: "default", immediate)
            _ = try await client.create(.pods, namespace: "default", try pod("waits", claim: "immediate"))
            #expect(try await condition("waits") == "0/1 nodes are available: pod has unbound immediate PersistentVolumeClaims. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.")
            // Once a volume appears the claim binds and the pod is scheduled.
            _ = try await client.create(.persistentVolumes, namespace: nil, try Self.volume("late", size: "1Gi"))
            let scheduled = try await eventually({ try await cluster.pod("waits") }) { !($0?.string(at: ["spec", "nodeName"]) ?? "").isEmpty }
            #expect(scheduled?.string(at: ["spec", "nodeName"]) == "node-a")
            // A bound volume pinned to another node: a node affinity conflict.
            _ = try await client.create(.persistentVolumes, namespace: nil,
                                        try Self.volume("elsewhere", size: "1Gi", className: "pinned", extra: #","nodeAffinity":{"required":{"nodeSelectorTerms":[{"matchExpressions":[{"key":"kubernetes.io/hostname","operator":"In","values":["node-z"]}]}]}}"#))
            var pinned = try Self.claim("pinned", size: "1Gi", className: "pinned")
            pinned.set(nil, at: ["metadata", "uid"])
            _ = try await client.create(.persistentVolumeClaims, namespace: "default", pinned)
            _ = try await eventually({ try await client.get(.persistentVolumeClaims, namespace: "default", name: "pinned") }) { $0?.phase == "Bound" }
            _ = try await client.create(.pods, namespace: "default", try pod("conflict", claim: "pinned"))
            #expect(try await condition("conflict") == "0/1 nodes are available: 1 node(s) had volume node affinity conflict. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.")
        }
    }
}
