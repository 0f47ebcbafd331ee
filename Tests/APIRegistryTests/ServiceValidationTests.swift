@testable import APIMachinery
@testable import APIRegistry
import APITestSupport
import Foundation
import KubeAPI
import Testing

/// Service defaulting and validation through the API in process, compared with the messages
/// kube-apiserver gives for the same bodies (pkg/apis/core/validation, the allocators).
@Suite struct ServiceValidationTests {
    /// Creates a Service in `default` from JSON; the error when it is refused.
    static func create(_ api: TestAPI, _ body: String, fieldValidation: FieldValidation = .warn) async throws -> Result<KubeObject, APIError> {
        guard case .object(let fields) = try json(body) else { throw TestFailure("not a JSON object: \(body)") }
        let services = try api.service.store(group: "", name: "services")
        do {
            let (created, _) = try await api.service.create(KubeObject(fields: fields), resource: services.resource, namespace: "default",
                                                            context: api.service.context(fieldValidation: fieldValidation))
            return .success(created)
        } catch {
            return .failure(error)
        }
    }

    /// The message of a refused create ("" when it was accepted).
    static func message(_ api: TestAPI, _ body: String) async throws -> String {
        switch try await create(api, body) {
        case .success: return ""
        case .failure(let error): return error.message
        }
    }

    @Test func defaultsAreKubernetes() async throws {
        try await withTestAPI { api in
            let plain = try #require(try await Self.create(api, #"{"metadata":{"name":"web"},"spec":{"selector":{"app":"web"},"ports":[{"port":80}]}}"#).get())
            let spec = try #require(plain.fields["spec"])
            #expect(spec["type"] == .string("ClusterIP"))
            #expect(spec["sessionAffinity"] == .string("None"))
            #expect(spec["internalTrafficPolicy"] == .string("Cluster"))
            #expect(spec["ipFamilies"] == .array([.string("IPv4")]))
            #expect(spec["ipFamilyPolicy"] == .string("SingleStack"))
            #expect(spec["externalTrafficPolicy"] == nil)
            #expect(spec["ports"] == .array([.object(["port": .int(80), "protocol": .string("TCP"), "targetPort": .int(80)])]))
            let address = try #require(spec["clusterIP"]?.stringValue)
            #expect(spec["clusterIPs"] == .array([.string(address)]))
            #expect(plain.fields["status"] == .object(["loadBalancer": .object([:])]))

            let nodePort = try #require(try await Self.create(api, #"{"metadata":{"name":"np"},"spec":{"type":"NodePort","ports":[{"port":80,"targetPort":"http"}],"sessionAffinity":"ClientIP"}}"#).get())
            #expect(nodePort.string(at: ["spec", "externalTrafficPolicy"]) == "Cluster")
            #expect(nodePort.value(at: ["spec", "sessionAffinityConfig"]) == .object(["clientIP": .object(["timeoutSeconds": .int(10800)])]))
            #expect(nodePort.value(at: ["spec", "ports"])?.arrayValue?.first?["targetPort"] == .string("http"))

            // Headless without a selector may hold both families, even on a single-stack cluster.
            let headless = try #require(try await Self.create(api, #"{"metadata":{"name":"hl"},"spec":{"clusterIP":"None"}}"#).get())
            #expect(headless.value(at: ["spec", "clusterIPs"]) == .array([.string("None")]))
            #expect(headless.string(at: ["spec", "ipFamilyPolicy"]) == "RequireDualStack")
            #expect(headless.value(at: ["spec", "ipFamilies"]) == .array([.string("IPv4"), .string("IPv6")]))

            let external = try #require(try await Self.create(api, #"{"metadata":{"name":"ext"},"spec":{"type":"ExternalName","externalName":"example.com."}}"#).get())
            #expect(external.value(at: ["spec", "clusterIP"]) == nil)
            #expect(external.value(at: ["spec", "ipFamilies"]) == nil)
            #expect(external.value(at: ["spec", "internalTrafficPolicy"]) == nil)

            // Ports of one number share a node port (DNS over UDP and TCP).
            let dns = try #require(try await Self.create(api, #"{"metadata":{"name":"dns"},"spec":{"type":"NodePort","ports":[{"name":"dns","port":53,"protocol":"UDP"},{"name":"dns-tcp","port":53,"protocol":"TCP"}]}}"#).get())
            let dnsPorts = dns.value(at: ["spec", "ports"])?.arrayValue?.compactMap { $0["nodePort"]?.intValue } ?? []
            #expect(dnsPorts.count == 2 && dnsPorts[0] == dnsPorts[1])
        }
    }

