@testable import APIMachinery
@testable import APIRegistry
import APITestSupport
import Foundation
import KubeAPI
import Testing

/// Ingresses and IngressClasses through the API in process: Kubernetes 1.32's validation
/// messages and field paths, hostile values refused with nothing stored, the status and
/// generation rules of the registry, and the DefaultIngressClass admission.
@Suite struct IngressValidationTests {
    static let subdomain = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
    static let wildcard = "a wildcard DNS-1123 subdomain must start with '*.', followed by a valid DNS subdomain, which must consist of lower case alphanumeric characters, '-' or '.' and end with an alphanumeric character (e.g. '*.example.com', regex used for validation is '\\*\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
    static let prefix = #"Ingress.networking.k8s.io "x" is invalid: "#
    static let backend = #"{"service":{"name":"web","port":{"number":80}}}"#

    /// The story's Ingress.
    static let story = """
        {"metadata":{"name":"letschat"},"spec":{"rules":[{"host":"www.letschat.com","http":{"paths":[
          {"path":"/","pathType":"Prefix","backend":{"service":{"name":"letschat","port":{"number":8080}}}}]}}]}}
        """

    static func withPath(_ path: String) -> String {
        #"{"metadata":{"name":"x"},"spec":{"rules":[{"host":"a.example.com","http":{"paths":[\#(path)]}}]}}"#
    }

    static func withHost(_ host: String) -> String {
        #"{"metadata":{"name":"x"},"spec":{"rules":[{"host":"\#(host)","http":{"paths":[{"path":"/","pathType":"Prefix","backend":\#(backend)}]}}]}}"#
    }

