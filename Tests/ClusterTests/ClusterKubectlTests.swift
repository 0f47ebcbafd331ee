import Foundation
import Testing
import TestSupport

/// The control plane's story (issue 5) with each kubectl version we support, against a real
/// server and a real agent, each in its own network namespace: pods wait for a node with the
/// scheduler's reason; then nodes, Deployments, apply, scale, wide output, replacement, watch,
/// expose, rollout pause/resume/undo, cascading delete, and errors as Kubernetes prints them.
/// (An extension of `ClusterTests`, so it runs serialized with the other cluster tests: two
/// clusters and their kubectl polling at once load a 2-core machine enough to starve other suites.)
extension ClusterTests {
    static let versions = ["1.32", "1.27", "1.20"]

    static func binary(_ version: String) async throws -> String {
        switch version {
        case "1.27": return KubectlBinaries.binary127
        case "1.20": return try await KubectlBinaries.binary120()
        default: return KubectlBinaries.defaultBinary
        }
    }

    @Test(arguments: versions)
    func kubectlDrivesTheClusterStory(version: String) async throws {
        let kubectlBinary = try await Self.binary(version)
        let cluster = try ClusterHarness()
        defer { cluster.cleanUp() }
        let server = try await cluster.addHost("server")
        let node = try await cluster.addHost("node-1")
        try await cluster.startServer(server, ["--disable-agent"])
        func k(_ arguments: String...) async throws -> (status: Int32, output: String) {
            try await cluster.kubectl(arguments, binary: kubectlBinary)
        }
        func ok(_ arguments: String...) async throws -> String {
            let (status, output) = try await cluster.kubectl(arguments, binary: kubectlBinary)
            guard status == 0 else { throw FixtureError(message: "kubectl \(arguments.joined(separator: " ")): \(output)") }
            return output
        }

        // No node yet: the pod stays Pending with the scheduler's reason.
        _ = try await ok("run", "early", "--image=busybox", "--", "sleep", "3600")
        let unschedulable = await TestProcess.waitFor(30) {
            try await ok("describe", "pod", "early").contains("no nodes available to schedule pods")
        }
        #expect(unschedulable)
        #expect(try await ok("get", "pod", "early").contains("Pending"))

        // A node joins: Ready, and the waiting pod runs on it.
        try cluster.startAgent(node)
        let running = await TestProcess.waitFor(60) { try await ok("get", "pod", "early").contains("Running") }
        #expect(running, "\(node.log.suffix(2000))")
        let nodes = try await ok("get", "nodes")
        #expect(nodes.contains("node-1") && nodes.contains("Ready") && nodes.contains("v1.32.0+swiftlet.1"), "\(nodes)")
        #expect(try await ok("describe", "node", "node-1").contains("Allocatable:"))

        // create deployment, scale, wide output.
        #expect(try await ok("create", "deployment", "web", "--image=busybox", "--", "sleep", "3600")
                .contains("deployment.apps/web created"))
        #expect(try await ok("rollout", "status", "deployment/web", "--timeout=60s").contains("successfully rolled out"))
        #expect(try await ok("scale", "deployment", "web", "--replicas=3").contains("deployment.apps/web scaled"))
        _ = try await ok("rollout", "status", "deployment/web", "--timeout=60s")
        let wide = try await ok("get", "deploy,rs,po", "-o", "wide")
        #expect(wide.contains("deployment.apps/web") && wide.contains("3/3") && wide.contains("node-1"), "\(wide)")

        // apply twice: unchanged; then a change is configured.
        let manifest = cluster.root.path + "/api.yaml"
        func writeManifest(replicas: Int) throws {
            try """
                apiVersion: apps/v1
                kind: Deployment
                metadata: {name: api}
                spec:
                  replicas: \(replicas)
                  selector: {matchLabels: {app: api}}
                  template:
                    metadata: {labels: {app: api}}
                    spec:
                      containers: [{name: api, image: busybox, command: [sleep, "3600"]}]
                ---
                apiVersion: v1
                kind: Service
                metadata: {name: api}
                spec:
                  selector: {app: api}
                  ports: [{port: 80, targetPort: 8080}]
                """.write(toFile: manifest, atomically: true, encoding: .utf8)
        }
        try writeManifest(replicas: 1)
        let firstApply = try await ok("apply", "-f", manifest)
        #expect(firstApply.contains("deployment.apps/api created") && firstApply.contains("service/api created"), "\(firstApply)")
        let secondApply = try await ok("apply", "-f", manifest)
        #expect(secondApply.contains("deployment.apps/api unchanged") && secondApply.contains("service/api unchanged"), "\(secondApply)")
        try writeManifest(replicas: 2)
        let thirdApply = try await ok("apply", "-f", manifest)
        #expect(thirdApply.contains("deployment.apps/api configured") && thirdApply.contains("service/api unchanged"), "\(thirdApply)")

