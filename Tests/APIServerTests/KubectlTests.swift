@testable import APIMachinery
@testable import APIRegistry
@testable import APIServer
import APITestSupport
import Foundation
import ServerTestSupport
import Testing

let podYAML = """
    apiVersion: v1
    kind: Pod
    metadata:
      name: web
      labels:
        app: web
    spec:
      containers:
      - name: web
        image: busybox
        command: ["sleep", "3600"]
    """

/// Real kubectl (the dispatcher, which picks kubectl 1.32 for this server) against the
/// server on a random port. Needs /usr/bin/kubectl, as on the build machines. Tests taking a
/// `TestBackend` run on SQLite and on a real etcd (issue 19).
@Suite
struct KubectlTests {
    @Test(arguments: TestBackend.allCases)
    func getCreateGetDelete(_ backend: TestBackend) async throws {
        try await withTestServer(backend: backend) { server in
            let kubectl = try Kubectl(port: server.port, directory: server.directory)
            let empty = try await kubectl("get", "pods")
            #expect(empty.status == 0)
            #expect(empty.stderr.contains("No resources found in default namespace."))

            let created = try await kubectl("create", "-f", "-", input: podYAML)
            #expect(created.status == 0, "\(created.stderr)")
            #expect(created.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "pod/web created")

            let list = try await kubectl("get", "pods")
            let rows = tableRows(list.stdout)
            #expect(rows.first == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"])
            #expect(rows.count == 2)
            #expect(Array(rows.last?.prefix(4) ?? []) == ["web", "0/1", "Pending", "0"])

            let wide = try await kubectl("get", "pods", "-o", "wide")
            #expect(tableRows(wide.stdout).first == ["NAME", "READY", "STATUS", "RESTARTS", "AGE", "IP", "NODE", "NOMINATED", "NODE", "READINESS", "GATES"])
            #expect(Array(tableRows(wide.stdout).last?.suffix(4) ?? []) == ["<none>", "<none>", "<none>", "<none>"])

            let asJSON = try await kubectl("get", "pod", "web", "-o", "json")
            let pod = try JSONParser.parse(Array(asJSON.stdout.utf8))
            #expect(pod["metadata"]?["name"]?.stringValue == "web")
            #expect(pod["spec"]?["containers"]?.arrayValue?.first?["terminationMessagePath"]?.stringValue == "/dev/termination-log")

            let asYAML = try await kubectl("get", "pod", "web", "-o", "yaml")
            #expect(asYAML.stdout.contains("restartPolicy: Always"))
            #expect(asYAML.stdout.contains("phase: Pending"))

            let labels = try await kubectl("get", "pods", "--show-labels")
            #expect(tableRows(labels.stdout).last?.last == "app=web")

            let deleted = try await kubectl("delete", "pod", "web")
            #expect(deleted.status == 0, "\(deleted.stderr)")
            #expect(deleted.stdout.contains(#"pod "web" deleted"#))
            let after = try await kubectl("get", "pods")
            #expect(after.stderr.contains("No resources found"))
        }
    }

    @Test func errorsPrintAsOnKubernetes() async throws {
        try await withTestServer { server in
            let kubectl = try Kubectl(port: server.port, directory: server.directory)
            let missing = try await kubectl("get", "pod", "x")
            #expect(missing.status == 1)
            #expect(missing.stderr.trimmingCharacters(in: .whitespacesAndNewlines) == #"Error from server (NotFound): pods "x" not found"#)

            _ = try await kubectl("create", "-f", "-", input: podYAML)
            let again = try await kubectl("create", "-f", "-", input: podYAML)
            #expect(again.status == 1)
            #expect(again.stderr.contains(#"Error from server (AlreadyExists): error when creating "STDIN": pods "web" already exists"#))

            let invalid = try await kubectl("create", "-f", "-", input: """
                apiVersion: v1
                kind: Pod
                metadata:
                  name: Bad_Name
                spec:
                  containers:
                  - name: c
                """)
            #expect(invalid.status == 1)
            #expect(invalid.stderr.contains(#"The Pod "Bad_Name" is invalid:"#))
            #expect(invalid.stderr.contains("* spec.containers[0].image: Required value"))

            let unknown = try await kubectl("create", "-f", "-", input: """
                apiVersion: v1
                kind: Pod
                metadata:
                  name: unknown
                spec:
                  foo: bar
                  containers:
                  - name: c
                    image: busybox
                """)
            #expect(unknown.status == 1)
            #expect(unknown.stderr.contains(#"strict decoding error: unknown field "spec.foo""#))

            let namespace = try await kubectl("get", "pods", "-n", "nope")
            #expect(namespace.stderr.contains("No resources found in nope namespace."))
            let badSelector = try await kubectl("get", "pods", "--field-selector", "spec.foo=x")
            #expect(badSelector.status == 1)
            #expect(badSelector.stderr.contains("field label not supported: spec.foo"))
        }
    }

