@testable import APIMachinery
import APITestSupport
@testable import ControllerRuntime
@testable import Controllers
@testable import Scheduler
import Foundation
import KubeAPI
import ServerTestSupport
import Testing
import TestSupport

/// Ingresses as real kubectl (1.32, 1.27, Debian's 1.20) creates, lists and describes them
/// against the served API with the controllers running: the story's Ingress gets the default
/// class and the Ready nodes' addresses; `describe` finds the backend Service's endpoints;
/// bad Ingresses come back with Kubernetes' messages. The test plays the agents (nodes and
/// pod statuses).
@Suite(.requires(Kubectl.isInstalled, "needs kubectl"))
struct IngressKubectlTests {
    static let story = """
        apiVersion: networking.k8s.io/v1
        kind: Ingress
        metadata:
          name: letschat
        spec:
          rules:
          - host: www.letschat.com
            http:
              paths:
              - path: /
                pathType: Prefix
                backend:
                  service:
                    name: letschat
                    port:
                      number: 8080
        """

    /// The value after `key:` in `describe` output.
    private func field(_ describe: String, _ key: String) -> String? {
        for line in describe.split(separator: "\n") where line.hasPrefix(key + ":") {
            return line.dropFirst(key.count + 1).trimmingCharacters(in: .whitespaces)
        }
        return nil
    }

    private func addNode(_ cluster: ControllerTestCluster, _ name: String, ip: String) async throws {
        try await cluster.addNode(name)
        _ = try await cluster.client.patch(.nodes, namespace: nil, name: name, .object(["status": .object([
            "addresses": .array([.object(["type": .string("InternalIP"), "address": .string(ip)])]),
        ])]), subresource: "status")
    }

