import Foundation
import Testing
@testable import KubeAPI

/// `JSONValueEncoder` must give the members Foundation's JSONEncoder writes, read back.
@Suite struct JSONValueEncoderTests {
    /// What the API server used to do: JSONEncoder's text, parsed back.
    func roundTrip<T: Encodable>(_ value: T) throws -> JSONValue {
        try JSONDecoder().decode(JSONValue.self, from: JSONEncoder().encode(value))
    }

    @Test func podsEncodeAsJSONEncoderWritesThem() throws {
        for yaml in [Fixtures.webPod, Fixtures.minimalPod] {
            let pod = try Manifest.decodePod(yaml: yaml)
            #expect(try JSONValueEncoder().encode(pod) == roundTrip(pod))
            let defaulted = pod.withDefaults()
            #expect(try JSONValueEncoder().encode(defaulted) == roundTrip(defaulted))
            #expect(try JSONValueEncoder().encode(defaulted.spec) == roundTrip(defaulted.spec))
        }
    }

    @Test func otherKindsToo() throws {
        let service = try Manifest.decode(Service.self, yaml: """
            apiVersion: v1
            kind: Service
            metadata: {name: web, labels: {app: web}}
            spec:
              type: NodePort
              selector: {app: web}
              ports: [{name: http, port: 80, targetPort: http, nodePort: 30080}, {port: 443, targetPort: 8443, protocol: TCP}]
            """)
        #expect(try JSONValueEncoder().encode(service) == roundTrip(service))
        let ingress = try Manifest.decode(Ingress.self, yaml: """
            apiVersion: networking.k8s.io/v1
            kind: Ingress
            metadata: {name: web}
            spec:
              ingressClassName: swiftlet
              rules:
              - host: www.example.com
                http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}]}
            """)
        #expect(try JSONValueEncoder().encode(ingress) == roundTrip(ingress))
    }

    struct Sample: Encodable {
        var name: String? = nil
        var values: [Int64] = [1, -2, Int64.max]
        var nested: [String: [String: Bool]] = ["a": ["b": true], "c": [:]]
        var opaque: JSONValue = .object(["x": .array([.null, .double(0.5), .string("s")])])
        var big: UInt64 = UInt64.max

        enum CodingKeys: String, CodingKey { case name, values, nested, opaque, big }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(name, forKey: .name)  // an explicit nil: null
            try container.encode(values, forKey: .values)
            try container.encode(nested, forKey: .nested)
            try container.encode(opaque, forKey: .opaque)
            try container.encode(big, forKey: .big)
        }
    }

    @Test func nullsNestingAndNumbers() throws {
        let encoded = try JSONValueEncoder().encode(Sample())
        #expect(encoded["name"] == .null)
        #expect(encoded["values"] == .array([.int(1), .int(-2), .int(Int64.max)]))
        #expect(encoded["nested"] == .object(["a": .object(["b": .bool(true)]), "c": .object([:])]))
        #expect(encoded["opaque"] == Sample().opaque)
        #expect(encoded["big"] == .double(Double(UInt64.max)))
        // Everything but the unsigned number beyond Int64, which the parser reads as a double too.
        var expected = try roundTrip(Sample())
        if case .object(var members) = expected { members["big"] = .double(Double(UInt64.max)); expected = .object(members) }
        #expect(encoded == expected)
    }
}
