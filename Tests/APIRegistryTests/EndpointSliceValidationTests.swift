@testable import APIMachinery
@testable import APIRegistry
import APITestSupport
import Foundation
import KubeAPI
import Testing

/// EndpointSlices and Endpoints written by hand (selectorless Services): defaults, Kubernetes'
/// validation messages, immutability of `addressType`, the generation.
@Suite struct EndpointSliceValidationTests {
    private static func create(_ api: TestAPI, _ ref: ResourceRef, _ body: String) async throws -> Result<KubeObject, APIError> {
        guard case .object(let fields) = try json(body) else { throw TestFailure("not a JSON object: \(body)") }
        do {
            return .success(try await api.client.create(ref, namespace: "default", KubeObject(fields: fields)))
        } catch {
            return .failure(error)
        }
    }

    private static func message(_ result: Result<KubeObject, APIError>) -> String {
        if case .failure(let error) = result { return error.message }
        return ""
    }

    @Test func slicesAreDefaultedAndVersioned() async throws {
        try await withTestAPI { api in
            var slice = try await Self.create(api, .endpointSlices, """
                {"metadata":{"name":"db-1","labels":{"kubernetes.io/service-name":"db"}},"addressType":"IPv4",
                 "endpoints":[{"addresses":["10.42.0.7"],"nodeName":"n1"}],"ports":[{"port":5432}]}
                """).get()
            #expect(slice.fields["ports"] == .array([.object(["name": .string(""), "protocol": .string("TCP"), "port": .int(5432)])]))
            #expect(slice.generation == 1)
            #expect(slice.fields["apiVersion"] == .string("discovery.k8s.io/v1") && slice.fields["kind"] == .string("EndpointSlice"))

            // A change of endpoints bumps the generation; a change of annotations does not.
            slice.set(.array([.object(["addresses": .array([.string("10.42.0.8")])])]), at: ["endpoints"])
            slice = try await api.client.update(.endpointSlices, slice)
            #expect(slice.generation == 2)
            slice.metadata["annotations"] = .object(["note": .string("x")])
            slice = try await api.client.update(.endpointSlices, slice)
            #expect(slice.generation == 2)

            slice.set(.string("IPv6"), at: ["addressType"])
            slice.set(.array([.object(["addresses": .array([.string("fd00::8")])])]), at: ["endpoints"])
            do throws(APIError) {
                _ = try await api.client.update(.endpointSlices, slice)
                Issue.record("addressType changed")
            } catch {
                #expect(error.message == #"EndpointSlice.discovery.k8s.io "db-1" is invalid: addressType: Invalid value: "IPv6": field is immutable"#)
            }
        }
    }

