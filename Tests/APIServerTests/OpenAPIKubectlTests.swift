@testable import APIMachinery
@testable import APIServer
import APITestSupport
import Foundation
import ServerTestSupport
import TestSupport
import Testing

/// What the OpenAPI documents are for, with real clients: `kubectl explain` (1.32 reads v3,
/// 1.20 the v2 protobuf), client-side validation (1.20's `--validate=true`), strict
/// validation (1.32), `kubectl diff`, `apply`'s strategic merge by the schema's keys (1.32,
/// 1.27, 1.20), and the Python client reading /openapi/v2.
@Suite struct OpenAPIKubectlTests {
    /// The fields `kubectl explain` lists at `indent` spaces: `name<TAB><type>[ -required-]`.
    static func fields(_ text: String, indent: Int) -> [String: String] {
        var result: [String: String] = [:]
        let prefix = String(repeating: " ", count: indent)
        for line in text.split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
        where line.hasPrefix(prefix) && !line.hasPrefix(prefix + " ") && line.contains("\t") {
            let parts = line.dropFirst(indent).split(separator: "\t", maxSplits: 1).map(String.init)
            if parts.count == 2 { result[parts[0]] = parts[1].trimmingCharacters(in: .whitespaces) }
        }
        return result
    }

    static let deploymentYAML = """
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: web
        spec:
          replicas: 1
          selector:
            matchLabels: {app: web}
          template:
            metadata:
              labels: {app: web}
            spec:
              containers:
              - name: web
                image: nginx:1
                env:
                - {name: A, value: "1"}
                ports:
                - containerPort: 80
              - name: side
                image: busybox
        """