    /// - Parameter modern: kubectl 1.27 and later (1.20 describes a missing default backend
    ///   as kube-system's `default-http-backend`).
    private func exercise(_ binary: String, modern: Bool) async throws {
        try await withServedControllerCluster { cluster in
            let kubectl = try cluster.kubectl(binary)
            try await addNode(cluster, "n1", ip: "10.0.0.12")
            try await addNode(cluster, "n2", ip: "10.0.0.3")
            // The backend: a Service and one ready pod behind it.
            let service = try await kubectl("create", "service", "clusterip", "letschat", "--tcp=8080:8080")
            #expect(service.status == 0, "\(service.stderr)")
            try await cluster.addPod("letschat-1", labels: ["app": "letschat"], nodeName: "n1")
            _ = try await cluster.client.patch(.pods, namespace: "default", name: "letschat-1", .object(["status": .object([
                "phase": .string("Running"), "podIP": .string("10.42.0.5"), "podIPs": .array([.object(["ip": .string("10.42.0.5")])]),
                "conditions": .array([.object(["type": .string("Ready"), "status": .string("True")])]),
            ])]), subresource: "status")

            let applied = try await kubectl("apply", "-f", "-", input: Self.story)
            #expect(applied.stdout == "ingress.networking.k8s.io/letschat created\n", "\(applied.stderr)")
            _ = try await eventually({ try await kubectl("get", "ingress", "letschat").stdout }, until: { $0.contains("10.0.0.12,10.0.0.3") })
            let rows = tableRows(try await kubectl("get", "ing").stdout)
            #expect(rows.first == ["NAME", "CLASS", "HOSTS", "ADDRESS", "PORTS", "AGE"], "\(rows)")
            let row = try #require(rows.first { $0.first == "letschat" }, "\(rows)")
            #expect(Array(row[1...4]) == ["swiftlet", "www.letschat.com", "10.0.0.12,10.0.0.3", "80"])

            let classes = tableRows(try await kubectl("get", "ingressclass").stdout)
            #expect(classes.first == ["NAME", "CONTROLLER", "PARAMETERS", "AGE"], "\(classes)")
            #expect(classes.dropFirst().first.map { Array($0[0...2]) } == ["swiftlet", "swiftlet.io/ingress", "<none>"])

            _ = try await eventually({ try await kubectl("get", "ep", "letschat").stdout }, until: { $0.contains("10.42.0.5:8080") })
            let describe = try await kubectl("describe", "ingress", "letschat")
            #expect(describe.status == 0, "\(describe.stderr)")
            let text = describe.stdout
            #expect(field(text, "Name") == "letschat")
            #expect(field(text, "Namespace") == "default")
            #expect(field(text, "Address") == "10.0.0.12,10.0.0.3", "\(text)")
            #expect(text.contains("www.letschat.com"), "\(text)")
            #expect(text.split(separator: "\n").contains { $0.contains("/") && $0.contains("letschat:8080 (10.42.0.5:8080)") }, "\(text)")
            if modern {
                #expect(field(text, "Ingress Class") == "swiftlet", "\(text)")
                #expect(field(text, "Default backend") == "<default>", "\(text)")
            } else {
                #expect(field(text, "Default backend")?.hasPrefix("default-http-backend:80") == true, "\(text)")
            }

            // A second apply patches (strategic merge, atomic lists): the path changes.
            let changed = try await kubectl("apply", "-f", "-", input: Self.story.replacingOccurrences(of: "path: /", with: "path: /chat"))
            #expect(changed.stdout == "ingress.networking.k8s.io/letschat configured\n", "\(changed.stderr)")
            let stored = try #require(try await cluster.client.get(.ingresses, namespace: "default", name: "letschat"))
            let paths = stored.value(at: ["spec", "rules"])?.arrayValue?.first?["http"]?["paths"]?.arrayValue ?? []
            #expect(paths.count == 1 && paths.first?["path"] == .string("/chat"))
            #expect(stored.generation == 2)

            // Bad Ingresses: refused with Kubernetes' words, nothing stored.
            let missing = try await kubectl("apply", "-f", "-", input: Self.story.replacingOccurrences(of: "letschat\nspec", with: "bad\nspec")
                .replacingOccurrences(of: "        pathType: Prefix\n", with: ""))
            #expect(missing.status != 0)
            if modern {
                #expect(missing.stderr.contains(#"The Ingress "bad" is invalid: spec.rules[0].http.paths[0].pathType: Required value: pathType must be specified"#),
                        "\(missing.stderr)")
            } else {
                // 1.20 validates on its side against /openapi/v2, where pathType is required, as
                // against kube-apiserver 1.32.
                #expect(missing.stderr.contains(#"ValidationError(Ingress.spec.rules[0].http.paths[0]): missing required field "pathType" in io.k8s.api.networking.v1.HTTPIngressPath"#),
                        "\(missing.stderr)")
            }
            let ipHost = try await kubectl("apply", "-f", "-", input: Self.story.replacingOccurrences(of: "letschat\nspec", with: "bad\nspec")
                .replacingOccurrences(of: "www.letschat.com", with: "192.168.1.1"))
            #expect(ipHost.stderr.contains(#"spec.rules[0].host: Invalid value: "192.168.1.1": must be a DNS name, not an IP address"#), "\(ipHost.stderr)")
            #expect(try await cluster.client.get(.ingresses, namespace: "default", name: "bad") == nil)
        }
    }

    @Test func kubectl132() async throws {
        try await exercise(Kubectl.defaultBinary, modern: true)
    }

    @Test func kubectl127() async throws {
        try await exercise(Kubectl.binary127, modern: true)
    }

    @Test func kubectl120() async throws {
        try await exercise(try await Kubectl.binary120(), modern: false)
    }

    /// `kubectl create ingress` (1.32 sends the body as protobuf): rules, TLS and the default
    /// class; the API's refusal as kubectl prints it.
    @Test func kubectlCreateIngressSendsProtobuf() async throws {
        try await withServedControllerCluster { cluster in
            let kubectl = try cluster.kubectl()
            let created = try await kubectl("create", "ingress", "simple", "--rule=foo.com/bar=svc1:8080,tls=my-cert",
                                            "--rule=bar.com/*=svc2:http")
            #expect(created.stdout == "ingress.networking.k8s.io/simple created\n", "\(created.stderr)")
            let ingress = try #require(try await cluster.client.get(.ingresses, namespace: "default", name: "simple"))
            #expect(ingress.string(at: ["spec", "ingressClassName"]) == "swiftlet")
            let rules = ingress.value(at: ["spec", "rules"])?.arrayValue ?? []
            #expect(rules.count == 2)
            let first = rules.first?["http"]?["paths"]?.arrayValue?.first
            #expect(first?["path"] == .string("/bar") && first?["pathType"] == .string("Exact"))
            #expect(first?["backend"]?["service"] == .object(["name": .string("svc1"), "port": .object(["number": .int(8080)])]))
            let second = rules.last?["http"]?["paths"]?.arrayValue?.first
            #expect(second?["path"] == .string("/") && second?["pathType"] == .string("Prefix"))
            #expect(second?["backend"]?["service"]?["port"] == .object(["name": .string("http")]))
            #expect(ingress.value(at: ["spec", "tls"]) == .array([.object(["hosts": .array([.string("foo.com")]), "secretName": .string("my-cert")])]))
            let rows = tableRows(try await kubectl("get", "ingress", "simple").stdout)
            // No node, no ADDRESS (an empty cell); PORTS "80, 443" with TLS.
            let row = try #require(rows.last, "\(rows)")
            #expect(row.count == 6 && Array(row[0...4]) == ["simple", "swiftlet", "foo.com,bar.com", "80,", "443"], "\(rows)")

            let refused = try await kubectl("create", "ingress", "bad", "--class=Not_A_Class", "--rule=foo.com/=svc1:8080")
            #expect(refused.status != 0)
            #expect(refused.stderr.contains(#"spec.ingressClassName: Invalid value: "Not_A_Class": a lowercase RFC 1123 subdomain"#), "\(refused.stderr)")
            #expect(try await cluster.client.get(.ingresses, namespace: "default", name: "bad") == nil)
        }
    }
}
