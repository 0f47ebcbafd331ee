@testable import APIMachinery
@testable import APIRegistry
import APITestSupport
@testable import ControllerRuntime
@testable import Controllers
@testable import Scheduler
import KubeAPI
import Testing

/// Events the controllers record through their client: one Event per object, reason and
/// message, counted when it repeats (client-go's event recorder).
@Suite struct EventRecorderTests {
    @Test func aRepeatedEventIsCountedAndADifferentMessageIsAnotherEvent() async throws {
        try await withTestAPI { api in
            let client = api.client
            let node = try await client.create(.nodes, namespace: nil, KubeObject(fields: ["metadata": .object(["name": .string("n1")])]))
            await client.recordEvent(about: node, type: "Normal", reason: "NodeNotReady", message: "Node n1 status is now: NodeNotReady",
                                     component: "node-controller")
            await client.recordEvent(about: node, type: "Normal", reason: "NodeNotReady", message: "Node n1 status is now: NodeNotReady",
                                     component: "node-controller")
            await client.recordEvent(about: node, type: "Normal", reason: "NodeNotReady", message: "something else",
                                     component: "node-controller")
            // Cluster-scoped objects' events go to "default", as in client-go.
            let events = try await client.list(.events, namespace: "default").items.filter { $0.string(at: ["involvedObject", "name"]) == "n1" }
            #expect(events.count == 2)
            let repeated = try #require(events.first { $0.string(at: ["message"]) == "Node n1 status is now: NodeNotReady" })
            #expect(repeated.value(at: ["count"])?.intValue == 2)
            #expect(repeated.string(at: ["involvedObject", "uid"]) == node.uid)
            #expect(repeated.string(at: ["source", "component"]) == "node-controller")
            let other = try #require(events.first { $0.string(at: ["message"]) == "something else" })
            #expect(other.value(at: ["count"])?.intValue == 1)
        }
    }

    @Test func eventNamesAreTheObjectAndAStableHexSuffix() {
        let name = EventRecorder.eventName(object: "web", uid: "u1", reason: "Scheduled", message: "assigned")
        #expect(name == EventRecorder.eventName(object: "web", uid: "u1", reason: "Scheduled", message: "assigned"))
        #expect(name.hasPrefix("web."))
        let suffix = name.dropFirst("web.".count)
        #expect(suffix.count == 16 && suffix.allSatisfy { $0.isHexDigit && !$0.isUppercase })
        #expect(name != EventRecorder.eventName(object: "web", uid: "u2", reason: "Scheduled", message: "assigned"))
        #expect(name != EventRecorder.eventName(object: "web", uid: "u1", reason: "Scheduled", message: "assigned again"))
    }
}