    @Test(arguments: TestBackend.allCases)
    func getWatchSeesEvents(_ backend: TestBackend) async throws {
        try await withTestServer(backend: backend) { server in
            let kubectl = try Kubectl(port: server.port, directory: server.directory)
            _ = try await kubectl("create", "-f", "-", input: podYAML)
            let watch = try kubectl.start("get", "pods", "-w")
            // Wait for the watch to be established before changing anything.
            let deadline = ContinuousClock.now + .seconds(20)
            while server.storage.watcherCount == 0, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(server.storage.watcherCount == 1)
            _ = try await kubectl("label", "pod", "web", "tier=front")
            _ = try await kubectl("delete", "pod", "web")
            // Until the watch has printed the deletion (a fixed 500 ms was not always enough
            // for kubectl on a loaded machine).
            _ = try await eventually({ watch.stdoutSoFar }, until: { text in
                tableRows(text).dropFirst().filter { $0.first == "web" }.count >= 3
            })
            let output = try await watch.stop()
            let rows = tableRows(output.stdout)
            #expect(rows.first == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"])
            // The listed pod, then the label change and the deletion.
            #expect(rows.dropFirst().filter { $0.first == "web" }.count == 3, "\(output.stdout)")
        }
    }

    @Test func nodesShowStatusRolesVersionAndWideColumns() async throws {
        try await withTestServer { server in
            let kubectl = try Kubectl(port: server.port, directory: server.directory)
            let node = """
                {"apiVersion":"v1","kind":"Node","metadata":{"name":"node-1","labels":{"node-role.kubernetes.io/control-plane":""}},
                 "status":{"conditions":[{"type":"Ready","status":"True"}],
                   "addresses":[{"type":"InternalIP","address":"10.0.0.5"},{"type":"Hostname","address":"node-1"}],
                   "nodeInfo":{"kubeletVersion":"v1.32.0+swiftlet.1","osImage":"Debian GNU/Linux 12 (bookworm)","kernelVersion":"6.1.0",
                     "containerRuntimeVersion":"swiftlet://0.1.0","machineID":"m","systemUUID":"s","bootID":"b","kubeProxyVersion":"",
                     "operatingSystem":"linux","architecture":"amd64"}}}
                """
            let created = try await kubectl("create", "-f", "-", input: node)
            #expect(created.status == 0, "\(created.stderr)")
            let nodes = try await kubectl("get", "nodes")
            let rows = tableRows(nodes.stdout)
            #expect(rows.first == ["NAME", "STATUS", "ROLES", "AGE", "VERSION"])
            #expect(rows.last?[0...2] == ["node-1", "Ready", "control-plane"])
            #expect(rows.last?.last == "v1.32.0+swiftlet.1")
            let wide = try await kubectl("get", "nodes", "-o", "wide")
            #expect(wide.stdout.contains("INTERNAL-IP"))
            #expect(wide.stdout.contains("10.0.0.5"))
            #expect(wide.stdout.contains("Debian GNU/Linux 12 (bookworm)"))
            #expect(wide.stdout.contains("swiftlet://0.1.0"))
            let describe = try await kubectl("describe", "node", "node-1")
            #expect(describe.status == 0, "\(describe.stderr)")
            #expect(describe.stdout.contains("Name:               node-1"))
        }
    }