    @Test func badSlicesGetKubernetesMessages() async throws {
        try await withTestAPI { api in
            let cases: [(String, String)] = [
                (#"{"metadata":{"name":"s"},"endpoints":[]}"#,
                 #"EndpointSlice.discovery.k8s.io "s" is invalid: addressType: Required value"#),
                (#"{"metadata":{"name":"s"},"addressType":"IPX","endpoints":[]}"#,
                 #"EndpointSlice.discovery.k8s.io "s" is invalid: addressType: Unsupported value: "IPX": supported values: "FQDN", "IPv4", "IPv6""#),
                (#"{"metadata":{"name":"s"},"addressType":"IPv4","endpoints":[{"addresses":[]}]}"#,
                 #"EndpointSlice.discovery.k8s.io "s" is invalid: endpoints[0].addresses: Required value: must contain at least 1 address"#),
                (#"{"metadata":{"name":"s"},"addressType":"IPv4","endpoints":[{"addresses":["fd00::1"]}]}"#,
                 #"EndpointSlice.discovery.k8s.io "s" is invalid: endpoints[0].addresses[0]: Invalid value: "fd00::1": must be a valid IPv4 address"#),
                (#"{"metadata":{"name":"s"},"addressType":"IPv4","endpoints":[{"addresses":["127.0.0.1"]}]}"#,
                 #"EndpointSlice.discovery.k8s.io "s" is invalid: endpoints[0].addresses[0]: Invalid value: "127.0.0.1": may not be in the loopback range (127.0.0.0/8, ::1/128)"#),
                (#"{"metadata":{"name":"s"},"addressType":"IPv4","endpoints":[{"addresses":["10.0.0.1"],"nodeName":"Node_1"}]}"#,
                 #"EndpointSlice.discovery.k8s.io "s" is invalid: endpoints[0].nodeName: Invalid value: "Node_1": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"#),
                (#"{"metadata":{"name":"s"},"addressType":"IPv4","endpoints":[],"ports":[{"name":"a","port":80},{"name":"a","port":81}]}"#,
                 #"EndpointSlice.discovery.k8s.io "s" is invalid: ports[1].name: Duplicate value: "a""#),
                (#"{"metadata":{"name":"s"},"addressType":"IPv4","endpoints":[],"ports":[{"port":80,"protocol":"ICMP"}]}"#,
                 #"EndpointSlice.discovery.k8s.io "s" is invalid: ports[0].protocol: Unsupported value: "ICMP": supported values: "SCTP", "TCP", "UDP""#),
                (#"{"metadata":{"name":"s"},"addressType":"IPv4","endpoints":[],"ports":[{"port":0}]}"#,
                 #"EndpointSlice.discovery.k8s.io "s" is invalid: ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive"#),
                (#"{"metadata":{"name":"s"},"addressType":"FQDN","endpoints":[{"addresses":["localhost"]}]}"#,
                 #"EndpointSlice.discovery.k8s.io "s" is invalid: endpoints[0].addresses[0]: Invalid value: "localhost": should be a domain with at least two segments separated by dots"#),
            ]
            for (body, expected) in cases {
                #expect(Self.message(try await Self.create(api, .endpointSlices, body)) == expected, "\(body)")
            }
            let many = (0..<1001).map { #"{"addresses":["10.1.\#($0 / 250).\#($0 % 250 + 1)"]}"# }.joined(separator: ",")
            #expect(Self.message(try await Self.create(api, .endpointSlices, #"{"metadata":{"name":"s"},"addressType":"IPv4","endpoints":[\#(many)]}"#))
                    == #"EndpointSlice.discovery.k8s.io "s" is invalid: endpoints: Too many: 1001: must have at most 1000 items"#)
            let wrongType = try await Self.create(api, .endpointSlices, #"{"metadata":{"name":"s"},"addressType":"IPv4","endpoints":[{"addresses":["10.0.0.1"],"conditions":{"ready":"yes"}}]}"#)
            guard case .failure(let error) = wrongType else { Issue.record("accepted a string condition"); return }
            // Decoding into the Go type refuses it, in kube-apiserver's words.
            #expect(error.code == 400 && error.message.hasSuffix(
                "json: cannot unmarshal string into Go struct field EndpointConditions.endpoints.conditions.ready of type bool"), "\(error.message)")
        }
    }

    @Test func endpointsAreDefaultedAndChecked() async throws {
        try await withTestAPI { api in
            let created = try await Self.create(api, .endpoints, #"{"metadata":{"name":"db"},"subsets":[{"addresses":[{"ip":"10.42.0.7"}],"ports":[{"port":5432}]}]}"#).get()
            #expect(created.value(at: ["subsets"])?.arrayValue?.first?["ports"] == .array([.object(["port": .int(5432), "protocol": .string("TCP")])]))
            let cases: [(String, String)] = [
                (#"{"metadata":{"name":"e"},"subsets":[{"ports":[{"port":80}]}]}"#,
                 #"Endpoints "e" is invalid: subsets[0]: Required value: must specify `addresses` or `notReadyAddresses`"#),
                (#"{"metadata":{"name":"e"},"subsets":[{"addresses":[{"ip":"10.0.0.1"}],"ports":[{"port":80},{"port":81}]}]}"#,
                 #"Endpoints "e" is invalid: [subsets[0].ports[0].name: Required value, subsets[0].ports[1].name: Required value]"#),
                (#"{"metadata":{"name":"e"},"subsets":[{"addresses":[{"ip":"169.254.1.1"}]}]}"#,
                 #"Endpoints "e" is invalid: subsets[0].addresses[0].ip: Invalid value: "169.254.1.1": may not be in the link-local range (169.254.0.0/16, fe80::/10)"#),
                (#"{"metadata":{"name":"e"},"subsets":[{"notReadyAddresses":[{"ip":"x"}]}]}"#,
                 #"Endpoints "e" is invalid: [subsets[0].notReadyAddresses[0].ip: Invalid value: "x": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff), subsets[0].notReadyAddresses[0].ip: Invalid value: "x": must be a valid IP address]"#),
                (#"{"metadata":{"name":"e"},"subsets":[{"addresses":[{"ip":"10.0.0.1"}],"ports":[{"port":80,"protocol":"ICMP"}]}]}"#,
                 #"Endpoints "e" is invalid: subsets[0].ports[0].protocol: Unsupported value: "ICMP": supported values: "SCTP", "TCP", "UDP""#),
            ]
            for (body, expected) in cases {
                #expect(Self.message(try await Self.create(api, .endpoints, body)) == expected, "\(body)")
            }
        }
    }
}
