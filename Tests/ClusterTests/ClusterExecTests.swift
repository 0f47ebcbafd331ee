import Foundation
import Glibc
import Testing
import TestSupport

/// Issue 15: `kubectl exec`, `cp` and `port-forward` through the API server to the kubelet API
/// of the node running the pod (not the server's own: it runs no agent here), with real
/// kubectl: 1.32 (WebSocket, SPDY tunnelled in WebSocket for port-forward), 1.27 and Debian's
/// 1.20 (SPDY/3.1). Errors as kubectl prints them; node identities and unauthenticated
/// callers refused.
extension ClusterTests {
    /// Gives kubectl a terminal of 33 rows and 101 columns (python's pty), types `line` once
    /// kubectl has set its session up, and returns kubectl's exit code and what it printed.
    static let ptyDriver = """
        import fcntl, os, pty, struct, sys, termios, time
        line = sys.argv[1].encode()
        pid, fd = pty.fork()
        if pid == 0:
            os.execv(sys.argv[2], sys.argv[2:])
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack('HHHH', 33, 101, 0, 0))
        time.sleep(2)
        os.write(fd, line)
        out = b''
        while True:
            try:
                data = os.read(fd, 4096)
            except OSError:
                break
            if not data:
                break
            out += data
        _, status = os.waitpid(pid, 0)
        sys.stdout.write(out.decode('utf-8', 'replace'))
        sys.exit(os.waitstatus_to_exitcode(status))
        """