    static func withBackend(_ backend: String) -> String {
        withPath(#"{"path":"/","pathType":"Prefix","backend":\#(backend)}"#)
    }

    static func object(_ body: String) throws -> KubeObject {
        guard case .object(let fields) = try json(body) else { throw TestFailure("not a JSON object: \(body)") }
        return KubeObject(fields: fields)
    }

    static func create(_ api: TestAPI, _ body: String) async throws -> Result<KubeObject, APIError> {
        try await create(api, .ingresses, body)
    }

    static func create(_ api: TestAPI, _ ref: ResourceRef, _ body: String) async throws -> Result<KubeObject, APIError> {
        let object = try object(body)
        do {
            return .success(try await api.client.create(ref, namespace: ref == .ingresses ? "default" : nil, object))
        } catch {
            return .failure(error)
        }
    }

    /// Sets the host of the first rule.
    static func setHost(_ ingress: inout KubeObject, _ host: String) {
        var rules = ingress.value(at: ["spec", "rules"])?.arrayValue ?? []
        guard var rule = rules.first?.objectValue else { return }
        rule["host"] = .string(host)
        rules[0] = .object(rule)
        ingress.set(.array(rules), at: ["spec", "rules"])
    }

    static func message(_ result: Result<KubeObject, APIError>) -> String {
        if case .failure(let error) = result { return error.message }
        return "accepted"
    }

    @Test func theStorysIngressIsStoredWithTheDefaultClassAndNoStatus() async throws {
        try await withTestAPI { api in
            let body = Self.story.replacingOccurrences(of: #""spec":"#, with: #""status":{"loadBalancer":{"ingress":[{"ip":"6.6.6.6"}]}},"spec":"#)
            let created = try await Self.create(api, body).get()
            #expect(created.generation == 1)
            #expect(created.string(at: ["spec", "ingressClassName"]) == "swiftlet", "the server's class is the default")
            #expect(created.fields["status"] == .object(["loadBalancer": .object([:])]), "create cannot set status")
            #expect(created.fields["apiVersion"] == .string("networking.k8s.io/v1") && created.fields["kind"] == .string("Ingress"))
            let path = created.value(at: ["spec", "rules"])?.arrayValue?.first?["http"]?["paths"]?.arrayValue?.first
            #expect(path == .object(["path": .string("/"), "pathType": .string("Prefix"),
                                     "backend": .object(["service": .object(["name": .string("letschat"), "port": .object(["number": .int(8080)])])])]))
        }
    }

    static let badIngresses: [(String, String)] = [
        (withHost("1.2.3.4"), #"spec.rules[0].host: Invalid value: "1.2.3.4": must be a DNS name, not an IP address"#),
        (withHost("Foo.example.com"), #"spec.rules[0].host: Invalid value: "Foo.example.com": \#(subdomain)"#),
        (withHost("a.example.com:8080"), #"spec.rules[0].host: Invalid value: "a.example.com:8080": \#(subdomain)"#),
        (withHost("foo.*.example.com"), #"spec.rules[0].host: Invalid value: "foo.*.example.com": \#(wildcard)"#),
        (withHost("*"), #"spec.rules[0].host: Invalid value: "*": \#(wildcard)"#),
        (withHost("*.*.example.com"), #"spec.rules[0].host: Invalid value: "*.*.example.com": \#(wildcard)"#),
        (withHost("*example.com"), #"spec.rules[0].host: Invalid value: "*example.com": \#(wildcard)"#),
        (withHost("ä.example.com"), #"spec.rules[0].host: Invalid value: "ä.example.com": \#(subdomain)"#),
        (withHost(String(repeating: "a.", count: 127) + "com"),
         #"spec.rules[0].host: Invalid value: "\#(String(repeating: "a.", count: 127) + "com")": must be no more than 253 characters"#),
        (withHost("::1"), #"[spec.rules[0].host: Invalid value: "::1": must be a DNS name, not an IP address, spec.rules[0].host: Invalid value: "::1": \#(subdomain)]"#),
        (withPath(#"{"path":"/","backend":\#(backend)}"#), "spec.rules[0].http.paths[0].pathType: Required value: pathType must be specified"),
        (withPath(#"{"path":"/","pathType":"Regex","backend":\#(backend)}"#),
         #"spec.rules[0].http.paths[0].pathType: Unsupported value: "Regex": supported values: "Exact", "ImplementationSpecific", "Prefix""#),
        (withPath(#"{"path":"foo","pathType":"Prefix","backend":\#(backend)}"#), #"spec.rules[0].http.paths[0].path: Invalid value: "foo": must be an absolute path"#),
        (withPath(#"{"pathType":"Exact","backend":\#(backend)}"#), #"spec.rules[0].http.paths[0].path: Invalid value: "": must be an absolute path"#),
        (withPath(#"{"path":"/a//b","pathType":"Exact","backend":\#(backend)}"#), #"spec.rules[0].http.paths[0].path: Invalid value: "/a//b": must not contain '//'"#),
        (withPath(#"{"path":"/a/../b","pathType":"Prefix","backend":\#(backend)}"#), #"spec.rules[0].http.paths[0].path: Invalid value: "/a/../b": must not contain '/../'"#),
        (withPath(#"{"path":"/a/./b","pathType":"Prefix","backend":\#(backend)}"#), #"spec.rules[0].http.paths[0].path: Invalid value: "/a/./b": must not contain '/./'"#),
        (withPath(#"{"path":"/a%2Fb","pathType":"Prefix","backend":\#(backend)}"#), #"spec.rules[0].http.paths[0].path: Invalid value: "/a%2Fb": must not contain '%2F'"#),
        (withPath(#"{"path":"/a/..","pathType":"Prefix","backend":\#(backend)}"#), #"spec.rules[0].http.paths[0].path: Invalid value: "/a/..": cannot end with '/..'"#),
        (withPath(#"{"path":"foo","pathType":"ImplementationSpecific","backend":\#(backend)}"#),
         #"spec.rules[0].http.paths[0].path: Invalid value: "foo": must be an absolute path"#),
        (withBackend(#"{"service":{"name":"web","port":{"number":80}},"resource":{"kind":"Bucket","name":"b"}}"#),
         #"spec.rules[0].http.paths[0].backend: Invalid value: "": cannot set both resource and service backends"#),
        (withBackend("{}"), #"spec.rules[0].http.paths[0].backend: Invalid value: "": resource or service backend is required"#),
        (withBackend(#"{"service":{"name":"web","port":{"name":"http","number":80}}}"#),
         #"spec.rules[0].http.paths[0].backend: Invalid value: "": cannot set both port name & port number"#),
        (withBackend(#"{"service":{"name":"web"}}"#), "spec.rules[0].http.paths[0].backend: Required value: port name or number is required"),
        (withBackend(#"{"service":{"name":"web","port":{}}}"#), "spec.rules[0].http.paths[0].backend: Required value: port name or number is required"),
        (withBackend(#"{"service":{"name":"web","port":{"number":70000}}}"#),
         "spec.rules[0].http.paths[0].backend.service.port.number: Invalid value: 70000: must be between 1 and 65535, inclusive"),
        (withBackend(#"{"service":{"name":"web","port":{"number":-1}}}"#),
         "spec.rules[0].http.paths[0].backend.service.port.number: Invalid value: -1: must be between 1 and 65535, inclusive"),
        (withBackend(#"{"service":{"name":"web","port":{"name":"http--x"}}}"#),
         #"spec.rules[0].http.paths[0].backend.service.port.name: Invalid value: "http--x": must not contain consecutive hyphens"#),
        (withBackend(#"{"service":{"port":{"number":80}}}"#), "spec.rules[0].http.paths[0].backend.service.name: Required value"),
        (withBackend(#"{"service":{"name":"1web","port":{"number":80}}}"#),
         #"spec.rules[0].http.paths[0].backend.service.name: Invalid value: "1web": a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"#),
        (withBackend(#"{"resource":{"apiGroup":"Example.COM","kind":"a/b","name":".."}}"#),
         #"[spec.rules[0].http.paths[0].backend.resource.apiGroup: Invalid value: "Example.COM": \#(subdomain), spec.rules[0].http.paths[0].backend.resource.kind: Invalid value: "a/b": may not contain '/', spec.rules[0].http.paths[0].backend.resource.name: Invalid value: "..": may not be '..']"#),
        (withBackend(#"{"resource":{"apiGroup":"k8s.example.com"}}"#),
         "[spec.rules[0].http.paths[0].backend.resource.kind: Required value, spec.rules[0].http.paths[0].backend.resource.name: Required value]"),
        (#"{"metadata":{"name":"x"},"spec":{"rules":[{"host":"a.example.com","http":{"paths":[]}}]}}"#, "spec.rules[0].http.paths: Required value"),
        (#"{"metadata":{"name":"x"},"spec":{}}"#, "spec: Invalid value: []networking.IngressRule(nil): either `defaultBackend` or `rules` must be specified"),
        (#"{"metadata":{"name":"x"},"spec":{"rules":[]}}"#, "spec: Invalid value: []networking.IngressRule{}: either `defaultBackend` or `rules` must be specified"),
        (#"{"metadata":{"name":"x"},"spec":{"defaultBackend":{"service":{"name":"web"}}}}"#, "spec.defaultBackend: Required value: port name or number is required"),
        (#"{"metadata":{"name":"x"},"spec":{"defaultBackend":\#(backend),"tls":[{"hosts":["*.a.example.com","b_c.example.com"],"secretName":"Bad_Name"}]}}"#,
         #"[spec.tls[0].hosts[1]: Invalid value: "b_c.example.com": \#(subdomain), spec.tls[0].secretName: Invalid value: "Bad_Name": \#(subdomain)]"#),
        (#"{"metadata":{"name":"x"},"spec":{"ingressClassName":"Nginx","defaultBackend":\#(backend)}}"#,
         #"spec.ingressClassName: Invalid value: "Nginx": \#(subdomain)"#),
        (#"{"metadata":{"name":"x","annotations":{"kubernetes.io/ingress.class":"nginx"}},"spec":{"ingressClassName":"swiftlet","defaultBackend":\#(backend)}}"#,
         #"annotations.kubernetes.io/ingress.class: Invalid value: "nginx": must match `ingressClassName` when both are specified"#),
        (#"{"metadata":{"name":"X"},"spec":{"defaultBackend":{}}}"#,
         #"[metadata.name: Invalid value: "X": \#(subdomain), spec.defaultBackend: Invalid value: "": resource or service backend is required]"#),
    ]

    @Test(arguments: IngressValidationTests.badIngresses)
    func badIngressesGetKubernetesMessagesAndNothingIsStored(body: String, expected: String) async throws {
        try await withTestAPI { api in
            let result = try await Self.create(api, body)
            let name = body.contains(#""name":"X""#) ? "X" : "x"
            #expect(Self.message(result) == #"Ingress.networking.k8s.io "\#(name)" is invalid: "# + expected)
            if case .failure(let error) = result { #expect(error.code == 422) }
            #expect(try await api.client.list(.ingresses).items.isEmpty, "nothing stored")
        }
    }

    @Test func wildcardsAndImplementationSpecificPathsAreAccepted() async throws {
        try await withTestAPI { api in
            for (index, body) in [
                Self.withHost("*.example.com"),
                Self.withPath(#"{"pathType":"ImplementationSpecific","backend":\#(Self.backend)}"#),
                Self.withPath(#"{"path":"/a//b.*","pathType":"ImplementationSpecific","backend":\#(Self.backend)}"#),
                Self.withPath(#"{"path":"/","pathType":"Exact","backend":{"resource":{"apiGroup":"k8s.example.com","kind":"StorageBucket","name":"static"}}}"#),
                Self.withBackend(#"{"service":{"name":"web","port":{"name":"http"}}}"#),
                #"{"metadata":{"name":"x"},"spec":{"defaultBackend":\#(Self.backend),"tls":[{"hosts":["*.example.com"]},{"secretName":"tls"}]}}"#,
                // A host-only rule (no http) is allowed, as upstream.
                #"{"metadata":{"name":"x"},"spec":{"defaultBackend":\#(Self.backend),"rules":[{"host":"only.example.com"}]}}"#,
            ].enumerated() {
                let result = try await Self.create(api, body.replacingOccurrences(of: #""name":"x""#, with: #""name":"ok-\#(index)""#))
                #expect(Self.message(result) == "accepted", "\(body)")
            }
        }
    }

    @Test func unknownFieldsAndWrongTypesAreRefusedOrDropped() async throws {
        try await withTestAPI { api in
            // The schema knows the inline `http` of a rule, and what is not a field.
            let unknown = try await Self.create(api, Self.withPath(#"{"path":"/","pathType":"Prefix","backend":\#(Self.backend),"regex":true}"#))
            let stored = try unknown.get()
            #expect(stored.value(at: ["spec", "rules"])?.arrayValue?.first?["http"]?["paths"]?.arrayValue?.first?["regex"] == nil)
            #expect(try await api.client.delete(.ingresses, namespace: "default", name: "x") != nil)
            for (body, found) in [
                (Self.withBackend(#"{"service":{"name":"web","port":{"number":"80"}}}"#),
                 "json: cannot unmarshal string into Go struct field ServiceBackendPort.spec.rules.http.paths.backend.service.port.number of type integer"),
                (Self.withPath(#"{"path":1,"pathType":"Prefix","backend":\#(Self.backend)}"#),
                 "json: cannot unmarshal number 1 into Go struct field HTTPIngressPath.spec.rules.http.paths.path of type string"),
                (#"{"metadata":{"name":"x"},"spec":{"rules":{"host":"a"}}}"#,
                 "json: cannot unmarshal object into Go struct field IngressSpec.spec.rules of type []v1.IngressRule"),
            ] {
                let result = try await Self.create(api, body)
                guard case .failure(let error) = result else { Issue.record("accepted \(body)"); continue }
                #expect(error.code == 400)
                #expect(error.message == #"Ingress in version "v1" cannot be handled as a Ingress: \#(found)"#, "\(body)")
            }
            // An int32 field beyond int32: refused as Go's decoder refuses it, not wrapped.
            let huge = try await Self.create(api, Self.withBackend(#"{"service":{"name":"web","port":{"number":99999999999}}}"#))
            guard case .failure(let error) = huge else { Issue.record("accepted a port beyond int32"); return }
            #expect(error.code == 400 || error.code == 422, "\(error.message)")
            #expect(try await api.client.list(.ingresses).items.isEmpty)
        }
    }

    @Test func statusIsOnlyWrittenThroughTheSubresourceAndGenerationFollowsTheSpec() async throws {
        try await withTestAPI { api in
            var ingress = try await Self.create(api, Self.story).get()
            // The status subresource: the spec in the body is ignored, the addresses checked.
            var statusWrite = ingress
            statusWrite.set(.object(["loadBalancer": .object(["ingress": .array([.object(["ip": .string("10.0.0.2")])])])]), at: ["status"])
            Self.setHost(&statusWrite, "changed.example.com")
            ingress = try await api.client.update(.ingresses, statusWrite, subresource: "status")
            #expect(ingress.value(at: ["status", "loadBalancer", "ingress"])?.arrayValue?.first?["ip"] == .string("10.0.0.2"))
            #expect(ingress.value(at: ["spec", "rules"])?.arrayValue?.first?["host"] == .string("www.letschat.com"))
            #expect(ingress.generation == 1)
            for (entry, expected) in [
                (#"{"ip":"10.0.0.300"}"#, #"status.loadBalancer.ingress[0].ip: Invalid value: "10.0.0.300": must be a valid IP address"#),
                (#"{"hostname":"10.0.0.3"}"#, #"status.loadBalancer.ingress[0].hostname: Invalid value: "10.0.0.3": must be a DNS name, not an IP address"#),
                (#"{"hostname":"LB.example.com"}"#, #"status.loadBalancer.ingress[0].hostname: Invalid value: "LB.example.com": \#(Self.subdomain)"#),
            ] {
                var bad = ingress
                bad.set(.object(["loadBalancer": .object(["ingress": .array([try json(entry)])])]), at: ["status"])
                do throws(APIError) {
                    _ = try await api.client.update(.ingresses, bad, subresource: "status")
                    Issue.record("accepted status \(entry)")
                } catch {
                    #expect(error.message == #"Ingress.networking.k8s.io "letschat" is invalid: \#(expected)"#)
                }
            }
            // The main resource keeps the status; a spec change bumps the generation, a label does not.
            var update = ingress
            update.set(.object([:]), at: ["status"])
            update.labels = ["app": "letschat"]
            ingress = try await api.client.update(.ingresses, update)
            #expect(ingress.generation == 1)
            #expect(ingress.value(at: ["status", "loadBalancer", "ingress"])?.arrayValue?.count == 1)
            update = ingress
            Self.setHost(&update, "chat.example.com")
            ingress = try await api.client.update(.ingresses, update)
            #expect(ingress.generation == 2)
            // An update is validated too, and refused whole.
            update = ingress
            Self.setHost(&update, "10.1.1.1")
            do throws(APIError) {
                _ = try await api.client.update(.ingresses, update)
                Issue.record("accepted an IP host on update")
            } catch {
                #expect(error.code == 422)
            }
            #expect(try await api.client.get(.ingresses, namespace: "default", name: "letschat")?.resourceVersion == ingress.resourceVersion)
        }
    }

    @Test func theDefaultClassIsTheNewestAnnotatedOneAndOnlyForNewIngressesWithoutAClass() async throws {
        try await withTestAPI { api in
            func ingressClass(_ name: String, isDefault: Bool) async throws {
                let annotations = isDefault ? #","annotations":{"ingressclass.kubernetes.io/is-default-class":"true"}"# : ""
                _ = try await Self.create(api, .ingressClasses, #"{"metadata":{"name":"\#(name)"\#(annotations)},"spec":{"controller":"example.com/\#(name)"}}"#).get()
            }
            func className(_ name: String, _ metadata: String = "", spec: String = "") async throws -> String? {
                let body = #"{"metadata":{"name":"\#(name)"\#(metadata)},"spec":{\#(spec)"defaultBackend":\#(Self.backend)}}"#
                return try await Self.create(api, body).get().string(at: ["spec", "ingressClassName"])
            }
            #expect(try await className("a") == "swiftlet")
            // Created in the same second as swiftlet's, or later: "b" wins either as newer or
            // on the name ("b" < "swiftlet").
            try await ingressClass("b", isDefault: true)
            #expect(try await className("b1") == "b")
            try await Task.sleep(for: .milliseconds(1100))
            try await ingressClass("z", isDefault: true)
            #expect(try await className("c") == "z", "the newest default wins")
            try await ingressClass("y", isDefault: false)
            #expect(try await className("d", spec: #""ingressClassName":"y","#) == "y", "a class asked for is kept")
            #expect(try await className("e", #","annotations":{"kubernetes.io/ingress.class":"nginx"}"#) == nil, "the legacy annotation is a class")
            #expect(try await className("f", spec: #""ingressClassName":null,"#) == "z")
            // Updates are not defaulted.
            var ingress = try #require(try await api.client.get(.ingresses, namespace: "default", name: "a"))
            ingress.set(.null, at: ["spec", "ingressClassName"])
            ingress = try await api.client.update(.ingresses, ingress)
            #expect(ingress.string(at: ["spec", "ingressClassName"]) == nil)
            // No default class at all: no class.
            for name in ["swiftlet", "b", "z"] {
                _ = try await api.client.delete(.ingressClasses, namespace: nil, name: name)
            }
            #expect(try await className("g") == nil)
        }
    }

    @Test func theServersClassIsCreatedAtEachStartWhenMissingAndNeverChanged() async throws {
        try await withTestAPI { api in
            var created = try #require(try await api.client.get(.ingressClasses, namespace: nil, name: "swiftlet"))
            #expect(created.string(at: ["spec", "controller"]) == "swiftlet.io/ingress")
            #expect(created.annotations["ingressclass.kubernetes.io/is-default-class"] == "true")
            #expect(created.generation == 1)
            // A user's edit stays across a restart.
            created.metadata["annotations"] = .object(["ingressclass.kubernetes.io/is-default-class": .string("false")])
            created = try await api.client.update(.ingressClasses, created)
            try await api.service.bootstrap()
            #expect(try await api.client.get(.ingressClasses, namespace: nil, name: "swiftlet")?.resourceVersion == created.resourceVersion)
            // Deleted: back at the next start, the default again when no other class is.
            _ = try await api.client.delete(.ingressClasses, namespace: nil, name: "swiftlet")
            try await api.service.bootstrap()
            #expect(try await api.client.get(.ingressClasses, namespace: nil, name: "swiftlet")?.annotations["ingressclass.kubernetes.io/is-default-class"] == "true")
            // With another default: back, but without taking the default from it.
            _ = try await api.client.delete(.ingressClasses, namespace: nil, name: "swiftlet")
            _ = try await Self.create(api, .ingressClasses, #"{"metadata":{"name":"nginx","annotations":{"ingressclass.kubernetes.io/is-default-class":"true"}},"spec":{"controller":"k8s.io/ingress-nginx"}}"#).get()
            try await api.service.bootstrap()
            let again = try #require(try await api.client.get(.ingressClasses, namespace: nil, name: "swiftlet"))
            #expect(again.annotations["ingressclass.kubernetes.io/is-default-class"] == nil)
        }
    }

    static let badIngressClasses: [(String, String)] = [
        (#"{"metadata":{"name":"c"},"spec":{}}"#, "spec.controller: Required value"),
        (#"{"metadata":{"name":"c"},"spec":{"controller":"nginx"}}"#, #"spec.controller: Invalid value: "nginx": must be a domain-prefixed path (such as "acme.io/foo")"#),
        (#"{"metadata":{"name":"c"},"spec":{"controller":"example.com/"}}"#, #"spec.controller: Invalid value: "example.com/": must be a domain-prefixed path (such as "acme.io/foo")"#),
        (#"{"metadata":{"name":"c"},"spec":{"controller":"Example.com/x"}}"#, #"spec.controller: Invalid value: "Example.com": \#(subdomain)"#),
        (#"{"metadata":{"name":"c"},"spec":{"controller":"example.com/a b"}}"#,
         #"spec.controller: Invalid value: "a b": Invalid path (regex used for validation is '[A-Za-z0-9/\-._~%!$&'()*+,;=:]+')"#),
        (#"{"metadata":{"name":"c"},"spec":{"controller":"example.com/\#(String(repeating: "a", count: 240))"}}"#,
         "spec.controller: Too long: may not be more than 250 bytes"),
        (#"{"metadata":{"name":"c"},"spec":{"controller":"example.com/x","parameters":{"kind":"Params","name":"p","scope":"Global"}}}"#,
         #"spec.parameters.scope: Unsupported value: "Global": supported values: "Cluster", "Namespace""#),
        (#"{"metadata":{"name":"c"},"spec":{"controller":"example.com/x","parameters":{"kind":"Params","name":"p","scope":"Namespace"}}}"#,
         "spec.parameters.namespace: Required value: `parameters.scope` is set to 'Namespace'"),
        (#"{"metadata":{"name":"c"},"spec":{"controller":"example.com/x","parameters":{"kind":"Params","name":"p","namespace":"default"}}}"#,
         "spec.parameters.namespace: Forbidden: `parameters.scope` is set to 'Cluster'"),
        (#"{"metadata":{"name":"c"},"spec":{"controller":"example.com/x","parameters":{"kind":"Params","name":"p","scope":"Namespace","namespace":"Bad.NS"}}}"#,
         #"spec.parameters.namespace: Invalid value: "Bad.NS": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"#),
        (#"{"metadata":{"name":"c"},"spec":{"controller":"example.com/x","parameters":{"apiGroup":"k8s.example.com"}}}"#,
         "[spec.parameters.kind: Required value, spec.parameters.name: Required value]"),
    ]

    @Test(arguments: IngressValidationTests.badIngressClasses)
    func badIngressClassesGetKubernetesMessages(body: String, expected: String) async throws {
        try await withTestAPI { api in
            let result = try await Self.create(api, .ingressClasses, body)
            #expect(Self.message(result) == #"IngressClass.networking.k8s.io "c" is invalid: "# + expected)
            #expect(try await api.client.get(.ingressClasses, namespace: nil, name: "c") == nil)
        }
    }

    @Test func anIngressClassKeepsItsControllerAndGetsItsScopeDefaulted() async throws {
        try await withTestAPI { api in
            var created = try await Self.create(api, .ingressClasses,
                                                #"{"metadata":{"name":"c"},"spec":{"controller":"example.com/x","parameters":{"apiGroup":"k8s.example.com","kind":"Params","name":"p"}}}"#).get()
            #expect(created.string(at: ["spec", "parameters", "scope"]) == "Cluster")
            created.set(.string("example.com/y"), at: ["spec", "controller"])
            do throws(APIError) {
                _ = try await api.client.update(.ingressClasses, created)
                Issue.record("the controller changed")
            } catch {
                #expect(error.message == #"IngressClass.networking.k8s.io "c" is invalid: spec.controller: Invalid value: "example.com/y": field is immutable"#)
            }
            created.set(.string("example.com/x"), at: ["spec", "controller"])
            created.set(.string("Other"), at: ["spec", "parameters", "kind"])
            let updated = try await api.client.update(.ingressClasses, created)
            #expect(updated.generation == 2)
        }
    }

    @Test func servedBySwiftletFollowsTheClassOrTheLegacyAnnotation() {
        let controllers = ["swiftlet": IngressClass.swiftletController, "nginx": "k8s.io/ingress-nginx", "mine": IngressClass.swiftletController]
        func served(_ className: String?, _ annotation: String?) -> Bool {
            IngressClass.servedBySwiftlet(className: className, legacyAnnotation: annotation) { controllers[$0] }
        }
        #expect(served("swiftlet", nil))
        #expect(served("mine", nil), "any class of swiftlet's controller")
        #expect(!served("nginx", nil))
        #expect(!served("missing", nil))
        #expect(!served(nil, nil))
        #expect(served(nil, "swiftlet"))
        #expect(!served("swiftlet", "nginx"), "the annotation wins, as in ingress-nginx")
    }
}
