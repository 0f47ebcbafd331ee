import Foundation
import Glibc
import Testing
import TestSupport

/// Issue 15's last part: `kubectl attach` and `kubectl run -i/-it` through the API server to the
/// kubelet API of the node running the pod, which bridges them to the container's monitor.
/// Real kubectl 1.32 (WebSocket v5), 1.27 and Debian's 1.20 (SPDY/3.1).
extension ClusterTests {
    /// Gives kubectl a terminal of 33 rows and 101 columns (python's pty), waits until kubectl
    /// printed `marker` (or 60 s), types `line`, then changes the window to 44x120 after
    /// `resizeAfter` appeared and types `second`; returns kubectl's exit code and its output.
    static let attachPtyDriver = """
        import fcntl, os, pty, select, struct, sys, termios, time
        line, marker, resize_after, second = (a.encode() for a in sys.argv[1:5])
        pid, fd = pty.fork()
        if pid == 0:
            os.execv(sys.argv[5], sys.argv[5:])
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack('HHHH', 33, 101, 0, 0))
        out = b''
        stage = 0
        deadline = time.time() + 60
        while True:
            if stage == 0 and (marker in out or time.time() > deadline):
                time.sleep(0.5)
                os.write(fd, line)
                stage = 1
            if stage == 1 and resize_after and resize_after in out:
                fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack('HHHH', 44, 120, 0, 0))
                time.sleep(0.5)
                os.write(fd, second)
                stage = 2
            ready, _, _ = select.select([fd], [], [], 1)
            if not ready:
                continue
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

    @Test func kubectlAttachAndRunInteractiveReachContainersOnAnotherNode() async throws {
        let cluster = try ClusterHarness()
        defer { cluster.cleanUp() }
        let (server, node) = try await cluster.startServerAndAgent()
        try cluster.writeManifest("pods.yaml", """
            apiVersion: v1
            kind: Pod
            metadata: {name: counter}
            spec:
              nodeName: node-a
              containers:
              - {name: count, image: busybox, command: ["sh", "-c", "i=0; while :; do echo tick-$i; i=$((i+1)); sleep 0.3; done"]}
            ---
            apiVersion: v1
            kind: Pod
            metadata: {name: reader}
            spec:
              nodeName: node-a
              containers:
              - {name: read, image: busybox, stdin: true, command: ["sh", "-c", "while read l; do echo got:$l; done"]}
            ---
            apiVersion: v1
            kind: Pod
            metadata: {name: term}
            spec:
              nodeName: node-a
              containers:
              - {name: sh, image: busybox, stdin: true, tty: true, command: ["sh"]}
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
            return phases.contains("counter=Running") && phases.contains("reader=Running") && phases.contains("two=Running")
                && phases.contains("term=Running")
                && phases.contains("finished=Succeeded") && done == "0"
        }
        let pods = await cluster.query(["get", "pods", "-o", "wide"])
        #expect(running, "\(pods)\n\(node.log.suffix(3000))")
        guard running else { return }

        func kubectl(_ arguments: [String], input: String? = nil, binary: String = "/usr/bin/kubectl")
            async -> (status: Int32, stdout: String, stderr: String) {
            await cluster.kubectlCapturing(arguments, input: input, binary: binary)
        }
        let driver = cluster.manifestPath("attach-driver.py")
        try Self.attachPtyDriver.write(toFile: driver, atomically: true, encoding: .utf8)

        for version in ["1.32", "1.27", "1.20"] {
            let binary = try await Self.binary(version)
            // A running container's new output, from the moment of the attach: the counter has
            // counted for a while, so the first tick kubectl prints is not tick-0.
            let log = cluster.manifestPath("attach-\(version).log")
            let attach = try TestChild.launch(TestProcess.inNetns(server.netns, [
                binary, "--kubeconfig", cluster.kubeconfig, "attach", "counter", "-c", "count",
            ]), stdout: .file(log))
            let printed = await TestProcess.waitFor(30) {
                let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
                return text.split(separator: "\n").filter { $0.hasPrefix("tick-") }.count >= 3
            }
            TestProcess.stop(attach.pid)
            let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            let ticks = text.split(separator: "\n").filter { $0.hasPrefix("tick-") }.compactMap { Int($0.dropFirst(5)) }
            #expect(printed && (ticks.first ?? 0) > 0 && ticks == Array((ticks.first ?? 0)..<((ticks.first ?? 0) + ticks.count)),
                    "kubectl \(version) attach: \(text)")

            // Input to a container with stdin; kubectl attach -i ends at its stdin's end? No: the
            // container keeps stdin open (no stdinOnce), so the attach is ended by us.
            let readerLog = cluster.manifestPath("reader-\(version).log")
            let reader = try TestChild.launch(TestProcess.inNetns(server.netns, [
                "/bin/sh", "-c", "(echo line-\(version); sleep 30) | \(binary) --kubeconfig \(cluster.kubeconfig) attach -i reader",
            ]), stdout: .file(readerLog))
            let echoed = await TestProcess.waitFor(30) {
                ((try? String(contentsOfFile: readerLog, encoding: .utf8)) ?? "").contains("got:line-\(version)")
            }
            TestProcess.stop(reader.pid)
            #expect(echoed, "kubectl \(version) attach -i: \((try? String(contentsOfFile: readerLog, encoding: .utf8)) ?? "")")

            // kubectl run -i: the pod gets stdin and stdinOnce, kubectl attaches, sends its stdin
            // and closes it, which ends the shell; the exit code is the container's, the pod goes.
            let name = "t" + version.replacingOccurrences(of: ".", with: "")
            let run = await kubectl(["run", name, "--image=busybox", "--restart=Never", "-i", "--rm", "--", "sh"],
                                    input: "echo hello-from-stdin; exit 3\n", binary: binary)
            #expect(run.status == 3 && run.stdout.contains("hello-from-stdin")
                    && run.stderr.contains("pod default/\(name) terminated (Error)"), "kubectl \(version) run -i: \(run)")
            #expect(run.stdout.contains("pod \"\(name)\" deleted"), "kubectl \(version) run -i --rm: \(run)")
            let gone = await TestProcess.waitFor(30) {
                !(await cluster.query(["get", "pods", "-o", "name"]).split(separator: "\n").contains("pod/\(name)"))
            }
            let left = await cluster.query(["get", "pods"])
            #expect(gone, "kubectl \(version) run --rm left the pod: \(left)")

            // kubectl run -it: a terminal of the container's own; `tty` and `stty size` inside
            // follow kubectl's terminal, resizes included; the shell's exit ends it all.
            let tname = "tty" + version.replacingOccurrences(of: ".", with: "")
            let tty = await TestProcess.runCapturing(TestProcess.inNetns(server.netns, [
                "/usr/bin/python3", driver, "tty; stty size\n", "try pressing enter", "33 101", "stty size; exit 5\n",
                binary, "--kubeconfig", cluster.kubeconfig, "run", tname, "--image=busybox", "--restart=Never", "-it", "--rm", "--", "sh",
            ]))
            #expect(tty.status == 5 && tty.stdout.contains("/dev/pts/0") && tty.stdout.contains("33 101")
                    && tty.stdout.contains("44 120"), "kubectl \(version) run -it: \(tty)")
        }

        // Errors as kubectl prints them: a missing container, a pod that has finished, no pod.
        let badContainer = await kubectl(["attach", "counter", "-c", "nope"])
        #expect(badContainer.status != 0 && badContainer.stderr.contains("container nope not found in pod counter"), "\(badContainer)")
        // The kubelet's answer for a container that is not running (the pod is).
        let notRunning = await kubectl(["attach", "two", "-c", "done"])
        #expect(notRunning.status != 0 && notRunning.stderr.contains(#"container not found ("done")"#), "\(notRunning)")
        let completed = await kubectl(["attach", "finished"])
        #expect(completed.status != 0 && completed.stderr.contains("cannot attach a container in a completed pod; current phase is Succeeded"),
                "\(completed)")
        let missing = await kubectl(["attach", "ghost"])
        #expect(missing.status != 0 && missing.stderr.contains(#"pods "ghost" not found"#), "\(missing)")
        // -t to a container without a terminal: kubectl's own warning, then the attach goes on.
        let noTTYLog = cluster.manifestPath("notty.log")
        let noTTY = try TestChild.launch(TestProcess.inNetns(server.netns, [
            "/bin/sh", "-c", "(echo via-notty; sleep 30) | /usr/bin/kubectl --kubeconfig \(cluster.kubeconfig) attach -i -t reader",
        ]), stdout: .file(noTTYLog), stderr: .stdout)
        let warned = await TestProcess.waitFor(30) {
            let text = (try? String(contentsOfFile: noTTYLog, encoding: .utf8)) ?? ""
            return text.contains("Unable to use a TTY") && text.contains("got:via-notty")
        }
        TestProcess.stop(noTTY.pid)
        #expect(warned, "\((try? String(contentsOfFile: noTTYLog, encoding: .utf8)) ?? "")")

        // -i to a container without stdin: accepted, its input dropped (containerd's way), the
        // output flows.
        let noStdinLog = cluster.manifestPath("nostdin.log")
        let noStdin = try TestChild.launch(TestProcess.inNetns(server.netns, [
            "/bin/sh", "-c", "(echo dropped; sleep 30) | /usr/bin/kubectl --kubeconfig \(cluster.kubeconfig) attach -i counter",
        ]), stdout: .file(noStdinLog))
        let flowed = await TestProcess.waitFor(30) {
            ((try? String(contentsOfFile: noStdinLog, encoding: .utf8)) ?? "").split(separator: "\n").filter { $0.hasPrefix("tick-") }.count >= 2
        }
        TestProcess.stop(noStdin.pid)
        #expect(flowed, "\((try? String(contentsOfFile: noStdinLog, encoding: .utf8)) ?? "")")

        // A terminal container asked for stderr (kubectl -it with a piped stdin drops -t): the
        // kubelet refuses it as CRI does.
        let piped = await kubectl(["attach", "-it", "term"], input: "echo hi\n")
        #expect(piped.status != 0 && piped.stderr.contains("tty and stderr cannot both be true"), "\(piped)")
        // kubectl attach -it term in a terminal: the shell's own terminal; the shell's exit
        // ends the container and with it the attach (the pod restarts it).
        let attachTTY = await TestProcess.runCapturing(TestProcess.inNetns(server.netns, [
            "/usr/bin/python3", driver, "tty; stty size; exit 0\n", "try pressing enter", "", "",
            "/usr/bin/kubectl", "--kubeconfig", cluster.kubeconfig, "attach", "-it", "term",
        ]))
        #expect(attachTTY.status == 0 && attachTTY.stdout.contains("/dev/pts/0") && attachTTY.stdout.contains("33 101"),
                "\(attachTTY)")

        // The agent restarts; it adopts the running containers, and attaching still reaches
        // the same container through its monitor's socket.
        await cluster.stop(node)
        try cluster.startAgent(node)
        // Back means its kubelet API listens again (it starts after the join; on a loaded
        // machine an attach sent at "joined" was refused: issue 20's series, run 1).
        let back = await TestProcess.waitFor(30) { node.log.components(separatedBy: "[ClusterAgent] kubelet API listening").count > 2 }
        #expect(back, "\(node.log.suffix(2000))")
        let adoptedLog = cluster.manifestPath("adopted.log")
        let adopted = try TestChild.launch(TestProcess.inNetns(server.netns, [
            "/bin/sh", "-c", "(echo after-restart; sleep 30) | /usr/bin/kubectl --kubeconfig \(cluster.kubeconfig) attach -i reader",
        ]), stdout: .file(adoptedLog))
        let reached = await TestProcess.waitFor(30) {
            ((try? String(contentsOfFile: adoptedLog, encoding: .utf8)) ?? "").contains("got:after-restart")
        }
        TestProcess.stop(adopted.pid)
        let restarts = await cluster.query(["get", "pod", "reader", "-o", "jsonpath={.status.containerStatuses[0].restartCount}"])
        #expect(reached && restarts == "0", "restarts \(restarts): \((try? String(contentsOfFile: adoptedLog, encoding: .utf8)) ?? "")\n\(node.log.suffix(2000))")

        // The kubelet API refuses attach to a node's identity and to nobody, as exec.
        let credential = node.dataDir + "/agent/credential"
        let nodeToken = try String(contentsOfFile: credential + "/token", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        let asNode = await kubectl(["--token", nodeToken, "attach", "counter"])
        #expect(asNode.status != 0 && asNode.stderr.contains(#"cannot create resource "pods/attach""#), "\(asNode)")
        let kubeletURL = "https://\(node.ip):10250/attach/default/counter/count?stdout=1"
        let anonymous = await TestProcess.runCapturing(TestProcess.inNetns(server.netns, [
            "/usr/bin/curl", "-sk", "--max-time", "5", "-w", " %{http_code}", "-H", "Connection: Upgrade",
            "-H", "Upgrade: SPDY/3.1", kubeletURL,
        ])).stdout
        #expect(anonymous == "Unauthorized 401", "\(anonymous)")
    }
}