    @Test func kubectlExecCopyAndPortForwardReachPodsOnAnotherNode() async throws {
        let cluster = try ClusterHarness()
        defer { cluster.cleanUp() }
        let (server, node) = try await cluster.startServerAndAgent()
        try cluster.writeManifest("pods.yaml", """
            apiVersion: v1
            kind: Pod
            metadata: {name: shell}
            spec:
              nodeName: node-a
              containers:
              - name: shell
                image: busybox
                command: ["sh", "-c", "mkdir -p /www && echo served by $(hostname) > /www/index.html && exec httpd -f -p 8080 -h /www"]
            ---
            apiVersion: v1
            kind: Pod
            metadata: {name: two}
            spec:
              nodeName: node-a
              restartPolicy: Never
              containers:
              - {name: main, image: busybox, command: ["sleep", "3600"]}
              - {name: done, image: busybox, command: ["true"]}
            ---
            apiVersion: v1
            kind: Pod
            metadata: {name: finished}
            spec:
              nodeName: node-a
              restartPolicy: Never
              containers: [{name: only, image: busybox, command: ["true"]}]
            """)
        try await cluster.kubectlOK(["apply", "-f", cluster.manifestPath("pods.yaml")])
        let running = await TestProcess.waitFor(90) {
            let phases = await cluster.query(["get", "pods", "-o", "jsonpath={range .items[*]}{.metadata.name}={.status.phase} {end}"])
            let done = await cluster.query(["get", "pod", "two", "-o", "jsonpath={.status.containerStatuses[?(@.name==\"done\")].state.terminated.exitCode}"])
            return phases.contains("shell=Running") && phases.contains("two=Running") && phases.contains("finished=Succeeded") && done == "0"
        }
        let pods = await cluster.query(["get", "pods", "-o", "wide"])
        #expect(running, "\(pods)\n\(node.log.suffix(3000))")
        guard running else { return }

        func kubectl(_ arguments: [String], input: String? = nil, binary: String = "/usr/bin/kubectl")
            async -> (status: Int32, stdout: String, stderr: String) {
            await cluster.kubectlCapturing(arguments, input: input, binary: binary)
        }

        // stdout and stderr apart, the command's exit code as kubectl's.
        let exec = await kubectl(["exec", "shell", "--", "sh", "-c", "echo out; echo err >&2; exit 3"])
        #expect(exec.status == 3 && exec.stdout == "out\n" && exec.stderr == "err\ncommand terminated with exit code 3\n", "\(exec)")
        #expect(await kubectl(["exec", "shell", "--", "true"]).status == 0)
        // stdin, to its end (v5 closes stdin's channel), and the container's view of itself.
        let echoed = await kubectl(["exec", "-i", "shell", "--", "sh", "-c", "cat; hostname"], input: "hi\nthere\n")
        #expect(echoed.status == 0 && echoed.stdout == "hi\nthere\nshell\n" && echoed.stderr.isEmpty, "\(echoed)")

        // A terminal: `tty` is the container's pts, the local window size reached it.
        let driver = cluster.manifestPath("terminal-driver.py")
        try Self.ptyDriver.write(toFile: driver, atomically: true, encoding: .utf8)
        let tty = await TestProcess.runCapturing(TestProcess.inNetns(server.netns, [
            "/usr/bin/python3", driver, "tty; stty size; exit 5\n", "/usr/bin/kubectl", "--kubeconfig", cluster.kubeconfig,
            "exec", "-it", "shell", "--", "sh",
        ]))
        #expect(tty.status == 5 && tty.stdout.contains("/dev/pts/0") && tty.stdout.contains("33 101"), "\(tty)")

        // kubectl cp both ways (tar through exec), 300 KiB of bytes that are not text.
        let original = cluster.manifestPath("payload.bin")
        let payload = Data((0..<300 * 1024).map { UInt8(truncatingIfNeeded: $0 &* 7919 &+ $0 >> 8) })
        try payload.write(to: URL(fileURLWithPath: original))
        let copyIn = await kubectl(["cp", original, "shell:/tmp/payload.bin"])
        #expect(copyIn.status == 0 && copyIn.stderr.isEmpty, "\(copyIn)")
        let size = await kubectl(["exec", "shell", "--", "wc", "-c", "/tmp/payload.bin"])
        #expect(size.stdout.hasPrefix("\(payload.count) "), "\(size)")
        let back = cluster.manifestPath("back.bin")
        let copyOut = await kubectl(["cp", "shell:/tmp/payload.bin", back])
        #expect(copyOut.status == 0 && (try? Data(contentsOf: URL(fileURLWithPath: back))) == payload, "\(copyOut)")

        // port-forward: several connections at once through one forward.
        try await portForwardCarriesConcurrentConnections(cluster, server: server, kubectl: "/usr/bin/kubectl", localPort: 18080)

        // Errors as kubectl prints them.
        let badContainer = await kubectl(["exec", "shell", "-c", "nope", "--", "true"])
        #expect(badContainer.status != 0 && badContainer.stderr.contains("container nope is not valid for pod shell"), "\(badContainer)")
        let notRunning = await kubectl(["exec", "two", "-c", "done", "--", "true"])
        #expect(notRunning.status != 0 && notRunning.stderr.contains(#"unable to upgrade connection: container not found ("done")"#),
                "\(notRunning)")
        let completed = await kubectl(["exec", "finished", "--", "true"])
        #expect(completed.status != 0 && completed.stderr.contains("cannot exec into a container in a completed pod; current phase is Succeeded"),
                "\(completed)")
        let missing = await kubectl(["exec", "ghost", "--", "true"])
        #expect(missing.status != 0 && missing.stderr.contains(#"pods "ghost" not found"#), "\(missing)")

        // The older clients speak SPDY/3.1.
        for version in ["1.27", "1.20"] {
            let binary = try await Self.binary(version)
            let spdy = await kubectl(["exec", "shell", "--", "sh", "-c", "echo out; echo err >&2; exit 7"], binary: binary)
            #expect(spdy.status == 7 && spdy.stdout == "out\n" && spdy.stderr == "err\ncommand terminated with exit code 7\n",
                    "kubectl \(version): \(spdy)")
            let input = await kubectl(["exec", "-i", "shell", "--", "cat"], input: "spdy \(version)\n", binary: binary)
            #expect(input.status == 0 && input.stdout == "spdy \(version)\n", "kubectl \(version): \(input)")
            let spdyTTY = await TestProcess.runCapturing(TestProcess.inNetns(server.netns, [
                "/usr/bin/python3", driver, "tty; stty size; exit 4\n", binary, "--kubeconfig", cluster.kubeconfig,
                "exec", "-it", "shell", "--", "sh",
            ]))
            #expect(spdyTTY.status == 4 && spdyTTY.stdout.contains("/dev/pts/") && spdyTTY.stdout.contains("33 101"),
                    "kubectl \(version): \(spdyTTY)")
            let spdyCopy = await kubectl(["cp", "shell:/tmp/payload.bin", back + version], binary: binary)
            #expect(spdyCopy.status == 0 && (try? Data(contentsOf: URL(fileURLWithPath: back + version))) == payload,
                    "kubectl \(version): \(spdyCopy)")
            let spdyMissing = await kubectl(["exec", "two", "-c", "done", "--", "true"], binary: binary)
            #expect(spdyMissing.stderr.contains(#"container not found ("done")"#), "kubectl \(version): \(spdyMissing)")
            try await portForwardCarriesConcurrentConnections(cluster, server: server, kubectl: binary,
                                                              localPort: version == "1.27" ? 18081 : 18082)
        }

        // A node's identity may not exec (API server), nor reach the kubelet's exec.
        let credential = node.dataDir + "/agent/credential"
        let nodeToken = try String(contentsOfFile: credential + "/token", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        let asNode = await kubectl(["--token", nodeToken, "exec", "shell", "--", "true"])
        #expect(asNode.status != 0 && asNode.stderr.contains(#"User "system:node:node-a" cannot create resource "pods/exec""#), "\(asNode)")
        let kubeletURL = "https://\(node.ip):10250/exec/default/shell/shell?command=true&stdout=1"
        func curl(_ extra: [String]) async -> String {
            await TestProcess.runCapturing(TestProcess.inNetns(server.netns, ["/usr/bin/curl", "-sk", "--max-time", "5",
                                                                              "-w", " %{http_code}", "-H", "Connection: Upgrade",
                                                                              "-H", "Upgrade: SPDY/3.1"] + extra + [kubeletURL])).stdout
        }
        #expect(await curl([]) == "Unauthorized 401")
        #expect(await curl(["-H", "Authorization: Bearer \(nodeToken)"])
                == "Forbidden (user=system:node:node-a, verb=get, resource=nodes, subresource=proxy) 403")
    }

    /// `kubectl port-forward pod/shell LOCAL:8080` inside the server's host, then five
    /// concurrent HTTP requests through it, each answered by the pod's web server.
    private func portForwardCarriesConcurrentConnections(_ cluster: ClusterHarness, server: ClusterHarness.Host,
                                                         kubectl: String, localPort: Int) async throws {
        let log = cluster.manifestPath("port-forward-\(localPort).log")
        let forward = try TestChild.launch(TestProcess.inNetns(server.netns, [
            kubectl, "--kubeconfig", cluster.kubeconfig, "port-forward", "pod/shell", "\(localPort):8080",
        ]), stdout: .file(log))
        defer { TestProcess.stop(forward.pid) }
        let listening = await TestProcess.waitFor(30) {
            ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").contains("Forwarding from 127.0.0.1:\(localPort)")
        }
        #expect(listening, "kubectl \(kubectl) port-forward: \((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")")
        guard listening else { return }
        let answers = await withTaskGroup(of: String.self) { group in
            for _ in 0..<5 {
                group.addTask {
                    await TestProcess.runCapturing(TestProcess.inNetns(server.netns, [
                        "/usr/bin/curl", "-s", "--max-time", "10", "http://127.0.0.1:\(localPort)/",
                    ])).stdout
                }
            }
            var all: [String] = []
            for await answer in group { all.append(answer) }
            return all
        }
        #expect(answers == Array(repeating: "served by shell\n", count: 5),
                "kubectl \(kubectl) port-forward: \(answers)\n\((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")")
    }
}
