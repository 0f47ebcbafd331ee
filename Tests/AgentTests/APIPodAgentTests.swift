import Agent
import Foundation
import Glibc
import KubeAPI
import Testing
import TestSupport

/// Root-only: an in-process agent running real pods bound to it by an in-memory API server.
@Suite("Agent with pods from the API (root)", .ownThreads)
struct APIPodAgentTests {
    @Test func apiPodRunsAndItsStatusIsSent() async throws {
        let h = try await APIPodHarness()
        defer { h.cleanUp() }
        try await h.run {
            let pod = h.api.add(try boundPod("web"))
            h.start()
            let running = await h.waitFor(60) {
                let status = h.api.pod("web")?.status
                return status?.phase == "Running" && status?.containerStatuses?.first?.state?.running != nil
            }
            #expect(running, "\(String(describing: h.api.pod("web")?.status))")
            let status = try #require(h.api.pod("web")?.status)
            #expect(status.hostIP == "192.0.2.10")
            #expect(status.hostIPs == [HostIP(ip: "192.0.2.10")])
            #expect(status.qosClass == "BestEffort")
            #expect(status.startTime != nil)
            #expect(status.conditions?.first { $0.type == "Ready" }?.status == "True")
            #expect(h.api.statusUpdates.allSatisfy { $0.uid == pod.metadata.uid })
            // The agent runs it under the API's uid and records where it came from.
            #expect(h.entry("web")?.pod.metadata.uid == pod.metadata.uid)
            #expect(h.entry("web")?.pod.isAPIPod == true)
            // kubelet's Events for the start, about the container.
            let started = await h.waitFor(30) { h.api.events.contains { $0.reason == "Started" } }
            #expect(started)
            let events = h.api.events.filter { ["Created", "Started"].contains($0.reason) }
            #expect(events.map(\.message) == ["Created container: c", "Started container c"], "\(h.api.events)")
            #expect(events.allSatisfy { $0.fieldPath == "spec.containers{c}" && $0.type == "Normal" && $0.podUID == pod.metadata.uid })
        }
    }

    @Test func deletedPodStopsWithinTheDeletionGraceThenIsRemovedFromTheAPI() async throws {
        let h = try await APIPodHarness()
        defer { h.cleanUp() }
        try await h.run {
            // The spec allows 30 s; the deletion asks for 2: a PID 1 without a SIGTERM handler is
            // killed when the shorter one ends.
            let pod = h.api.add(try boundPod("web", grace: 30))
            let uid = try #require(pod.metadata.uid)
            h.start()
            let up = await h.waitFor(60) { h.api.pod("web")?.status?.phase == "Running" && h.containerPid(uid: uid) != nil }
            #expect(up)
            let pid = try #require(h.containerPid(uid: uid))
            let started = Date()
            h.api.requestDelete(name: "web", grace: 2)
            let gone = await h.waitFor(60) { h.api.pod("web") == nil }
            let took = Date().timeIntervalSince(started)
            #expect(gone, "\(String(describing: h.api.pod("web")))")
            #expect(took >= 2 && took < 20, "deletion took \(took) s")
            #expect(kill(pid, 0) != 0, "the container outlived its pod")
            // Deleted by the agent with grace 0 and the pod's uid, after its final status.
            #expect(h.api.deletes.map(\.uid) == [uid])
            let killing = await h.waitFor(30) {
                h.api.events.contains { $0.reason == "Killing" && $0.message == "Stopping container c" && $0.fieldPath == "spec.containers{c}" }
            }
            #expect(killing, "\(h.api.events)")
            let final = try #require(h.api.statusUpdates.last?.status)
            #expect(final.phase == "Failed", "\(final)")
            #expect(final.containerStatuses?.first?.state?.terminated?.exitCode == 137)
            #expect(h.leftovers().isEmpty, "\(h.leftovers())")
        }
    }