        // A deleted pod is replaced; a watch sees it.
        let watchLog = cluster.root.path + "/watch.log"
        let watcher = try TestProcess.spawn(TestProcess.inNetns(server.netns, [kubectlBinary, "--kubeconfig", cluster.kubeconfig,
                                                                               "get", "pods", "-l", "app=web", "-w"]), log: watchLog)
        defer { TestProcess.stop(watcher, signal: SIGKILL) }
        let victim = try await ok("get", "pods", "-l", "app=web", "-o", "jsonpath={.items[0].metadata.name}")
            .trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(try await ok("delete", "pod", victim).contains("pod \"\(victim)\" deleted"))
        let replaced = await TestProcess.waitFor(60) {
            let names = try await ok("get", "pods", "-l", "app=web", "--field-selector=status.phase=Running",
                                     "-o", "jsonpath={.items[*].metadata.name}").split(separator: " ")
            return names.count == 3 && !names.contains(Substring(victim))
        }
        #expect(replaced)
        let watched = (try? String(contentsOfFile: watchLog, encoding: .utf8)) ?? ""
        #expect(watched.contains(victim) && watched.split(separator: "\n").count > 4, "\(watched)")

        // expose.
        #expect(try await ok("expose", "deployment", "web", "--port=80", "--target-port=8080").contains("service/web exposed"))
        #expect(try await ok("get", "service", "web", "-o", "jsonpath={.spec.clusterIP}").hasPrefix("10.43."))

        // rollout: a new revision, paused changes wait, resume, undo.
        _ = try await ok("set", "env", "deployment/web", "STAGE=two")
        _ = try await ok("rollout", "status", "deployment/web", "--timeout=60s")
        #expect(try await ok("rollout", "pause", "deployment/web").contains("paused"))
        _ = try await ok("set", "env", "deployment/web", "STAGE=three")
        try await Task.sleep(for: .seconds(1))
        #expect(try await ok("get", "rs", "-l", "app=web", "-o", "name").split(separator: "\n").count == 2, "no rollout while paused")
        #expect(try await ok("rollout", "resume", "deployment/web").contains("resumed"))
        _ = try await ok("rollout", "status", "deployment/web", "--timeout=60s")
        #expect(try await ok("rollout", "history", "deployment/web").contains("3"))
        #expect(try await ok("rollout", "undo", "deployment/web").contains("rolled back"))
        _ = try await ok("rollout", "status", "deployment/web", "--timeout=60s")
        let env = try await ok("get", "deployment", "web", "-o", "jsonpath={.spec.template.spec.containers[0].env[0].value}")
        #expect(env.trimmingCharacters(in: .whitespacesAndNewlines) == "two")

        // Errors as Kubernetes prints them.
        let notFound = try await k("get", "pod", "nope")
        #expect(notFound.output.contains("Error from server (NotFound): pods \"nope\" not found"), "\(notFound.output)")
        let exists = try await k("create", "-f", manifest)
        #expect(exists.output.contains("Error from server (AlreadyExists)") && exists.output.contains("deployments.apps \"api\" already exists"),
                "\(exists.output)")
        let invalid = try await k("create", "deployment", "Bad_Name", "--image=busybox")
        #expect(invalid.output.contains("is invalid") && invalid.output.contains("metadata.name"), "\(invalid.output)")
        let stale = cluster.root.path + "/stale.yaml"
        try (try await ok("get", "deployment", "api", "-o", "yaml")).write(toFile: stale, atomically: true, encoding: .utf8)
        _ = try await ok("scale", "deployment", "api", "--replicas=1")
        let conflict = try await k("replace", "-f", stale)
        #expect(conflict.output.contains("Error from server (Conflict)") && conflict.output.contains("Operation cannot be fulfilled"),
                "\(conflict.output)")

        // Deleting the Deployment takes its ReplicaSets and pods with it.
        _ = try await ok("delete", "deployment", "web")
        let collected = await TestProcess.waitFor(60) {
            try await ok("get", "rs,pods", "-l", "app=web", "-o", "name").trimmingCharacters(in: .whitespacesAndNewlines).isEmpty
        }
        #expect(collected)
    }
}
