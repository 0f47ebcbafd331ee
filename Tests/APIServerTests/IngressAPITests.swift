@testable import APIMachinery
@testable import APIRegistry
@testable import APIServer
import APITestSupport
import Foundation
import KubeAPI
import ServerTestSupport
import Testing

/// networking.k8s.io/v1 over HTTPS as `swiftlet server` serves it: discovery, the kubectl
/// table cells, hostile bodies, and what a node may read for its ingress proxy.
@Suite struct IngressAPITests {
    static let ingresses = "/apis/networking.k8s.io/v1/namespaces/default/ingresses"
    static let secrets = "/api/v1/namespaces/default/secrets"

    static func tlsIngress(_ name: String, secret: String) -> String {
        #"{"apiVersion":"networking.k8s.io/v1","kind":"Ingress","metadata":{"name":"\#(name)"},"spec":{"tls":[{"hosts":["a.example.com"],"secretName":"\#(secret)"}],"defaultBackend":{"service":{"name":"web","port":{"number":80}}}}}"#
    }

    @Test func discoveryListsIngressesAsKubeAPIServerDoes() async throws {
        try await withHostileCluster { api in
            let list = try await api.admin("GET", "/apis/networking.k8s.io/v1").json()
            let resources = try #require(list["resources"]?.arrayValue)
            #expect(resources.compactMap { $0["name"]?.stringValue } == ["ingressclasses", "ingresses", "ingresses/status"])
            let ingresses = try #require(resources.first { $0["name"] == .string("ingresses") })
            #expect(ingresses["shortNames"] == .array([.string("ing")]))
            #expect(ingresses["namespaced"] == .bool(true) && ingresses["kind"] == .string("Ingress") && ingresses["singularName"] == .string("ingress"))
            #expect(ingresses["categories"] == nil, "kubectl get all leaves Ingresses out")
            let classes = try #require(resources.first { $0["name"] == .string("ingressclasses") })
            #expect(classes["namespaced"] == .bool(false) && classes["shortNames"] == nil)
            let groups = try await api.admin("GET", "/apis").json()["groups"]?.arrayValue ?? []
            #expect(groups.contains { $0["name"] == .string("networking.k8s.io") && $0["preferredVersion"]?["version"] == .string("v1") })
        }
    }

