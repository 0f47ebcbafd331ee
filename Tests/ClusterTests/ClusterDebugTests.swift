import Foundation
import Testing
import TestSupport

/// Issue 17: `kubectl debug POD --image=...` with a real agent: the ephemeral container starts
/// in the running pod, shares its network and hostname, sees the target container's processes
/// with `--target`, runs once, and its output is read with `kubectl logs -c` or attached with
/// `-i`; the pod's own containers are not touched. kubectl 1.32 and 1.27.
extension ClusterTests {
    @Test func kubectlDebugRunsAnEphemeralContainerInTheRunningPod() async throws {
        let cluster = try ClusterHarness()
        defer { cluster.cleanUp() }
        let (_, node) = try await cluster.startServerAndAgent()
        try cluster.writeManifest("app.yaml", """
            apiVersion: v1
            kind: Pod
            metadata: {name: app}
            spec:
              nodeName: node-a
              containers:
              - name: app
                image: busybox
                command: ["sh", "-c", "echo secret > /tmp/only-in-app; exec sleep 3600"]
            """)
        try await cluster.kubectlOK(["apply", "-f", cluster.manifestPath("app.yaml")])
        let running = await TestProcess.waitFor(90) {
            await cluster.query(["get", "pod", "app", "-o", "jsonpath={.status.phase}"]) == "Running"
        }
        let pods = await cluster.query(["get", "pods", "-o", "wide"])
        #expect(running, "\(pods)\n\(node.log.suffix(3000))")
        guard running else { return }
        let appStarted = await cluster.query(["get", "pod", "app", "-o", "jsonpath={.status.containerStatuses[0].state.running.startedAt}"])

        func ephemeralExit(_ name: String) async -> String {
            await cluster.query(["get", "pod", "app", "-o",
                                 "jsonpath={.status.ephemeralContainerStatuses[?(@.name==\"\(name)\")].state.terminated.exitCode}"])
        }
        for (version, name) in [("1.32", "dbg"), ("1.27", "dbg127")] {
            let binary = version == "1.32" ? "/usr/bin/kubectl" : try await Self.binary(version)
            // The target's PID namespace (its `sleep 3600`), the pod's hostname, its own root.
            let debug = await cluster.kubectlCapturing(["debug", "app", "--image=busybox", "--target=app", "-c", name, "--",
                                                        "sh", "-c", "ps; hostname; cat /tmp/only-in-app || echo own-root"], binary: binary)
            #expect(debug.status == 0, "kubectl \(version): \(debug)")
            let exited = await TestProcess.waitFor(60) { await ephemeralExit(name) == "0" }
            let status = await cluster.query(["get", "pod", "app", "-o", "jsonpath={.status.ephemeralContainerStatuses}"])
            #expect(exited, "kubectl \(version): \(status)\n\(node.log.suffix(3000))")
            let logs = await cluster.kubectlCapturing(["logs", "app", "-c", name])
            #expect(logs.stdout.contains("sleep 3600") && logs.stdout.contains("app\n") && logs.stdout.contains("own-root"),
                    "kubectl \(version): \(logs)")
        }

        // -i: kubectl waits for the container to run and attaches to it.
        let attached = await cluster.kubectlCapturing(["debug", "-i", "app", "--image=busybox", "-c", "shell", "--",
                                                       "sh", "-c", "sleep 3; echo attached"])
        #expect(attached.status == 0 && attached.stdout.contains("attached"), "\(attached)")
        #expect(await TestProcess.waitFor(30) { await ephemeralExit("shell") == "0" })

        // A restarted agent adopts them from the saved pod: their logs stay readable, and
        // (below) none is started again.
        await cluster.stop(node)
        try cluster.startAgent(node)
        let back = await TestProcess.waitFor(30) { node.log.components(separatedBy: "[ClusterAgent] kubelet API listening").count > 2 }
        #expect(back, "\(node.log.suffix(2000))")
        let adoptedLogs = await cluster.kubectlCapturing(["logs", "app", "-c", "dbg"])
        #expect(adoptedLogs.stdout.contains("own-root"), "\(adoptedLogs)")

        // A container that exits is not started again, and the pod's own container ran on.
        try await Task.sleep(for: .seconds(3))
        let restarts = await cluster.query(["get", "pod", "app", "-o", "jsonpath={.status.ephemeralContainerStatuses[*].restartCount}"])
        #expect(restarts == "0 0 0", "\(restarts)")
        let app = await cluster.query(["get", "pod", "app", "-o",
                                       "jsonpath={.status.containerStatuses[0].restartCount} {.status.containerStatuses[0].state.running.startedAt}"])
        #expect(app == "0 \(appStarted)", "\(app)")
        let ready = await cluster.query(["get", "pod", "app", "--no-headers", "-o", "custom-columns=R:.status.conditions[?(@.type==\"Ready\")].status"])
        #expect(ready == "True", "\(ready)")
        let describe = await cluster.query(["describe", "pod", "app"])
        #expect(describe.contains("Ephemeral Containers:") && describe.contains("dbg127:"), "\(describe)")
    }
}