    @Test(arguments: TestBackend.allCases)
    func deploymentsScaleAndAppearInGetAll(_ backend: TestBackend) async throws {
        try await withTestServer(backend: backend) { server in
            let kubectl = try Kubectl(port: server.port, directory: server.directory)
            let deployment = """
                apiVersion: apps/v1
                kind: Deployment
                metadata:
                  name: web
                spec:
                  replicas: 2
                  selector:
                    matchLabels: {app: web}
                  template:
                    metadata:
                      labels: {app: web}
                    spec:
                      containers:
                      - name: web
                        image: nginx:1.25
                """
            let created = try await kubectl("create", "-f", "-", input: deployment)
            #expect(created.stdout.contains("deployment.apps/web created"), "\(created.stderr)")
            let scaled = try await kubectl("scale", "deploy", "web", "--replicas=3")
            #expect(scaled.stdout.contains("deployment.apps/web scaled"), "\(scaled.stderr)")
            let wide = try await kubectl("get", "deploy", "-o", "wide")
            let rows = tableRows(wide.stdout)
            #expect(rows.first == ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE", "CONTAINERS", "IMAGES", "SELECTOR"])
            #expect(rows.last?[1] == "0/3")
            #expect(rows.last?.suffix(3) == ["web", "nginx:1.25", "app=web"])
            let all = try await kubectl("get", "all")
            #expect(all.stdout.contains("deployment.apps/web"))
            #expect(all.stdout.contains("service/kubernetes"))
        }
    }

    @Test(arguments: TestBackend.allCases)
    func applyTwiceIsUnchangedThenPatchesAChange(_ backend: TestBackend) async throws {
        try await withTestServer(backend: backend) { server in
            let kubectl = try Kubectl(port: server.port, directory: server.directory)
            let manifest = """
                apiVersion: apps/v1
                kind: Deployment
                metadata:
                  name: web
                spec:
                  replicas: 2
                  selector:
                    matchLabels: {app: web}
                  template:
                    metadata:
                      labels: {app: web}
                    spec:
                      containers:
                      - name: web
                        image: nginx:1.25
                        ports:
                        - containerPort: 80
                      - name: side
                        image: busybox
                ---
                apiVersion: v1
                kind: Service
                metadata:
                  name: web
                spec:
                  selector: {app: web}
                  ports:
                  - port: 80
                """
            let first = try await kubectl("apply", "-f", "-", input: manifest)
            #expect(first.stdout == "deployment.apps/web created\nservice/web created\n", "\(first.stderr)")
            let second = try await kubectl("apply", "-f", "-", input: manifest)
            #expect(second.stdout == "deployment.apps/web unchanged\nservice/web unchanged\n", "\(second.stderr)")
            let third = try await kubectl("apply", "-f", "-", input: manifest.replacingOccurrences(of: "nginx:1.25", with: "nginx:1.26"))
            #expect(third.stdout == "deployment.apps/web configured\nservice/web unchanged\n", "\(third.stderr)")
            let images = try await kubectl("get", "deploy", "web", "-o", "jsonpath={.spec.template.spec.containers[*].image}")
            #expect(images.stdout == "nginx:1.26 busybox")

            #expect(try await kubectl("rollout", "pause", "deployment/web").stdout == "deployment.apps/web paused\n")
            #expect(try await kubectl("get", "deploy", "web", "-o", "jsonpath={.spec.paused}").stdout == "true")
            #expect(try await kubectl("rollout", "resume", "deployment/web").stdout == "deployment.apps/web resumed\n")
            #expect(try await kubectl("get", "deploy", "web", "-o", "jsonpath={.spec.paused}").stdout == "")
            let setImage = try await kubectl("set", "image", "deployment/web", "side=busybox:1.36")
            #expect(setImage.stdout == "deployment.apps/web image updated\n", "\(setImage.stderr)")
            let after = try await kubectl("get", "deploy", "web", "-o", "jsonpath={.spec.template.spec.containers[*].image}")
            #expect(after.stdout == "nginx:1.26 busybox:1.36")
        }
    }

