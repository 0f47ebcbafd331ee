@testable import APIMachinery
@testable import APIRegistry
import APITestSupport
import Foundation
import KubeAPI
import Testing

/// `--event-ttl`: Events go an hour after their last write, which the newest of their
/// timestamps stands for; the sweep pages through every namespace.
@Suite struct EventTTLTests {
    static func event(_ name: String, namespace: String = "default", _ times: [String: JSONValue]) -> KubeObject {
        var fields: [String: JSONValue] = [
            "metadata": .object(["name": .string(name), "namespace": .string(namespace)]),
            "involvedObject": .object(["kind": .string("Pod"), "name": .string("web"), "namespace": .string(namespace)]),
            "reason": .string("Started"), "message": .string("Started container web"), "type": .string("Normal"),
        ]
        fields.merge(times) { _, new in new }
        if times["eventTime"] != nil {
            // What an Event with an eventTime must name (events.go's legacy checks).
            fields["reportingComponent"] = .string("test-controller")
            fields["reportingInstance"] = .string("test-controller-1")
            fields["action"] = .string("Testing")
        }
        return KubeObject(fields: fields)
    }

    @Test func eventsGoATTLAfterTheirNewestTimestamp() async throws {
        try await withTestAPI { api in
            let client = api.client
            let created = Date()
            func at(_ minutes: Double) -> JSONValue { .string(Time(created.addingTimeInterval(minutes * 60)).description) }
            func micro(_ minutes: Double) -> JSONValue { .string(MicroTime(created.addingTimeInterval(minutes * 60)).description) }
            let events = [
                Self.event("once", ["firstTimestamp": at(0), "lastTimestamp": at(0)]),
                Self.event("repeated", ["firstTimestamp": at(0), "lastTimestamp": at(90)]),
                Self.event("series", ["eventTime": micro(30), "series": .object(["count": .int(3), "lastObservedTime": micro(100)])]),
                Self.event("single", ["eventTime": micro(30)]),
                Self.event("bare", [:]),
                Self.event("elsewhere", namespace: "kube-system", ["lastTimestamp": at(0)]),
            ]
            for event in events {
                _ = try await client.create(.events, namespace: event.namespace, event)
            }
            // Two hours after they were written: 60 minutes is the TTL.
            let expired = try await api.service.expireEvents(olderThan: .seconds(3600), now: created.addingTimeInterval(120 * 60))
            let left = try await client.list(.events, namespace: nil).items.compactMap(\.name).sorted()
            #expect(left == ["repeated", "series"], "what was written within the last hour stays")
            #expect(expired == 4)
            // A creation counts as a write: a new Event whose timestamps say it is old stays
            // an hour, as upstream's lease is taken at the create.
            _ = try await client.create(.events, namespace: "default", Self.event("late", ["lastTimestamp": at(-300)]))
            try await api.service.expireEvents(olderThan: .seconds(3600), now: Date().addingTimeInterval(59 * 60))
            #expect(try await client.get(.events, namespace: "default", name: "late") != nil)
        }
    }

    @Test func theSweepPagesThroughManyEvents() async throws {
        try await withTestAPI { api in
            let client = api.client
            let old = JSONValue.string(Time(Date()).description)
            for index in 0..<620 {
                _ = try await client.create(.events, namespace: index.isMultiple(of: 2) ? "default" : "kube-system",
                                            Self.event("e\(index)", namespace: index.isMultiple(of: 2) ? "default" : "kube-system",
                                                       ["lastTimestamp": old]))
            }
            let expired = try await api.service.expireEvents(olderThan: .seconds(60), now: Date().addingTimeInterval(3600))
            #expect(expired == 620)
            #expect(try await client.list(.events, namespace: nil).items.isEmpty)
        }
    }
}