    @Test func portsAreCheckedWithKubernetesMessages() async throws {
        try await withTestAPI { api in
            let cases: [(String, String)] = [
                (#"{"metadata":{"name":"a"},"spec":{}}"#, #"Service "a" is invalid: spec.ports: Required value"#),
                (#"{"metadata":{"name":"a"},"spec":{"ports":[{"port":80},{"port":81}]}}"#,
                 #"Service "a" is invalid: [spec.ports[0].name: Required value, spec.ports[1].name: Required value]"#),
                (#"{"metadata":{"name":"a"},"spec":{"ports":[{"name":"x","port":80},{"name":"x","port":81}]}}"#,
                 #"Service "a" is invalid: spec.ports[1].name: Duplicate value: "x""#),
                (#"{"metadata":{"name":"a"},"spec":{"ports":[{"name":"a","port":80},{"name":"b","port":80}]}}"#,
                 #"Service "a" is invalid: spec.ports[1]: Duplicate value: {"Name":"","Protocol":"TCP","AppProtocol":null,"Port":80,"TargetPort":0,"NodePort":0}"#),
                (#"{"metadata":{"name":"a"},"spec":{"ports":[{"port":0}]}}"#,
                 #"Service "a" is invalid: [spec.ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive, spec.ports[0].targetPort: Invalid value: 0: must be between 1 and 65535, inclusive]"#),
                (#"{"metadata":{"name":"a"},"spec":{"ports":[{"port":80,"protocol":"ICMP"}]}}"#,
                 #"Service "a" is invalid: spec.ports[0].protocol: Unsupported value: "ICMP": supported values: "SCTP", "TCP", "UDP""#),
                (#"{"metadata":{"name":"a"},"spec":{"ports":[{"port":80,"targetPort":"Web_Port"}]}}"#,
                 #"Service "a" is invalid: spec.ports[0].targetPort: Invalid value: "Web_Port": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)"#),
                (#"{"metadata":{"name":"a"},"spec":{"ports":[{"port":80,"targetPort":"8080"}]}}"#,
                 #"Service "a" is invalid: spec.ports[0].targetPort: Invalid value: "8080": must contain at least one letter (a-z)"#),
                (#"{"metadata":{"name":"a"},"spec":{"ports":[{"port":80,"targetPort":70000}]}}"#,
                 #"Service "a" is invalid: spec.ports[0].targetPort: Invalid value: 70000: must be between 1 and 65535, inclusive"#),
                (#"{"metadata":{"name":"a"},"spec":{"ports":[{"name":"Web","port":80}]}}"#,
                 #"Service "a" is invalid: spec.ports[0].name: Invalid value: "Web": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"#),
                (#"{"metadata":{"name":"a"},"spec":{"ports":[{"port":80,"nodePort":30080}]}}"#,
                 #"Service "a" is invalid: spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'"#),
                (#"{"metadata":{"name":"a"},"spec":{"type":"Bridge","ports":[{"port":80}]}}"#,
                 #"Service "a" is invalid: spec.type: Unsupported value: "Bridge": supported values: "ClusterIP", "ExternalName", "LoadBalancer", "NodePort""#),
                (#"{"metadata":{"name":"a"},"spec":{"selector":{"app":"a b"},"ports":[{"port":80}]}}"#,
                 #"Service "a" is invalid: spec.selector: Invalid value: "a b": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"#),
                (#"{"metadata":{"name":"1a"},"spec":{"ports":[{"port":80}]}}"#,
                 #"Service "1a" is invalid: metadata.name: Invalid value: "1a": a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"#),
            ]
            for (body, expected) in cases {
                let message = try await Self.message(api, body)
                #expect(message == expected, "\(body)")
            }
        }
    }

    @Test func typesAddressesAndPoliciesAreChecked() async throws {
        try await withTestAPI { api in
            let cases: [(String, String)] = [
                (#"{"metadata":{"name":"a"},"spec":{"type":"NodePort","clusterIP":"None","ports":[{"port":80}]}}"#,
                 #"Service "a" is invalid: spec.clusterIPs[0]: Invalid value: "None": may not be set to 'None' for NodePort services"#),
                (#"{"metadata":{"name":"a"},"spec":{"type":"ExternalName"}}"#,
                 #"Service "a" is invalid: spec.externalName: Required value"#),
                (#"{"metadata":{"name":"a"},"spec":{"type":"ExternalName","externalName":"not a name"}}"#,
                 #"Service "a" is invalid: spec.externalName: Invalid value: "not a name": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"#),
                (#"{"metadata":{"name":"a"},"spec":{"type":"ExternalName","externalName":"example.com","clusterIP":"10.43.9.9"}}"#,
                 #"Service "a" is invalid: spec.clusterIPs: Forbidden: may not be set for ExternalName services"#),
                (#"{"metadata":{"name":"a"},"spec":{"clusterIP":"10.43.0.300","ports":[{"port":80}]}}"#,
                 #"Service "a" is invalid: spec.clusterIPs[0]: Invalid value: "10.43.0.300": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"#),
                (#"{"metadata":{"name":"a"},"spec":{"clusterIP":"10.43.0.5","clusterIPs":["10.43.0.6"],"ports":[{"port":80}]}}"#,
                 #"Service "a" is invalid: spec.clusterIPs: Invalid value: ["10.43.0.6"]: first value must match `clusterIP`"#),
                (#"{"metadata":{"name":"a"},"spec":{"clusterIP":"fd00::5","ports":[{"port":80}]}}"#,
                 #"Service "a" is invalid: spec.clusterIPs[0]: Invalid value: ["fd00::5"]: IPv6 is not configured on this cluster"#),
                (#"{"metadata":{"name":"a"},"spec":{"ipFamilies":["IPv6"],"ports":[{"port":80}]}}"#,
                 #"Service "a" is invalid: spec.ipFamilies[0]: Invalid value: "IPv6": not configured on this cluster"#),
                (#"{"metadata":{"name":"a"},"spec":{"ipFamilyPolicy":"RequireDualStack","ports":[{"port":80}]}}"#,
                 #"Service "a" is invalid: spec.ipFamilyPolicy: Invalid value: "RequireDualStack": this cluster is not configured for dual-stack services"#),
                (#"{"metadata":{"name":"a"},"spec":{"ipFamilyPolicy":"Sometimes","ports":[{"port":80}]}}"#,
                 #"Service "a" is invalid: spec.ipFamilyPolicy: Unsupported value: "Sometimes": supported values: "PreferDualStack", "RequireDualStack", "SingleStack""#),
                (#"{"metadata":{"name":"a"},"spec":{"sessionAffinity":"Sticky","ports":[{"port":80}]}}"#,
                 #"Service "a" is invalid: spec.sessionAffinity: Unsupported value: "Sticky": supported values: "ClientIP", "None""#),
                (#"{"metadata":{"name":"a"},"spec":{"sessionAffinity":"ClientIP","sessionAffinityConfig":{"clientIP":{"timeoutSeconds":0}},"ports":[{"port":80}]}}"#,
                 #"Service "a" is invalid: spec.sessionAffinityConfig.clientIP.timeoutSeconds: Invalid value: 0: must be greater than 0 and less than 86400"#),
                (#"{"metadata":{"name":"a"},"spec":{"externalTrafficPolicy":"Local","ports":[{"port":80}]}}"#,
                 #"Service "a" is invalid: spec.externalTrafficPolicy: Invalid value: "Local": may only be set for externally-accessible services"#),
                (#"{"metadata":{"name":"a"},"spec":{"type":"NodePort","externalTrafficPolicy":"Nearby","ports":[{"port":80}]}}"#,
                 #"Service "a" is invalid: spec.externalTrafficPolicy: Unsupported value: "Nearby": supported values: "Cluster", "Local""#),
                (#"{"metadata":{"name":"a"},"spec":{"internalTrafficPolicy":"Node","ports":[{"port":80}]}}"#,
                 #"Service "a" is invalid: spec.internalTrafficPolicy: Unsupported value: "Node": supported values: "Cluster", "Local""#),
                (#"{"metadata":{"name":"a"},"spec":{"externalIPs":["127.0.0.1"],"ports":[{"port":80}]}}"#,
                 #"Service "a" is invalid: spec.externalIPs[0]: Invalid value: "127.0.0.1": may not be in the loopback range (127.0.0.0/8, ::1/128)"#),
                (#"{"metadata":{"name":"a"},"spec":{"loadBalancerSourceRanges":["10.0.0.0/8"],"ports":[{"port":80}]}}"#,
                 #"Service "a" is invalid: spec.LoadBalancerSourceRanges: Forbidden: may only be used when `type` is 'LoadBalancer'"#),
            ]
            for (body, expected) in cases {
                let message = try await Self.message(api, body)
                #expect(message == expected, "\(body)")
            }
        }
    }

    @Test func hostileBodiesAreBadRequests() async throws {
        try await withTestAPI { api in
            let cases: [(String, String)] = [
                // Kubernetes names the Go struct field without indices.
                (#"{"metadata":{"name":"a"},"spec":{"ports":[{"port":"80"}]}}"#, "Go struct field ServicePort.spec.ports.port"),
                (#"{"metadata":{"name":"a"},"spec":{"ports":[{"port":99999999999}]}}"#, "spec.ports[0].port"),
                (#"{"metadata":{"name":"a"},"spec":{"ports":"80"}}"#, "spec.ports"),
                (#"{"metadata":{"name":"a"},"spec":{"selector":["app"]}}"#, "spec.selector"),
                (#"{"metadata":{"name":"a"},"spec":{"ports":[{"port":80,"targetPort":{"x":1}}]}}"#, "Go struct field ServicePort.spec.ports.targetPort"),
            ]
            for (body, field) in cases {
                guard case .failure(let error) = try await Self.create(api, body) else {
                    Issue.record("accepted: \(body)")
                    continue
                }
                #expect(error.code == 400, "\(body): \(error)")
                #expect(error.message.hasPrefix(#"Service in version "v1" cannot be handled as a Service: "#), "\(error.message)")
                #expect(error.message.contains(field), "\(error.message)")
            }
            guard case .failure(let strict) = try await Self.create(api, #"{"metadata":{"name":"a"},"spec":{"ports":[{"port":80,"nodeport":1}]}}"#,
                                                                     fieldValidation: .strict) else {
                Issue.record("an unknown field passed strict validation")
                return
            }
            #expect(strict.message == #"Service in version "v1" cannot be handled as a Service: strict decoding error: unknown field "spec.ports[0].nodeport""#)
            // Nothing refused above holds an address or a port.
            let counts = try await api.service.services.counts
            #expect(counts.ips == 1 && counts.nodePorts == 0, "\(counts)")
        }
    }
}