    /// A crashing container and a failing liveness probe give kubelet's Warning Events: BackOff
    /// for the restart back-off, Unhealthy for each failed probe, Killing for the restart.
    @Test func crashesAndFailedProbesAreRecordedAsEvents() async throws {
        let h = try await APIPodHarness()
        defer { h.cleanUp() }
        try await h.run {
            _ = h.api.add(try boundPod("crash", command: ["sh", "-c", "exit 3"]))
            var probed = try boundPod("probed")
            probed.spec.containers[0].livenessProbe = Probe(exec: ExecAction(command: ["sh", "-c", "echo not alive; exit 1"]),
                                                            periodSeconds: 1, failureThreshold: 1)
            _ = h.api.add(probed)
            h.start()
            let recorded = await h.waitFor(90) {
                let reasons = Set(h.api.events.map { "\($0.podName)/\($0.reason)" })
                return reasons.isSuperset(of: ["crash/BackOff", "probed/Unhealthy", "probed/Killing"])
            }
            #expect(recorded, "\(h.api.events.map { "\($0.podName) \($0.reason): \($0.message)" })")
            let backOff = h.api.events.first { $0.podName == "crash" && $0.reason == "BackOff" }
            #expect(backOff?.type == "Warning" && backOff?.fieldPath == "spec.containers{c}")
            #expect(backOff?.message.hasPrefix("Back-off restarting failed container c in pod crash_default(") == true, "\(String(describing: backOff))")
            let unhealthy = h.api.events.first { $0.podName == "probed" && $0.reason == "Unhealthy" }
            #expect(unhealthy?.type == "Warning")
            // kubelet shows an exec probe's output; swiftlet's exec probes do not keep it yet.
            #expect(unhealthy?.message == "Liveness probe failed: command exited with 1",
                    "\(String(describing: unhealthy))")
            #expect(h.api.events.contains { $0.podName == "probed" && $0.reason == "Killing"
                && $0.message == "Container c failed liveness probe, will be restarted" })
        }
    }

    @Test func expiredWatchRelistsWithoutRestartingPods() async throws {
        let h = try await APIPodHarness()
        defer { h.cleanUp() }
        try await h.run {
            let first = h.api.add(try boundPod("first"))
            h.start()
            let up = await h.waitFor(60) { h.containerPid(uid: first.metadata.uid ?? "") != nil && h.api.pod("first")?.status?.phase == "Running" }
            #expect(up)
            let pid = try #require(h.containerPid(uid: first.metadata.uid ?? ""))
            let lists = h.api.listCount
            h.api.expireWatches()
            let relisted = await h.waitFor(30) { h.api.listCount > lists && h.api.activeWatches == 1 }
            #expect(relisted)
            // A pod created after the relist arrives through the new watch.
            let second = h.api.add(try boundPod("second"))
            let secondUp = await h.waitFor(60) { h.api.pod("second")?.status?.phase == "Running" }
            #expect(secondUp)
            #expect(h.containerPid(uid: first.metadata.uid ?? "") == pid)
            #expect(kill(pid, 0) == 0)
            #expect(h.entry("first")?.status?.containerStatuses?.first?.restartCount == 0)
            #expect(h.entry("second")?.pod.metadata.uid == second.metadata.uid)
        }
    }

    @Test func restartedAgentAdoptsPodsAndTerminatesThoseDeletedMeanwhile() async throws {
        let h = try await APIPodHarness()
        defer { h.cleanUp() }
        try await h.run {
            let kept = h.api.add(try boundPod("kept"))
            let lost = h.api.add(try boundPod("lost"))
            let doomed = h.api.add(try boundPod("doomed"))
            let keptUID = try #require(kept.metadata.uid)
            let lostUID = try #require(lost.metadata.uid)
            let doomedUID = try #require(doomed.metadata.uid)
            h.start()
            let up = await h.waitFor(60) {
                [keptUID, lostUID, doomedUID].allSatisfy { h.containerPid(uid: $0) != nil }
                    && ["kept", "lost", "doomed"].allSatisfy { h.api.pod($0)?.status?.phase == "Running" }
            }
            #expect(up)
            let keptPid = try #require(h.containerPid(uid: keptUID))
            let lostPid = try #require(h.containerPid(uid: lostUID))
            let doomedPid = try #require(h.containerPid(uid: doomedUID))
            await h.stop()
            // While no agent runs, "lost" is deleted for good (kubectl delete --force) and "doomed"
            // is marked for deletion (kubectl delete).
            h.api.forceDelete(name: "lost")
            h.api.requestDelete(name: "doomed", grace: 1)
            #expect(kill(lostPid, 0) == 0, "stopping the agent stopped a pod")
            h.start()
            let terminated = await h.waitFor(60) {
                h.entry("lost") == nil && kill(lostPid, 0) != 0 && h.api.pod("doomed") == nil && kill(doomedPid, 0) != 0
            }
            #expect(terminated)
            #expect(h.api.deletes.map(\.uid) == [doomedUID])
            try await Task.sleep(for: .seconds(1))
            #expect(h.containerPid(uid: keptUID) == keptPid)
            #expect(kill(keptPid, 0) == 0)
            #expect(h.entry("kept")?.status?.containerStatuses?.first?.restartCount == 0)
        }
    }

    @Test func staticPodGetsAMirrorPodThatIsNeverRun() async throws {
        let h = try await APIPodHarness()
        defer { h.cleanUp() }
        try await h.run {
            try h.writeManifest("static.yaml", """
                apiVersion: v1
                kind: Pod
                metadata: {name: static, labels: {tier: control-plane}}
                spec:
                  terminationGracePeriodSeconds: 1
                  containers: [{name: c, image: busybox, command: ["sleep", "1000"]}]
                """)
            h.start()
            let mirrored = await h.waitFor(60) { h.api.pod("static-testnode")?.status?.phase == "Running" }
            #expect(mirrored, "\(h.api.allPods)")
            let mirror = try #require(h.api.pod("static-testnode"))
            let staticUID = try #require(h.entry("static-testnode")?.pod.metadata.uid)
            #expect(mirror.metadata.uid != staticUID)
            #expect(mirror.metadata.annotations?[PodSourceAnnotation.mirror] == staticUID)
            #expect(mirror.metadata.annotations?[PodSourceAnnotation.source] == "file")
            #expect(mirror.metadata.labels?["tier"] == "control-plane")
            #expect(mirror.metadata.ownerReferences?.first?.kind == "Node")
            #expect(mirror.spec.nodeName == "testnode")
            // The mirror pod, though bound to this node, is not run: one pod, the static one.
            try await Task.sleep(for: .seconds(1))
            #expect(h.entries.map(\.pod.metadata.uid) == [staticUID])
            // Deleted in the API, it comes back (a new object), the static pod untouched.
            let pid = try #require(h.containerPid(uid: staticUID))
            h.api.requestDelete(name: "static-testnode")
            let back = await h.waitFor(60) {
                guard let again = h.api.pod("static-testnode") else { return false }
                return again.metadata.uid != mirror.metadata.uid && again.metadata.deletionTimestamp == nil && again.status?.phase == "Running"
            }
            #expect(back, "\(String(describing: h.api.pod("static-testnode")))")
            #expect(h.containerPid(uid: staticUID) == pid)
            // Removing the manifest stops the pod, then its mirror goes.
            try h.removeManifest("static.yaml")
            let gone = await h.waitFor(60) { h.api.pod("static-testnode") == nil && h.entry("static-testnode") == nil }
            #expect(gone)
            #expect(h.leftovers().isEmpty, "\(h.leftovers())")
        }
    }

    @Test func podDeletedBeforeItRanIsRemovedWithoutStarting() async throws {
        let h = try await APIPodHarness()
        defer { h.cleanUp() }
        try await h.run {
            var pod = h.api.add(try boundPod("early"))
            h.api.requestDelete(name: "early", grace: 30)
            pod = try #require(h.api.pod("early"))
            h.start()
            let gone = await h.waitFor(60) { h.api.pod("early") == nil }
            #expect(gone)
            #expect(h.api.deletes.map(\.uid) == [pod.metadata.uid ?? ""])
            #expect(h.containerPid(uid: pod.metadata.uid ?? "") == nil)
            #expect(h.leftovers().isEmpty, "\(h.leftovers())")
        }
    }
}
