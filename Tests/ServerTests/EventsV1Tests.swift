@testable import APIMachinery
import APITestSupport
import Foundation
import KubeAPI
import ServerTestSupport
import Testing
import TestSupport

/// events.k8s.io/v1 over the core/v1 Events (one set of stored objects, as kube-apiserver's
/// cohabiting resources): every Event is readable, listable and watchable in both versions,
/// writes through events.k8s.io/v1 are validated strictly (pkg/apis/core/validation/events.go),
/// field selectors use the version's own names, and kubectl lists both.
@Suite struct EventsV1Tests {
    static let eventsV1 = ResourceRef(group: "events.k8s.io", name: "events")
    static let path = "/apis/events.k8s.io/v1/namespaces/default/events"

    static func coreEvent(_ name: String, pod: String) -> KubeObject {
        KubeObject(fields: [
            "metadata": .object(["name": .string(name), "namespace": .string("default")]),
            "involvedObject": .object(["kind": .string("Pod"), "name": .string(pod), "namespace": .string("default")]),
            "reason": .string("Started"), "message": .string("Started container \(pod)"), "type": .string("Normal"),
            "source": .object(["component": .string("kubelet"), "host": .string("n1")]),
            "firstTimestamp": .string("2026-12-02T10:00:00Z"), "lastTimestamp": .string("2026-12-02T10:05:00Z"),
            "count": .int(3),
        ])
    }

    /// A valid events.k8s.io/v1 Event, as client-go's events recorder writes it.
    static func v1Event(_ name: String, pod: String, note: String = "Successfully assigned default/web to n1") -> JSONValue {
        .object([
            "apiVersion": .string("events.k8s.io/v1"), "kind": .string("Event"),
            "metadata": .object(["name": .string(name), "namespace": .string("default")]),
            "eventTime": .string("2026-12-02T10:00:00.123456Z"),
            "reportingController": .string("default-scheduler"), "reportingInstance": .string("default-scheduler-n1"),
            "action": .string("Binding"), "reason": .string("Scheduled"), "type": .string("Normal"),
            "regarding": .object(["kind": .string("Pod"), "name": .string(pod), "namespace": .string("default")]),
            "note": .string(note),
        ])
    }