    @Test func explainReadsTheSchemas() async throws {
        try await withTestServer { server in
            let kubectl = try Kubectl(port: server.port, directory: server.directory)
            let pods = try await kubectl("explain", "pods")
            #expect(pods.status == 0, "\(pods.stderr)")
            #expect(pods.stdout.contains("KIND:       Pod") && pods.stdout.contains("VERSION:    v1"), "\(pods.stdout)")
            #expect(pods.stdout.contains("Pod is a collection of containers that can run on a host."))
            let podFields = Self.fields(pods.stdout, indent: 2)
            #expect(podFields["spec"] == "<PodSpec>" && podFields["status"] == "<PodStatus>" && podFields["metadata"] == "<ObjectMeta>",
                    "\(pods.stdout)")
            #expect(podFields["apiVersion"] == "<string>")

            let containers = try await kubectl("explain", "pods.spec.containers", "--recursive")
            #expect(containers.status == 0, "\(containers.stderr)")
            #expect(containers.stdout.contains("FIELD: containers <[]Container>"), "\(containers.stdout)")
            #expect(containers.stdout.contains("List of containers belonging to the pod."))
            let top = Self.fields(containers.stdout, indent: 2)
            // The field list is the schema's: every Container member, nothing else.
            let expected = try #require(TypeSchema.definition(of: "Container")).properties.map(\.name)
            #expect(Set(top.keys) == Set(expected), "\(containers.stdout)")
            // As a 1.32 kube-apiserver's schema prints them.
            #expect(top["name"] == "<string> -required-")
            #expect(top["image"] == "<string>")
            #expect(top["ports"] == "<[]ContainerPort>")
            #expect(top["env"] == "<[]EnvVar>")
            #expect(top["resources"] == "<ResourceRequirements>")
            #expect(top["stdin"] == "<boolean>")
            #expect(top["command"] == "<[]string>")
            let nested = Self.fields(containers.stdout, indent: 4)
            #expect(nested["containerPort"] == "<integer> -required-")
            #expect(nested["limits"] == "<map[string]Quantity>")

            let port = try await kubectl("explain", "pods.spec.containers.ports.protocol")
            #expect(port.stdout.contains("Protocol for port. Must be UDP, TCP, or SCTP."), "\(port.stdout)")

            let strategy = try await kubectl("explain", "deployments.spec.strategy")
            #expect(strategy.status == 0, "\(strategy.stderr)")
            #expect(strategy.stdout.contains("GROUP:      apps"), "\(strategy.stdout)")
            #expect(strategy.stdout.contains("The deployment strategy to use to replace existing pods with new ones."))
            let strategyFields = Self.fields(strategy.stdout, indent: 2)
            #expect(strategyFields["rollingUpdate"] == "<RollingUpdateDeployment>" && strategyFields["type"] == "<string>")
            // The enum, as kube-apiserver's schema has it.
            #expect(strategy.stdout.contains("enum: Recreate, RollingUpdate") && strategy.stdout.contains("Possible enum values:"), "\(strategy.stdout)")

            let ingress = try await kubectl("explain", "ingress")
            #expect(ingress.status == 0, "\(ingress.stderr)")
            #expect(ingress.stdout.contains("GROUP:      networking.k8s.io") && ingress.stdout.contains("KIND:       Ingress"), "\(ingress.stdout)")
            #expect(Self.fields(ingress.stdout, indent: 2)["spec"] == "<IngressSpec>")

            let missing = try await kubectl("explain", "pods.spec.nothing")
            #expect(missing.status != 0)
            #expect(missing.stderr.contains("field \"nothing\" does not exist"), "\(missing.stderr)")
        }
    }

    @Test func kubectl120ExplainsAndValidatesFromTheV2Protobuf() async throws {
        let binary = try await Kubectl.binary120()
        try await withTestServer { server in
            let kubectl = try Kubectl(binary: binary, port: server.port, directory: server.directory)
            let explain = try await kubectl("explain", "pods.spec.containers")
            #expect(explain.status == 0, "\(explain.stderr)")
            let fields = Self.fields(explain.stdout, indent: 3)
            #expect(fields["name"] == "<string> -required-", "\(explain.stdout)")
            #expect(fields["ports"] == "<[]Object>")
            #expect(explain.stdout.contains("List of containers belonging to the pod."))

            let unknown = podYAML.replacingOccurrences(of: "spec:\n", with: "spec:\n  x: 1\n")
            let refused = try await kubectl("create", "--validate=true", "-f", "-", input: unknown)
            #expect(refused.status != 0)
            #expect(refused.stderr.contains(#"ValidationError(Pod.spec): unknown field "x" in io.k8s.api.core.v1.PodSpec"#), "\(refused.stderr)")
            let wrongType = podYAML.replacingOccurrences(of: "name: web\n    image", with: "name: web\n    stdin: yes-please\n    image")
            let typed = try await kubectl("create", "--validate=true", "-f", "-", input: wrongType)
            #expect(typed.status != 0 && typed.stderr.contains("ValidationError(Pod.spec.containers[0].stdin)"), "\(typed.stderr)")
            let accepted = try await kubectl("create", "--validate=false", "-f", "-", input: unknown)
            #expect(accepted.status == 0, "\(accepted.stderr)")
            #expect(accepted.stdout == "pod/web created\n")
        }
    }

    @Test func kubectl132ValidatesStrictlyWithoutAskingForCRDs() async throws {
        try await withTestServer { server in
            let kubectl = try Kubectl(port: server.port, directory: server.directory)
            let unknown = podYAML.replacingOccurrences(of: "spec:\n", with: "spec:\n  x: 1\n")
            let refused = try await kubectl("create", "--validate=strict", "-f", "-", input: unknown)
            #expect(refused.status != 0)
            #expect(refused.stderr.contains(#"unknown field "spec.x""#), "\(refused.stderr)")
            let created = try await kubectl("create", "--validate=true", "-v=6", "-f", "-", input: podYAML)
            #expect(created.status == 0, "\(created.stderr)")
            #expect(created.stdout.contains("pod/web created"))
            // With every served kind in the documents kubectl never needs the CRD list.
            #expect(!created.stderr.contains("customresourcedefinitions"), "\(created.stderr)")
        }
    }

    @Test func diffShowsChangesAndExitsZeroWithoutThem() async throws {
        try await withTestServer { server in
            let kubectl = try Kubectl(port: server.port, directory: server.directory)
            let applied = try await kubectl("apply", "-f", "-", input: Self.deploymentYAML)
            #expect(applied.status == 0, "\(applied.stderr)")
            let same = try await kubectl("diff", "-f", "-", input: Self.deploymentYAML)
            #expect(same.status == 0, "\(same.stdout)\(same.stderr)")
            #expect(same.stdout.isEmpty)
            let changed = try await kubectl("diff", "-f", "-", input: Self.deploymentYAML.replacingOccurrences(of: "replicas: 1", with: "replicas: 3"))
            #expect(changed.status == 1, "\(changed.stderr)")
            #expect(changed.stdout.contains("-  replicas: 1") && changed.stdout.contains("+  replicas: 3"), "\(changed.stdout)")
            // A diff changes nothing (it is a server-side dry run).
            let replicas = try await kubectl("get", "deploy", "web", "-o", "jsonpath={.spec.replicas}")
            #expect(replicas.stdout == "1")
        }
    }

    /// A changed manifest re-applied: the patch kubectl computes from the schema's merge keys
    /// (containers and env by name) keeps the sibling container and replaces the env entry.
    func applyMergesByTheSchemasKeys(_ kubectl: Kubectl) async throws {
        let first = try await kubectl("apply", "-f", "-", input: Self.deploymentYAML)
        #expect(first.status == 0 && first.stdout == "deployment.apps/web created\n", "\(first.stderr)")
        let changed = Self.deploymentYAML.replacingOccurrences(of: "{name: A, value: \"1\"}", with: "{name: B, value: \"2\"}")
            .replacingOccurrences(of: "nginx:1", with: "nginx:2")
        let second = try await kubectl("apply", "-f", "-", input: changed)
        #expect(second.status == 0 && second.stdout == "deployment.apps/web configured\n", "\(second.stderr)")
        let result = try await kubectl("get", "deploy", "web", "-o",
                                       "jsonpath={.spec.template.spec.containers[*].name} {.spec.template.spec.containers[0].image} {.spec.template.spec.containers[0].env[*].name}")
        #expect(result.stdout == "web side nginx:2 B", "\(result.stdout) \(result.stderr)")
        let again = try await kubectl("apply", "-f", "-", input: changed)
        #expect(again.stdout == "deployment.apps/web unchanged\n", "\(again.stderr)")
    }

    @Test func applyMergesByTheSchemasKeysOnEveryKubectl() async throws {
        let binary120 = try await Kubectl.binary120()
        for binary in [Kubectl.defaultBinary, Kubectl.binary127, binary120] {
            try await withTestServer { server in
                try await applyMergesByTheSchemasKeys(try Kubectl(binary: binary, port: server.port, directory: server.directory))
            }
        }
    }

    @Test func thePythonClientReadsOpenAPIv2ThroughItsAPI() async throws {
        guard pythonClientInstalled else {
            Issue.record("python3-kubernetes is not installed (scripts/debian-packages lists it)")
            return
        }
        try await withTestServer { server in
            let kubeconfig = try Kubectl(port: server.port, directory: server.directory).kubeconfig
            let script = """
                import sys
                from kubernetes import client, config
                config.load_kube_config(sys.argv[1])
                api = client.ApiClient()
                data, status, headers = api.call_api("/openapi/v2", "GET", response_type="object", auth_settings=["BearerToken"])
                pod = data["definitions"]["io.k8s.api.core.v1.Pod"]
                print(status, data["swagger"], pod["x-kubernetes-group-version-kind"][0]["kind"], sorted(pod["properties"]))
                """
            let path = server.directory + "/openapi.py"
            try script.write(toFile: path, atomically: true, encoding: .utf8)
            let result = try await blocking {
                try TestChild.launch(["/usr/bin/python3", path, kubeconfig], stdout: .capture, stderr: .capture).finish()
            }
            let output = String(decoding: result.stdout, as: UTF8.self)
            #expect(output == "200 2.0 Pod ['apiVersion', 'kind', 'metadata', 'spec', 'status']\n",
                    "\(output)\(String(decoding: result.stderr, as: UTF8.self))")
        }
    }
}
