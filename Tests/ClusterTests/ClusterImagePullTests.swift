import Foundation
import Testing
import TestSupport

/// Issue 12's first story on a cluster: `kubectl create secret docker-registry` and a
/// Deployment whose image lives in a private registry (Debian's docker-registry with TLS and
/// htpasswd) on another machine of the lan; the node reads the pod's pull secret through the
/// API, as the Node authorizer allows it, and pulls. Root only.
@Suite(.serialized) struct ClusterImagePullTests {
    @Test func deploymentPullsThroughImagePullSecrets() async throws {
        let cluster = try ClusterHarness()
        defer { cluster.cleanUp() }
        let server = try await cluster.addHost("server")
        let node = try await cluster.addHost("node-a")
        let registryHost = try await cluster.addHost("registry")
        let registry = try TestRegistry(directory: registryHost.path + "/registry", netns: registryHost.netns, ip: registryHost.ip)
        defer { registry.cleanUp() }
        try await registry.start()

        // An image whose top layer no node has (busybox's is imported on every host).
        let layout = try OCILayoutBuilder(path: registryHost.path + "/app")
        let busybox = try await Fixtures.builtDirectory() + "/busybox"
        let manifest = try layout.manifest(layers: [.init(files: ["srv/app": OCILayoutBuilder.random(1 << 20)])],
                                           busyboxLayout: busybox, scratch: registryHost.path)
        try layout.index([(manifest.digest, manifest.size, "amd64")], tag: "v1")
        try await registry.push("oci:\(layout.path):v1", to: "team/app", tag: "v1")
        try await registry.push("oci:\(layout.path):v1", to: "team/other", tag: "v1")

        // The node trusts the registry's CA (registries.yaml) but has no credentials of its own.
        let registryFile = node.path + "/registries.yaml"
        try "configs:\n  \"\(registry.host)\":\n    tls:\n      ca_file: \(registry.caFile)\n"
            .write(toFile: registryFile, atomically: true, encoding: .utf8)
        try await cluster.startServer(server, cluster.runtimeArguments(server) + ["--disable-agent"])
        try cluster.startAgent(node, ["--registry-config", registryFile])
        let ready = await TestProcess.waitFor(90) {
            await cluster.query(["get", "node", node.name, "-o", "jsonpath={.status.conditions[?(@.type==\"Ready\")].status}"]) == "True"
        }
        #expect(ready, "\(node.log.suffix(3000))")
        guard ready else { return }

        try await cluster.kubectlOK(["create", "secret", "docker-registry", "regcred", "--docker-server=\(registry.host)",
                                     "--docker-username=\(registry.username)", "--docker-password=\(registry.password)"])
        let image = "\(registry.host)/team/app:v1"
        let deployment = """
            apiVersion: apps/v1
            kind: Deployment
            metadata:
              name: private
            spec:
              replicas: 1
              selector:
                matchLabels: {app: private}
              template:
                metadata:
                  labels: {app: private}
                spec:
                  imagePullSecrets:
                  - name: regcred
                  terminationGracePeriodSeconds: 1
                  containers:
                  - name: app
                    image: \(image)
                    command: ["sh", "-c", "ls /srv/app && exec sleep 3600"]
            """
        let manifestFile = cluster.root.path + "/private.yaml"
        try deployment.write(toFile: manifestFile, atomically: true, encoding: .utf8)
        try await cluster.kubectlOK(["apply", "-f", manifestFile])

        let running = await TestProcess.waitFor(90) {
            await cluster.query(["get", "pods", "-l", "app=private", "-o", "jsonpath={.items[*].status.phase}"]) == "Running"
        }
        let pods = await cluster.query(["get", "pods", "-o", "wide"])
        let described = await cluster.query(["describe", "pods", "-l", "app=private"])
        #expect(running, "\(pods)\n\(described)\nnode log:\n\(node.log.suffix(3000))")
        guard running else { return }
        let imageID = await cluster.query(["get", "pods", "-l", "app=private", "-o", "jsonpath={.items[0].status.containerStatuses[0].imageID}"])
        #expect(imageID.hasPrefix("\(registry.host)/team/app@sha256:"), "\(imageID)")
        // kubelet's Events for the pull, as kubectl describe shows them.
        #expect(described.contains("Pulling") && described.contains("Pulling image \"\(image)\""), "\(described)")
        #expect(described.contains("Successfully pulled image \"\(image)\""), "\(described)")
        // The start's Events go out in the background, as the status does: waited for.
        let startEvents = await TestProcess.waitFor(30) {
            let text = await cluster.query(["describe", "pods", "-l", "app=private"])
            return text.contains("Created container: app") && text.contains("Started container app")
        }
        let describedAgain = await cluster.query(["describe", "pods", "-l", "app=private"])
        #expect(startEvents, "\(describedAgain)")
        // The node lists the image in its status.
        let nodeImages = await TestProcess.waitFor(30) {
            await cluster.query(["get", "node", node.name, "-o", "jsonpath={.status.images[*].names}"]).contains(image)
        }
        let listedImages = await cluster.query(["get", "node", node.name, "-o", "jsonpath={.status.images}"])
        #expect(nodeImages, "\(listedImages)")
        // The node's own Events, which kubectl describe finds by kubelet's node reference (uid = name).
        let nodeEvents = await TestProcess.waitFor(30) {
            let text = await cluster.query(["describe", "node", node.name])
            return text.contains("Starting kubelet.") && text.contains("Node \(node.name) status is now: NodeReady")
        }
        let describedNode = await cluster.query(["describe", "node", node.name])
        #expect(nodeEvents, "\(describedNode)")

        // An image of the same registry not on the node yet, without the secret: the registry
        // refuses, and the pod says why.
        let other = "\(registry.host)/team/other:v1"
        try await cluster.kubectlOK(["run", "nosecret", "--image=\(other)", "--restart=Never", "--", "sleep", "3600"])
        var reasons = Set<String>()
        var message = ""
        _ = await TestProcess.waitFor(60) {
            let waiting = await cluster.query(["get", "pod", "nosecret", "-o",
                                               "jsonpath={.status.containerStatuses[0].state.waiting.reason}|{.status.containerStatuses[0].state.waiting.message}"])
            let parts = waiting.split(separator: "|", maxSplits: 1).map(String.init)
            if let reason = parts.first, !reason.isEmpty { reasons.insert(reason) }
            if parts.count == 2, parts[0] == "ErrImagePull" { message = parts[1] }
            return reasons.isSuperset(of: ["ErrImagePull", "ImagePullBackOff"]) && !message.isEmpty
        }
        #expect(reasons.isSuperset(of: ["ErrImagePull", "ImagePullBackOff"]), "\(reasons)")
        #expect(message.contains("failed to pull and unpack image \"\(other)\"") && message.contains("no basic auth credentials"), "\(message)")
        let table = await cluster.query(["get", "pod", "nosecret"])
        #expect(table.contains("ErrImagePull") || table.contains("ImagePullBackOff"), "\(table)")
    }
}