    @Test func coreEventsReadAsEventsV1AndEventsV1WritesReadAsCore() async throws {
        try await withTestServer { server in
            let core = try await server.api.client.create(.events, namespace: "default", Self.coreEvent("web.1", pod: "web"))
            let read = try await server.client.send("GET", Self.path + "/web.1")
            #expect(read.status == 200, "\(read.text)")
            let v1 = try read.json()
            #expect(v1["apiVersion"]?.stringValue == "events.k8s.io/v1")
            #expect(v1["regarding"]?["name"]?.stringValue == "web")
            #expect(v1["note"]?.stringValue == "Started container web")
            #expect(v1["deprecatedSource"]?["component"]?.stringValue == "kubelet")
            #expect(v1["deprecatedFirstTimestamp"]?.stringValue == "2026-12-02T10:00:00Z")
            #expect(v1["deprecatedCount"]?.intValue == 3)
            #expect(v1["eventTime"] == .null)
            #expect(v1["involvedObject"] == nil && v1["message"] == nil)
            #expect(v1["metadata"]?["resourceVersion"]?.stringValue == core.resourceVersion)

            let created = try await server.client.send("POST", Self.path, json: Self.v1Event("web.2", pod: "web"))
            #expect(created.status == 201, "\(created.text)")
            let stored = try #require(try await server.api.client.get(.events, namespace: "default", name: "web.2"))
            #expect(stored.apiVersion == "v1")
            #expect(stored.string(at: ["message"]) == "Successfully assigned default/web to n1")
            #expect(stored.string(at: ["involvedObject", "name"]) == "web")
            #expect(stored.string(at: ["reportingComponent"]) == "default-scheduler")
            #expect(stored.string(at: ["action"]) == "Binding")
            #expect(stored.fields["regarding"] == nil && stored.fields["note"] == nil)

            // Both versions list the same Events; field selectors in each version's names.
            let coreList = try await server.client.send("GET", "/api/v1/namespaces/default/events")
            let v1List = try await server.client.send("GET", Self.path)
            #expect(try coreList.json()["items"]?.arrayValue?.count == 2)
            #expect(try v1List.json()["items"]?.arrayValue?.count == 2)
            _ = try await server.api.client.create(.events, namespace: "default", Self.coreEvent("db.1", pod: "db"))
            let selected = try await server.client.send("GET", Self.path + "?fieldSelector=regarding.name%3Ddb")
            #expect(try selected.json()["items"]?.arrayValue?.compactMap { $0["metadata"]?["name"]?.stringValue } == ["db.1"],
                    "\(selected.text)")
            let byController = try await server.client.send("GET", Self.path + "?fieldSelector=reportingController%3Ddefault-scheduler")
            #expect(try byController.json()["items"]?.arrayValue?.count == 1, "\(byController.text)")
            let foreign = try await server.client.send("GET", Self.path + "?fieldSelector=involvedObject.name%3Ddb")
            #expect(foreign.status == 400, "core's field names are not this version's: \(foreign.text)")
        }
    }

    @Test func aWatchOfEventsV1SeesCoreWritesInItsForm() async throws {
        try await withTestAPI { api in
            var watch = try await api.client.watch(Self.eventsV1, namespace: "default", options: ListOptions()).makeAsyncIterator()
            _ = try await api.client.create(.events, namespace: "default", Self.coreEvent("web.1", pod: "web"))
            let event = await watch.next()
            #expect(event?.type == "ADDED")
            #expect(event?.object?.apiVersion == "events.k8s.io/v1")
            #expect(event?.object?.string(at: ["note"]) == "Started container web")
            #expect(event?.object?.string(at: ["regarding", "kind"]) == "Pod")
        }
    }

    @Test func eventsV1WritesAreValidatedStrictlyWithUpstreamsMessages() async throws {
        try await withTestServer { server in
            var bad = Self.v1Event("bad", pod: "web")
            bad.set(.null, at: ["eventTime"])
            bad.set(.string("Odd"), at: ["type"])
            bad.set(.int(2), at: ["deprecatedCount"])
            bad.set(.object(["count": .int(1)]), at: ["series"])
            let refused = try await server.client.send("POST", Self.path, json: bad)
            #expect(refused.status == 422, "\(refused.text)")
            let message = try refused.json()["message"]?.stringValue ?? ""
            #expect(message.hasPrefix(#"Event.events.k8s.io "bad" is invalid: "#), "\(message)")
            for part in ["eventTime: Required value", "series.count: Invalid value: \"\": should be at least 2",
                         "series.lastObservedTime: Required value", "type: Invalid value: \"\": has invalid value: Odd",
                         "count: Invalid value: \"\": needs to be unset"] {
                #expect(message.contains(part), "\(part) in \(message)")
            }
            // With an eventTime, the reporting fields are checked (the legacy rules upstream).
            var unreported = Self.v1Event("unreported", pod: "web")
            unreported.set(.string(""), at: ["action"])
            unreported.set(.string("Not A Name!"), at: ["reportingController"])
            let second = try await server.client.send("POST", Self.path, json: unreported)
            let secondMessage = try second.json()["message"]?.stringValue ?? ""
            #expect(second.status == 422 && secondMessage.contains("action: Required value")
                        && secondMessage.contains(#"reportingController: Invalid value: "Not A Name!""#), "\(secondMessage)")

            let long = try await server.client.send("POST", Self.path, json: Self.v1Event("long", pod: "web", note: String(repeating: "n", count: 1025)))
            #expect(long.status == 422 && long.text.contains("message: Invalid value: \\\"\\\": can have at most 1024 characters"), "\(long.text)")
            // An Event about a cluster-scoped object lives in default or kube-system only.
            var elsewhere = Self.v1Event("elsewhere", pod: "web")
            elsewhere.set(.string(""), at: ["regarding", "namespace"])
            elsewhere.set(.string("kube-public"), at: ["metadata", "namespace"])
            let misplaced = try await server.client.send("POST", "/apis/events.k8s.io/v1/namespaces/kube-public/events", json: elsewhere)
            #expect(misplaced.status == 422 && misplaced.text.contains("involvedObject.namespace"), "\(misplaced.text)")

            // Updates may add to the series; the rest is immutable.
            let stored = try await server.client.send("POST", Self.path, json: Self.v1Event("web.3", pod: "web"))
            #expect(stored.status == 201, "\(stored.text)")
            var event = try stored.json()
            event.set(.object(["count": .int(2), "lastObservedTime": .string("2026-12-02T10:01:00.000000Z")]), at: ["series"])
            let updated = try await server.client.send("PUT", Self.path + "/web.3", json: event)
            #expect(updated.status == 200, "\(updated.text)")
            var changed = try updated.json()
            changed.set(.string("another note"), at: ["note"])
            let immutable = try await server.client.send("PUT", Self.path + "/web.3", json: changed)
            #expect(immutable.status == 422 && immutable.text.contains("message: Invalid value: \\\"another note\\\": field is immutable"),
                    "\(immutable.text)")
            // Hostile bodies: not an object, a wrong JSON type.
            let array = try await server.client.send("POST", Self.path, headers: ["Content-Type": "application/json"], body: Array("[1]".utf8))
            #expect(array.status == 400, "\(array.text)")
            var typed = Self.v1Event("typed", pod: "web")
            typed.set(.int(5), at: ["note"])
            let mistyped = try await server.client.send("POST", Self.path, json: typed)
            #expect(mistyped.status == 400 && mistyped.text.contains("note"), "\(mistyped.text)")
        }
    }

    @Test(.requires(Kubectl.isInstalled, "needs kubectl"))
    func kubectlListsBothVersions() async throws {
        try await withTestServer { server in
            let kubectl = try Kubectl(port: server.port, directory: server.directory)
            _ = try await server.api.client.create(.events, namespace: "default", Self.coreEvent("web.1", pod: "web"))
            let created = try await server.client.send("POST", Self.path, json: Self.v1Event("web.2", pod: "web"))
            #expect(created.status == 201, "\(created.text)")
            let v1 = try await kubectl("get", "events.v1.events.k8s.io")
            #expect(v1.status == 0, "\(v1.stderr)")
            #expect(v1.stdout.contains("LAST SEEN") && v1.stdout.contains("pod/web"), "\(v1.stdout)")
            #expect(v1.stdout.contains("Scheduled") && v1.stdout.contains("Successfully assigned default/web to n1"), "\(v1.stdout)")
            #expect(v1.stdout.contains("Started container web"), "\(v1.stdout)")
            let core = try await kubectl("get", "events", "-o", "name")
            #expect(core.stdout.split(separator: "\n").sorted() == ["event/web.1", "event/web.2"], "\(core.stdout) \(core.stderr)")
            let yaml = try await kubectl("get", "events.events.k8s.io", "web.1", "-o", "jsonpath={.note}/{.regarding.name}")
            #expect(yaml.stdout == "Started container web/web", "\(yaml.stdout) \(yaml.stderr)")
        }
    }
}