    /// kubectl 1.32 sends these as protobuf.
    @Test func createGeneratorsSendingProtobuf() async throws {
        try await withTestServer { server in
            let kubectl = try Kubectl(port: server.port, directory: server.directory)
            let commands: [([String], String)] = [
                (["create", "deployment", "web", "--image=nginx", "--replicas=2", "--port=80"], "deployment.apps/web created"),
                (["create", "namespace", "team"], "namespace/team created"),
                (["create", "configmap", "settings", "--from-literal=mode=fast"], "configmap/settings created"),
                (["create", "secret", "generic", "password", "--from-literal=value=hunter2"], "secret/password created"),
                (["create", "service", "nodeport", "front", "--tcp=80:8080"], "service/front created"),
                (["create", "serviceaccount", "robot"], "serviceaccount/robot created"),
                (["expose", "deployment", "web", "--port=8080", "--name=exposed", "--type=NodePort"], "service/exposed exposed"),
            ]
            for (arguments, expected) in commands {
                let output = try await kubectl.run(arguments)
                #expect(output.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == expected, "\(arguments): \(output.stderr)")
            }
            let deployment = try await kubectl("get", "deploy", "web", "-o", "jsonpath={.spec.replicas} {.spec.template.spec.containers[0].ports[0].containerPort} {.spec.template.spec.containers[0].image}")
            #expect(deployment.stdout == "2 80 nginx")
            let secret = try await kubectl("get", "secret", "password", "-o", "jsonpath={.data.value}")
            #expect(secret.stdout == "aHVudGVyMg==")
            let services = tableRows(try await kubectl("get", "svc", "front", "exposed").stdout)
            #expect(services.dropFirst().allSatisfy { $0[1] == "NodePort" && $0[4].contains(":3") })
        }
    }

    @Test
    func kubectl127CreatesAndAppliesThroughOpenAPIv2() async throws {
        try await withTestServer { server in
            let kubectl = try Kubectl(binary: Kubectl.binary127, port: server.port, directory: server.directory)
            // 1.27 reads /openapi/v2 in protobuf to learn that the server validates fields.
            let created = try await kubectl("create", "-f", "-", input: podYAML)
            #expect(created.status == 0, "\(created.stderr)")
            let rows = tableRows(try await kubectl("get", "pods", "-o", "wide").stdout)
            #expect(rows.first?.prefix(5) == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"])
            #expect(rows.last?.prefix(3) == ["web", "0/1", "Pending"])
            let configMap = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  mode: fast\n"
            #expect(try await kubectl("apply", "-f", "-", input: configMap).stdout == "configmap/settings created\n")
            #expect(try await kubectl("apply", "-f", "-", input: configMap).stdout == "configmap/settings unchanged\n")
            let changed = try await kubectl("apply", "-f", "-", input: configMap.replacingOccurrences(of: "fast", with: "slow"))
            #expect(changed.stdout == "configmap/settings configured\n", "\(changed.stderr)")
            let missing = try await kubectl("get", "pod", "x")
            #expect(missing.stderr.contains(#"Error from server (NotFound): pods "x" not found"#))
        }
    }

    /// Debian's kubernetes-client 1.20, unpacked (installing it would replace the dispatcher):
    /// KUBECTL_1_20, or fetched from Debian into .build/kubectl-1.20 on first use.
    @Test
    func kubectl120CreatesAppliesAndScales() async throws {
        let binary = try await Kubectl.binary120()
        try await withTestServer { server in
            let kubectl = try Kubectl(binary: binary, port: server.port, directory: server.directory)
            #expect(try await kubectl("create", "-f", "-", input: podYAML).stdout == "pod/web created\n")
            #expect(try await kubectl("create", "deployment", "d", "--image=nginx").stdout == "deployment.apps/d created\n")
            #expect(try await kubectl("scale", "deployment", "d", "--replicas=3").stdout == "deployment.apps/d scaled\n")
            #expect(tableRows(try await kubectl("get", "deploy", "d").stdout).last?[1] == "0/3")
            let configMap = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  mode: fast\n"
            #expect(try await kubectl("apply", "-f", "-", input: configMap).stdout == "configmap/settings created\n")
            #expect(try await kubectl("apply", "-f", "-", input: configMap).stdout == "configmap/settings unchanged\n")
            let missing = try await kubectl("get", "pod", "x")
            #expect(missing.stderr.contains(#"Error from server (NotFound): pods "x" not found"#))
        }
    }
}
