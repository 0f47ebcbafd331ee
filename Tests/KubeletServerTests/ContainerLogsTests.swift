import Agent
import Foundation
import KubeAPI
import KubeletServer
import Testing
import TestSupport

/// `/containerLogs` over real HTTPS against CRI log files the tests write.
@Suite
struct ContainerLogsTests {
    static let current = [
        "2025-11-22T10:00:00.000000000Z stdout F first",
        "2025-11-22T10:00:01.500000000Z stdout P par",
        "2025-11-22T10:00:01.600000000Z stdout F tial",
        "2025-11-22T10:00:02.000000000Z stderr F third",
    ]

    @Test func logsAreJoinedTailedTimestampedLimitedAndFiltered() async throws {
        let root = try TestRoot()
        defer { root.cleanUp() }
        let host = FakeKubeletHost(root: root.path)
        let pod = try makePod("web", statuses: [running("app", attempt: 1, previous: 0)])
        host.set([pod])
        try host.log(pod, "app", attempt: 0, ["2025-11-22T09:00:00.000000000Z stdout F before the crash"])
        try host.log(pod, "app", attempt: 1, Self.current)

        try await withKubeletServer(host: host, certificateDirectory: root.path + "/pki") { server in
            let base = "/containerLogs/default/web/app"
            let all = try await server.get(base)
            #expect(all.status == 200)
            #expect(all.contentType?.hasPrefix("text/plain") == true)
            #expect(all.body == "first\npartial\nthird\n")
            #expect(try await server.get(base + "?tailLines=2").body == "partial\nthird\n")
            #expect(try await server.get(base + "?tailLines=0").body == "")
            #expect(try await server.get(base + "?tailLines=10").body == "first\npartial\nthird\n")
            #expect(try await server.get(base + "?tail=1").body == "third\n")
            #expect(try await server.get(base + "?timestamps=true&tailLines=2").body
                == "2025-11-22T10:00:01.5Z partial\n2025-11-22T10:00:02Z third\n")
            #expect(try await server.get(base + "?limitBytes=8").body == "first\npa")
            #expect(try await server.get(base + "?sinceTime=2025-11-22T10:00:01Z").body == "partial\nthird\n")
            #expect(try await server.get(base + "?previous=true").body == "before the crash\n")
            // sinceSeconds counts back from now: these lines are from long ago.
            #expect(try await server.get(base + "?sinceSeconds=60").body == "")
        }
    }

    @Test func errorsUseKubeletsStatusesAndWords() async throws {
        let root = try TestRoot()
        defer { root.cleanUp() }
        let host = FakeKubeletHost(root: root.path)
        host.set([
            try makePod("web", containers: ["app", "side"], statuses: [running("app", attempt: 0)]),
            try makePod("pending", uid: "uid-2", statuses: [waiting("app", reason: "ContainerCreating")], phase: "Pending"),
            try makePod("pulling", uid: "uid-3", statuses: [waiting("app", reason: "ErrImagePull")], phase: "Pending"),
        ])
        try await withKubeletServer(host: host, certificateDirectory: root.path + "/pki") { server in
            let missingPod = try await server.get("/containerLogs/default/nope/app")
            #expect(missingPod.status == 404)
            #expect(missingPod.body == #"pod "nope" does not exist"#)
            let otherNamespace = try await server.get("/containerLogs/kube-system/web/app")
            #expect(otherNamespace.status == 404)
            let missingContainer = try await server.get("/containerLogs/default/web/db")
            #expect(missingContainer.status == 404)
            #expect(missingContainer.body == #"container "db" not found in pod "web""#)
            let noStatus = try await server.get("/containerLogs/default/web/side")
            #expect(noStatus.status == 400)
            #expect(noStatus.body == #"container "side" in pod "web" is not available"#)
            let noPrevious = try await server.get("/containerLogs/default/web/app?previous=true")
            #expect(noPrevious.status == 400)
            #expect(noPrevious.body == #"previous terminated container "app" in pod "web" not found"#)
            let waiting = try await server.get("/containerLogs/default/pending/app")
            #expect(waiting.status == 400)
            #expect(waiting.body == #"container "app" in pod "pending" is waiting to start: ContainerCreating"#)
            let pulling = try await server.get("/containerLogs/default/pulling/app")
            #expect(pulling.body == #"container "app" in pod "pulling" is waiting to start: image can't be pulled"#)
            // A running container that has not written yet has an empty log.
            #expect(try await server.get("/containerLogs/default/web/app").body == "")
            let negative = try await server.get("/containerLogs/default/web/app?tailLines=-1")
            #expect(negative.status == 422)
            #expect(negative.body == #"{"message": "Invalid request."}"#)
            let both = try await server.get("/containerLogs/default/web/app?sinceSeconds=5&sinceTime=2025-11-22T10:00:00Z")
            #expect(both.status == 422)
            let garbage = try await server.get("/containerLogs/default/web/app?follow=maybe")
            #expect(garbage.status == 400)
            #expect(garbage.body == #"{"message": "Unable to decode query."}"#)
            let short = try await server.get("/containerLogs/default/web")
            #expect(short.status == 400)
            #expect(short.body == #"{"message": "Missing container name."}"#)
        }
    }

    @Test func followSeesNewLinesAndRestartsAndEndsWhenTheContainerIsDone() async throws {
        let root = try TestRoot()
        defer { root.cleanUp() }
        let host = FakeKubeletHost(root: root.path)
        let pod = try makePod("web", restartPolicy: "OnFailure", statuses: [running("app", attempt: 0)])
        host.set([pod])
        try host.log(pod, "app", attempt: 0, ["2025-11-22T10:00:00.000000000Z stdout F one"])

        try await withKubeletServer(host: host, certificateDirectory: root.path + "/pki") { server in
            let (status, chunks) = try await server.stream("/containerLogs/default/web/app?follow=true")
            #expect(status == 200)
            var received = ""
            var iterator = chunks.makeAsyncIterator()
            func read(until expected: String) async throws {
                while !received.hasSuffix(expected) {
                    guard let chunk = try await iterator.next() else { throw TestFailure("the stream ended after \(received.debugDescription)") }
                    received += chunk
                }
            }
            try await read(until: "one\n")
            try host.log(pod, "app", attempt: 0, ["2025-11-22T10:00:01.000000000Z stdout P t", "2025-11-22T10:00:01.000000001Z stdout F wo"])
            try await read(until: "two\n")

            // The container fails and starts again: its next file is followed.
            try host.log(pod, "app", attempt: 0, ["2025-11-22T10:00:02.000000000Z stderr F crash"])
            try host.log(pod, "app", attempt: 1, ["2025-11-22T10:00:03.000000000Z stdout F three"])
            var restarted = pod
            restarted.status?.containerStatuses = [running("app", attempt: 1, previous: 0)]
            host.set([restarted])
            try await read(until: "three\n")

            // It succeeds: OnFailure does not restart it, so the follow ends after the last line.
            try host.log(pod, "app", attempt: 1, ["2025-11-22T10:00:04.000000000Z stdout F done"])
            var finished = pod
            finished.status?.phase = "Succeeded"
            finished.status?.containerStatuses = [terminated("app", attempt: 1)]
            host.set([finished])
            while let chunk = try await iterator.next() { received += chunk }
            #expect(received == "one\ntwo\ncrash\nthree\ndone\n")
        }
    }

    @Test func followStopsWhenTheClientGoesAway() async throws {
        let root = try TestRoot()
        defer { root.cleanUp() }
        let host = FakeKubeletHost(root: root.path)
        let pod = try makePod("web", statuses: [running("app", attempt: 0)])
        host.set([pod])
        try host.log(pod, "app", attempt: 0, ["2025-11-22T10:00:00.000000000Z stdout F hello"])
        try await withKubeletServer(host: host, certificateDirectory: root.path + "/pki") { server in
            do {
                let (_, chunks) = try await server.stream("/containerLogs/default/web/app?follow=true")
                var iterator = chunks.makeAsyncIterator()
                #expect(try await iterator.next() == "hello\n")
                // Waited for, not slept on: a loaded machine may delay the follower's second look.
                let looked = await TestProcess.waitFor(30) { host.podLookups >= 2 }
                #expect(looked, "a follower looks the pod up every second")
            }
            // The client's stream is dropped: the connection closes and the follower must stop,
            // seen as lookups that cease for longer than the follower's period (however long
            // the stop takes on a loaded machine).
            var stopped = false
            for _ in 0..<20 where !stopped {
                let before = host.podLookups
                try await Task.sleep(for: .milliseconds(2500))
                stopped = host.podLookups == before
            }
            #expect(stopped, "the follower kept looking the pod up after its client went away")
        }
    }

    @Test func followEndsWhenThePodIsGone() async throws {
        let root = try TestRoot()
        defer { root.cleanUp() }
        let host = FakeKubeletHost(root: root.path)
        let pod = try makePod("web", statuses: [running("app", attempt: 0)])
        host.set([pod])
        try host.log(pod, "app", attempt: 0, ["2025-11-22T10:00:00.000000000Z stdout F only"])
        try await withKubeletServer(host: host, certificateDirectory: root.path + "/pki") { server in
            let (_, chunks) = try await server.stream("/containerLogs/default/web/app?follow=1")
            var iterator = chunks.makeAsyncIterator()
            #expect(try await iterator.next() == "only\n")
            host.set([])
            var rest = ""
            while let chunk = try await iterator.next() { rest += chunk }
            #expect(rest == "")
        }
    }
}
