import APIMachinery
@testable import APIServer
import Testing

/// events.k8s.io/v1 Events in protobuf are decoded with that group's message (its field
/// numbers differ from core/v1's Event, whose name it shares).
@Suite struct EventsV1ProtobufTests {
    /// A length-delimited field (short values only).
    private func field(_ number: Int, _ bytes: [UInt8]) -> [UInt8] {
        [UInt8(number << 3 | 2), UInt8(bytes.count)] + bytes
    }

    private func text(_ number: Int, _ value: String) -> [UInt8] { field(number, Array(value.utf8)) }

    @Test func anEventsV1BodyIsDecodedWithItsOwnFieldNumbers() throws {
        let event = field(1, text(1, "web.1") + text(3, "default")) + text(7, "Scheduled")
            + field(8, text(1, "Pod") + text(3, "web")) + text(10, "assigned")
        let typeMeta = text(1, "events.k8s.io/v1") + text(2, "Event")
        let body: [UInt8] = Array("k8s".utf8) + [0] + field(1, typeMeta) + field(2, event)
        let object = try ProtobufDecoder.decodeObject(body)
        #expect(object["apiVersion"] == .string("events.k8s.io/v1"))
        #expect(object["note"] == .string("assigned"))
        #expect(object["regarding"]?["name"] == .string("web"))
        #expect(object["reason"] == .string("Scheduled"))
        #expect(object["metadata"]?["namespace"] == .string("default"))
        // Field 4 is core/v1's `message` but events.k8s.io/v1's `reportingController`: the
        // group decides the message.
        let core = Array("k8s".utf8) + [0] + field(1, text(1, "v1") + text(2, "Event")) + field(2, text(4, "x"))
        #expect(try ProtobufDecoder.decodeObject(core)["message"] == .string("x"))
        let v1 = Array("k8s".utf8) + [0] + field(1, typeMeta) + field(2, text(4, "x"))
        #expect(try ProtobufDecoder.decodeObject(v1)["reportingController"] == .string("x"))
    }
}