    @Test func hostileIngressBodiesAreRefusedAndNothingIsStored() async throws {
        try await withHostileCluster { api in
            let unknown = #"{"apiVersion":"networking.k8s.io/v1","kind":"Ingress","metadata":{"name":"u"},"spec":{"rules":[{"host":"a.example.com","http":{"paths":[{"path":"/","pathType":"Prefix","regex":true,"backend":{"service":{"name":"web","port":{"number":80}}}}]}}]}}"#
            let strict = try await api.admin("POST", Self.ingresses + "?fieldValidation=Strict", unknown)
            #expect(strict.status == 400)
            #expect(message(strict) == #"Ingress in version "v1" cannot be handled as a Ingress: strict decoding error: unknown field "spec.rules[0].http.paths[0].regex""#)
            let warned = try await api.admin("POST", Self.ingresses, unknown)
            #expect(warned.status == 201, "\(warned.text)")
            #expect(warned.headers["warning"] == #"299 - "unknown field \"spec.rules[0].http.paths[0].regex\"""#)
            #expect(!(try await api.admin("GET", Self.ingresses + "/u").text.contains("regex")))

            for (body, status) in [
                (#"{"apiVersion":"networking.k8s.io/v1","kind":"Ingress","metadata":{"name":"b"},"spec":{"defaultBackend":{"service":{"name":"web","port":{"number":true}}}}}"#, 400),
                (#"{"apiVersion":"networking.k8s.io/v1","kind":"Ingress","metadata":{"name":"b"},"spec":"everything"}"#, 400),
                (#"{"apiVersion":"networking.k8s.io/v1","kind":"Ingress","metadata":{"name":"b"},"spec":{"rules":[{"host":"\#(String(repeating: "x", count: 70_000)).com","http":{"paths":[]}}]}}"#, 422),
                (#"{"apiVersion":"networking.k8s.io/v1","kind":"Ingress","metadata":{"name":"b"},"spec":{"defaultBackend":{"service":{"name":"web","port":{"number":80}}},"tls":[{"hosts":["\u0000.example.com"]}]}}"#, 422),
                (#"{"apiVersion":"networking.k8s.io/v1","kind":"IngressClass","metadata":{"name":"b"},"spec":{"controller":"x.io/y"}}"#, 400),
            ] {
                let response = try await api.admin("POST", Self.ingresses, body)
                #expect(response.status == status, "\(response.text.prefix(300))")
                #expect(isStatus(response, code: status))
            }
            #expect(try await api.admin("GET", Self.ingresses + "/b").status == 404)
            // A status write through the main resource is dropped, through the subresource checked.
            var stored = try await api.admin("GET", Self.ingresses + "/u").json()
            stored = try json(String(decoding: JSONSerializer.serialize(stored), as: UTF8.self)
                .replacingOccurrences(of: #""loadBalancer":{}"#, with: #""loadBalancer":{"ingress":[{"ip":"not-an-ip"}]}"#))
            let body = String(decoding: JSONSerializer.serialize(stored), as: UTF8.self)
            #expect(try await api.admin("PUT", Self.ingresses + "/u", body).json()["status"] == .object(["loadBalancer": .object([:])]))
            let refused = try await api.admin("PUT", Self.ingresses + "/u/status", body)
            #expect(refused.status == 422)
            #expect(message(refused) == #"Ingress.networking.k8s.io "u" is invalid: status.loadBalancer.ingress[0].ip: Invalid value: "not-an-ip": must be a valid IP address"#)
            try await api.expectStoreReadable()
        }
    }

    @Test func aNodeReadsTheTLSSecretsIngressesOfItsNamespaceNameAndNoOthers() async throws {
        try await withHostileCluster { api in
            let a = try await api.join("node-a")
            #expect(try await api.admin("POST", "/api/v1/namespaces", #"{"metadata":{"name":"other"}}"#).status == 201)
            for (namespace, name) in [("default", "site-tls"), ("default", "unrelated"), ("other", "foreign-tls"), ("other", "site-tls-2")] {
                let secret = #"{"apiVersion":"v1","kind":"Secret","metadata":{"name":"\#(name)"},"type":"kubernetes.io/tls","stringData":{"tls.crt":"c","tls.key":"k"}}"#
                #expect(try await api.admin("POST", "/api/v1/namespaces/\(namespace)/secrets", secret).status == 201)
            }
            #expect(try await api.admin("POST", Self.ingresses, Self.tlsIngress("site", secret: "site-tls")).status == 201)
            // An Ingress in "default" naming a Secret of "other" gives nothing there.
            #expect(try await api.admin("POST", Self.ingresses, Self.tlsIngress("cross", secret: "foreign-tls")).status == 201)

            #expect(try await api.client.call(a, "GET", Self.secrets + "/site-tls").status == 200)
            let watch = try await api.client.call(a, "GET", Self.secrets + "?watch=1&timeoutSeconds=1&fieldSelector=metadata.name%3Dsite-tls")
            #expect(watch.status == 200 && watch.text.contains(#""name":"site-tls""#), "\(watch.text.prefix(200))")
            for (namespace, name) in [("default", "unrelated"), ("other", "foreign-tls"), ("other", "site-tls-2")] {
                let denied = try await api.client.call(a, "GET", "/api/v1/namespaces/\(namespace)/secrets/\(name)")
                #expect(denied.status == 403, "\(namespace)/\(name)")
                #expect(message(denied) == #"secrets "\#(name)" is forbidden: User "system:node:node-a" cannot get resource "secrets" in API group "" in the namespace "\#(namespace)": no relationship found between node 'node-a' and this object"#)
            }
            #expect(try await api.client.call(a, "GET", Self.secrets).status == 403, "never a list")

            // Nodes read Ingresses and IngressClasses (every node's proxy watches them), write neither.
            #expect(try await api.client.call(a, "GET", "/apis/networking.k8s.io/v1/ingresses").status == 200)
            #expect(try await api.client.call(a, "GET", "/apis/networking.k8s.io/v1/ingressclasses/swiftlet").status == 200)
            #expect(try await api.client.call(a, "GET", "/apis/networking.k8s.io/v1/ingresses?watch=1&timeoutSeconds=1").status == 200)
            #expect(try await api.client.call(a, "POST", Self.ingresses, Self.tlsIngress("mine", secret: "unrelated")).status == 403)
            #expect(try await api.client.call(a, "DELETE", Self.ingresses + "/site").status == 403)
            #expect(try await api.client.call(a, "PUT", Self.ingresses + "/site/status",
                                              try await api.admin("GET", Self.ingresses + "/site").text).status == 403)

            // The Ingress gone, the Secret is out of reach again.
            #expect(try await api.admin("DELETE", Self.ingresses + "/site").status == 200)
            #expect(try await api.client.call(a, "GET", Self.secrets + "/site-tls").status == 403)
            try await api.expectStoreReadable()
        }
    }

    @Test func tableCellsAreKubernetesPrinters() throws {
        let context = TableContext(now: Date(timeIntervalSince1970: 1_000_000))
        func cells(_ printer: TablePrinter, _ text: String) throws -> [JSONValue] {
            printer.cells(KubeObject(fields: try json(text).objectValue ?? [:]), context)
        }
        let story = try cells(NetworkingTablePrinters.ingresses, """
            {"metadata":{"name":"letschat","creationTimestamp":"1970-01-12T13:36:40Z"},
             "spec":{"ingressClassName":"swiftlet","rules":[{"host":"www.letschat.com"}]},
             "status":{"loadBalancer":{"ingress":[{"ip":"10.0.0.3"},{"ip":"10.0.0.12"},{"hostname":"lb.example.com"},{"ip":"10.0.0.3"}]}}}
            """)
        // Sorted as text and de-duplicated, as sets.String does; never clipped (the server prints wide).
        #expect(story == [.string("letschat"), .string("swiftlet"), .string("www.letschat.com"),
                          .string("10.0.0.12,10.0.0.3,lb.example.com"), .string("80"), .string("10m")])
        let many = try cells(NetworkingTablePrinters.ingresses, """
            {"metadata":{"name":"m"},"spec":{"tls":[{}],"rules":[{"host":"a"},{},{"host":"b"},{"host":"c"},{"host":"d"},{"host":"e"}]}}
            """)
        #expect(many == [.string("m"), .string("<none>"), .string("a,b,c + 3 more..."), .string(""), .string("80, 443"), .string("<unknown>")])
        let anyHost = try cells(NetworkingTablePrinters.ingresses, #"{"metadata":{"name":"d"},"spec":{"defaultBackend":{}}}"#)
        #expect(anyHost[2] == .string("*"))
        #expect(NetworkingTablePrinters.address([.object(["ip": .string("10.100.100.100")]), .object(["ip": .string("10.100.100.101")])], wide: false)
                == "10.100.100.10...", "16 bytes with the dots, as printIngress clips without -o wide")

        #expect(try cells(NetworkingTablePrinters.ingressClasses, #"{"metadata":{"name":"swiftlet"},"spec":{"controller":"swiftlet.io/ingress"}}"#)
                == [.string("swiftlet"), .string("swiftlet.io/ingress"), .string("<none>"), .string("<unknown>")])
        #expect(try cells(NetworkingTablePrinters.ingressClasses,
                          #"{"metadata":{"name":"c"},"spec":{"controller":"x.io/y","parameters":{"apiGroup":"k8s.example.com","kind":"Params","name":"p"}}}"#)[2]
                == .string("Params.k8s.example.com/p"))
        #expect(NetworkingTablePrinters.ingresses.columns.map(\.name) == ["Name", "Class", "Hosts", "Address", "Ports", "Age"])
        #expect(NetworkingTablePrinters.ingressClasses.columns.map(\.name) == ["Name", "Controller", "Parameters", "Age"])
    }
}
