import Agent
import Foundation
import Glibc
import KubeAPI
import Testing
import TestSupport

/// Root-only: a real `swiftlet agent` process running static pods on this host, killed and
/// restarted by the tests. Each test uses its own directories and cgroup parent.
@Suite("Agent with static pods (root)", .ownThreads)
struct AgentTests {
    @Test func crashingContainerBacksOffWithCrashLoopBackOff() async throws {
        let h = try await AgentHarness()
        defer { h.cleanUp() }
        try h.writeManifest("crash.yaml", """
            apiVersion: v1
            kind: Pod
            metadata: {name: crash}
            spec:
              terminationGracePeriodSeconds: 1
              containers:
              - {name: c, image: busybox, command: ["sh", "-c", "echo run; exit 3"]}
            """)
        try h.start()
        // Back-off 1 s doubling up to 4 s, read from the agent's BackOff records (kubelet's
        // "back-off 2s restarting failed container=..."), not timed.
        func delays() -> [String] {
            h.agentLog.split(separator: "\n").compactMap { line -> String? in
                guard let range = line.range(of: "back-off ") else { return nil }
                return String(line[range.upperBound...].prefix { $0 != " " })
            }
        }
        let reached = await h.waitFor(60) { delays().contains("4s") && (h.container("crash", "c")?.restartCount ?? 0) >= 4 }
        #expect(reached, "delays seen: \(delays()) \(h.agentLog)")
        #expect(delays().starts(with: ["1s", "2s", "4s"]), "\(delays())")
        #expect(h.agentLog.contains("restarting failed container=c pod=crash-testnode_default("))
        let status = h.container("crash", "c")
        #expect(status?.state?.waiting?.reason == "CrashLoopBackOff" || status?.state?.running != nil, "\(String(describing: status))")
        #expect(status?.lastState?.terminated?.exitCode == 3)
    }

    @Test func onFailureAndNeverFollowKubernetes() async throws {
        let h = try await AgentHarness()
        defer { h.cleanUp() }
        try h.writeManifest("policies.yaml", """
            apiVersion: v1
            kind: Pod
            metadata: {name: onfailure}
            spec:
              restartPolicy: OnFailure
              terminationGracePeriodSeconds: 1
              containers:
              - {name: ok, image: busybox, command: ["true"]}
              - {name: fails, image: busybox, command: ["sh", "-c", "exit 1"]}
            """)
        try h.writeManifest("never.yaml", """
            apiVersion: v1
            kind: Pod
            metadata: {name: never}
            spec:
              restartPolicy: Never
              terminationGracePeriodSeconds: 1
              containers:
              - {name: fails, image: busybox, command: ["sh", "-c", "exit 2"]}
            """)
        try h.start()
        let restarted = await h.waitFor(45) { (h.container("onfailure", "fails")?.restartCount ?? 0) >= 2 }
        #expect(restarted, "\(h.agentLog)")
        let ok = h.container("onfailure", "ok")
        #expect(ok?.restartCount == 0)
        #expect(ok?.state?.terminated?.reason == "Completed")
        #expect(h.entry("onfailure")?.status?.phase == "Running")
        let failed = await h.waitFor(30) { h.entry("never")?.status?.phase == "Failed" }
        #expect(failed)
        let never = h.container("never", "fails")
        #expect(never?.restartCount == 0)
        #expect(never?.state?.terminated?.exitCode == 2)
        #expect(never?.state?.terminated?.reason == "Error")
    }

    @Test func failingLivenessProbeRestartsAndReadinessFlipsReady() async throws {
        let h = try await AgentHarness()
        defer { h.cleanUp() }
        try h.writeManifest("probes.yaml", """
            apiVersion: v1
            kind: Pod
            metadata: {name: probes}
            spec:
              terminationGracePeriodSeconds: 1
              containers:
              - name: live
                image: busybox
                command: ["sh", "-c", "touch /tmp/healthy; sleep 2; rm /tmp/healthy; sleep 1000"]
                livenessProbe: {exec: {command: ["cat", "/tmp/healthy"]}, periodSeconds: 1, failureThreshold: 1}
              - name: ready
                image: busybox
                command: ["sh", "-c", "echo ok > /tmp/index.html; sleep 2; httpd -p 8080 -h /tmp; sleep 3; killall httpd; sleep 1000"]
                readinessProbe: {httpGet: {path: /index.html, port: 8080}, periodSeconds: 1}
              - name: tcp
                image: busybox
                command: ["httpd", "-f", "-p", "9000"]
                readinessProbe: {tcpSocket: {port: 9000}, periodSeconds: 1}
            """)
        try h.start()
        // Liveness restarts "live" once /tmp/healthy is gone. Readiness of "ready": not ready while
        // httpd is down, ready while it serves, not ready again after; read from the agent's
        // probe records, which keep every transition.
        func readiness() -> [String] {
            h.agentLog.split(separator: "\n").filter { $0.contains("container=ready") && $0.contains("readiness probe") }
                .map { $0.contains("succeeded") ? "ready" : "unready" }
        }
        let seen = await h.waitFor(60) {
            (h.container("probes", "live")?.restartCount ?? 0) >= 1 && readiness().starts(with: ["ready", "unready"])
        }
        #expect(seen, "restarts: \(String(describing: h.container("probes", "live")?.restartCount)) readiness: \(readiness()) \(h.agentLog)")
        #expect(readiness().starts(with: ["ready", "unready"]), "\(readiness())")
        let tcpReady = await h.waitFor(30) { h.container("probes", "tcp")?.ready == true }
        #expect(tcpReady)
        // The pod's status is written after the probe results it reflects: wait for it.
        func condition() -> PodCondition? { h.entry("probes")?.status?.conditions?.first { $0.type == "Ready" } }
        let unready = await h.waitFor(30) { condition()?.status == "False" }
        #expect(unready, "\(String(describing: condition()))")
        #expect(condition()?.message?.contains("ready") == true, "\(String(describing: condition()))")
    }

    @Test func startupProbeHoldsBackLivenessUntilItPasses() async throws {
        let h = try await AgentHarness()
        defer { h.cleanUp() }
        // Liveness would fail during the first 3 s (no /tmp/alive yet); the startup probe holds
        // it back until the file exists, so the container is never restarted.
        try h.writeManifest("slow.yaml", """
            apiVersion: v1
            kind: Pod
            metadata: {name: slow}
            spec:
              terminationGracePeriodSeconds: 1
              containers:
              - name: c
                image: busybox
                command: ["sh", "-c", "sleep 3; touch /tmp/alive; sleep 1000"]
                startupProbe: {exec: {command: ["cat", "/tmp/alive"]}, periodSeconds: 1, failureThreshold: 10}
                livenessProbe: {exec: {command: ["cat", "/tmp/alive"]}, periodSeconds: 1, failureThreshold: 1}
            """)
        try h.start()
        let started = await h.waitFor(60) { h.container("slow", "c")?.started == true && h.container("slow", "c")?.ready == true }
        #expect(started, "\(String(describing: h.container("slow", "c"))) \(h.agentLog)")
        // The startup probe failed first (no /tmp/alive for 3 s) and then passed; liveness never
        // ran before that, so nothing was restarted.
        #expect(h.agentLog.contains("startup probe failed") || h.agentLog.contains("startup probe succeeded"))
        #expect(!h.agentLog.contains("liveness probe failed"), "\(h.agentLog)")
        try await Task.sleep(for: .seconds(2))
        #expect(h.container("slow", "c")?.restartCount == 0)
    }

    @Test func killedAgentLeavesPodsRunningAndSeesExitsOnReturn() async throws {
        let h = try await AgentHarness()
        defer { h.cleanUp() }
        // "short" exits with 5 once the test creates /signal/go, which it does while no agent runs.
        let signal = h.root.path + "/signal"
        try FileManager.default.createDirectory(atPath: signal, withIntermediateDirectories: true)
        try h.writeManifest("survivor.yaml", """
            apiVersion: v1
            kind: Pod
            metadata: {name: survivor}
            spec:
              restartPolicy: Never
              terminationGracePeriodSeconds: 1
              volumes: [{name: signal, hostPath: {path: "\(signal)"}}]
              containers:
              - {name: long, image: busybox, command: ["sh", "-c", "echo before; sleep 1000"]}
              - name: short
                image: busybox
                volumeMounts: [{name: signal, mountPath: /signal}]
                command: ["sh", "-c", "echo short; while [ ! -f /signal/go ]; do sleep 0.1; done; exit 5"]
            """)
        try h.start()
        let running = await h.waitFor(30) { h.container("survivor", "short")?.state?.running != nil && h.containerPid("survivor", "long") != nil }
        #expect(running, "\(h.agentLog)")
        let pid = try #require(h.containerPid("survivor", "long"))
        let shortPid = try #require(h.containerPid("survivor", "short"))
        h.kill9()
        // "short" exits while no agent runs: waited for (gone or a zombie its monitor has not
        // reaped yet) rather than a fixed 2 s, which a loaded machine may not give its loop.
        FileManager.default.createFile(atPath: signal + "/go", contents: nil)
        let exited = await h.waitFor(30) {
            guard let stat = try? String(contentsOfFile: "/proc/\(shortPid)/stat", encoding: .utf8) else { return true }
            return stat.split(separator: ")").last?.split(separator: " ").first == "Z"
        }
        #expect(exited, "short did not exit on its signal file")
        #expect(kill(pid, 0) == 0, "the container died with the agent")
        try h.start()
        let seen = await h.waitFor(30) { h.container("survivor", "short")?.state?.terminated?.exitCode == 5 }
        #expect(seen, "\(String(describing: h.container("survivor", "short"))) \(h.agentLog)")
        #expect(h.container("survivor", "short")?.state?.terminated?.reason == "Error")
        #expect(h.containerPid("survivor", "long") == pid)
        #expect(h.container("survivor", "long")?.state?.running != nil)
        #expect(h.container("survivor", "long")?.restartCount == 0)
        // The logs written before the restart are still there.
        let entry = try #require(h.entry("survivor"))
        let file = try PodLogs(logRoot: h.logs).file(pod: entry.pod, container: "long", previous: false)
        let text = try String(contentsOfFile: file, encoding: .utf8)
        #expect(PodLogs.messages(text[...]).lines == "before\n")
        // CRI format: RFC 3339 timestamp with nanoseconds, stream, tag, message.
        #expect(text.range(of: #"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z stdout F before\n$"#, options: .regularExpression) != nil, "\(text)")
    }

    @Test func restartedContainerSurvivesAgentRestartWithItsCount() async throws {
        let h = try await AgentHarness()
        defer { h.cleanUp() }
        // Crashes on its first two starts, then stays up (the count lives in an emptyDir).
        try h.writeManifest("flaky.yaml", """
            apiVersion: v1
            kind: Pod
            metadata: {name: flaky}
            spec:
              terminationGracePeriodSeconds: 1
              volumes: [{name: data, emptyDir: {}}]
              containers:
              - name: c
                image: busybox
                volumeMounts: [{name: data, mountPath: /data}]
                command: ["sh", "-c", "n=$(cat /data/n 2>/dev/null || echo 0); echo $((n+1)) > /data/n; [ $n -ge 2 ] && exec sleep 1000; exit 1"]
            """)
        try h.start()
        let settled = await h.waitFor(45) {
            h.container("flaky", "c")?.restartCount == 2 && h.container("flaky", "c")?.state?.running != nil
        }
        #expect(settled, "\(String(describing: h.container("flaky", "c"))) \(h.agentLog)")
        let pid = try #require(h.containerPid("flaky", "c"))
        let recoveries = h.agentLog.components(separatedBy: "pod recovered after restart").count
        h.kill9()
        try h.start()
        // The new agent adopts the running start and cleans up the two that ended, without
        // touching the running one: checked once it says it recovered the pod (a fixed 2 s
        // alone could end before a loaded machine's agent got there), then 2 s for a wrong
        // restart to show.
        let recovered = await h.waitFor(60) { h.agentLog.components(separatedBy: "pod recovered after restart").count > recoveries }
        #expect(recovered, "\(h.agentLog)")
        try await Task.sleep(for: .seconds(2))
        #expect(kill(pid, 0) == 0, "the running start was killed during recovery")
        #expect(h.containerPid("flaky", "c") == pid)
        #expect(h.container("flaky", "c")?.restartCount == 2)
        #expect(h.container("flaky", "c")?.state?.running != nil)
    }

    @Test func podsGetAddressesThatSurviveAnAgentRestart() async throws {
        let h = try await AgentHarness()
        defer { h.cleanUp() }
        try h.writeManifest("net.yaml", """
            apiVersion: v1
            kind: Pod
            metadata: {name: net}
            spec:
              terminationGracePeriodSeconds: 1
              containers:
              - name: web
                image: busybox
                command: ["sh", "-c", "cat /etc/hosts; echo ok > /tmp/index.html; exec httpd -f -p 8080 -h /tmp"]
                ports: [{containerPort: 8080, hostPort: 18080}]
            """)
        try h.start()
        var ip = ""
        let up = await h.waitFor(30) {
            ip = h.entry("net")?.status?.podIP ?? ""
            return !ip.isEmpty && h.container("net", "web")?.state?.running != nil
        }
        #expect(up, "\(h.agentLog)")
        #expect(ip.hasPrefix("10.42.0."), "\(ip)")
        // The node reports its network available only once the bridge exists.
        let condition = NodeStatusStore(dataDirectory: h.data).all().first { $0.type == "NetworkUnavailable" }
        #expect(condition?.status == "False" && condition?.reason == "RouteCreated", "\(String(describing: condition))")
        #expect(try h.inNode(["/usr/sbin/ip", "-o", "addr", "show", "swiftlet0"]).contains("10.42.0.1/24"))
        // kubelet's hosts file names the pod by its address.
        let entry = try #require(h.entry("net"))
        let hostsFile = try PodLogs(logRoot: h.logs).file(pod: entry.pod, container: "web", previous: false)
        _ = await h.waitFor(30) { ((try? String(contentsOfFile: hostsFile, encoding: .utf8)) ?? "").contains(ip) }
        let logged = PodLogs.messages((try String(contentsOfFile: hostsFile, encoding: .utf8))[...]).lines
        #expect(logged.contains("\(ip)\tnet-testnode\n"), "\(logged)")
        // Reachable from the node by pod IP, and through the hostPort at the node's bridge address.
        #expect(try h.inNode(["/bin/busybox", "wget", "-qO-", "http://\(ip):8080/"]) == "ok\n")
        #expect(try h.inNode(["/bin/busybox", "wget", "-qO-", "http://10.42.0.1:18080/"]) == "ok\n")
        h.kill9()
        try h.start()
        let stillThere = await h.waitFor(30) { h.entry("net")?.status?.podIP == ip && h.container("net", "web")?.state?.running != nil }
        #expect(stillThere, "\(String(describing: h.entry("net")?.status)) \(h.agentLog)")
        #expect(try h.inNode(["/bin/busybox", "wget", "-qO-", "http://\(ip):8080/"]) == "ok\n")
        try h.removeManifest("net.yaml")
        let gone = await h.waitFor(30) { h.entry("net") == nil }
        #expect(gone)
        let links = try h.inNode(["/usr/sbin/ip", "-o", "link"])
        #expect(!links.contains("swl"), "a pod veth remained: \(links)")
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: h.data + "/network")) ?? []).allSatisfy { !$0.hasPrefix("10.") })
    }

    @Test func removedManifestStopsPodWithinGraceAndLeavesNothing() async throws {
        let h = try await AgentHarness()
        defer { h.cleanUp() }
        try h.writeManifest("stop.yaml", """
            apiVersion: v1
            kind: Pod
            metadata: {name: stop}
            spec:
              terminationGracePeriodSeconds: 2
              volumes: [{name: scratch, emptyDir: {}}]
              containers:
              - name: polite
                image: busybox
                command: ["sh", "-c", "trap 'echo bye; exit 0' TERM; while true; do sleep 0.1; done"]
              - name: stubborn
                image: busybox
                command: ["sleep", "1000"]
                volumeMounts: [{name: scratch, mountPath: /scratch}]
            """)
        try h.start()
        let up = await h.waitFor(30) { h.entry("stop")?.status?.containerStatuses?.allSatisfy { $0.state?.running != nil } == true }
        #expect(up, "\(h.agentLog)")
        let started = Date()
        try h.removeManifest("stop.yaml")
        let gone = await h.waitFor(30) { h.entry("stop") == nil }
        let took = Date().timeIntervalSince(started)
        #expect(gone, "\(h.agentLog)")
        // The stubborn one (PID 1 without a SIGTERM handler) is killed when the 2 s grace ends,
        // not before (the upper bound only guards against waiting for the 1000 s sleep).
        #expect(took >= 2 && took < 30, "termination took \(took) s")
        // The status entry goes first, the pod's directories right after it (run 4 of the
        // fresh-clone series looked in between).
        let clean = await h.waitFor(10) { h.leftovers().isEmpty }
        #expect(clean, "\(h.leftovers())")
    }

    @Test func malformedManifestIsReportedAndOtherPodsKeepRunning() async throws {
        let h = try await AgentHarness()
        defer { h.cleanUp() }
        try h.writeManifest("good.yaml", """
            apiVersion: v1
            kind: Pod
            metadata: {name: good}
            spec:
              terminationGracePeriodSeconds: 1
              containers: [{name: c, image: busybox, command: ["sleep", "1000"]}]
            """)
        try h.start()
        let up = await h.waitFor(30) { h.containerPid("good", "c") != nil && h.container("good", "c")?.state?.running != nil }
        #expect(up)
        let pid = h.containerPid("good", "c")
        try h.writeManifest("bad.yaml", """
            apiVersion: v1
            kind: Pod
            metadata: {name: bad}
            spec:
              containers: [{name: c, image: busybox, imagee: typo}]
            """)
        let reported = await h.waitFor(30) {
            let errors = (try? String(contentsOfFile: h.data + "/manifest-errors", encoding: .utf8)) ?? ""
            return errors.contains("bad.yaml") && errors.contains("unknown field \"spec.containers[0].imagee\"")
        }
        #expect(reported, "\(h.agentLog)")
        #expect(h.agentLog.contains("invalid static pod manifest"))
        #expect(h.entry("bad") == nil)
        try await Task.sleep(for: .seconds(1))
        #expect(h.containerPid("good", "c") == pid)
        #expect(h.container("good", "c")?.restartCount == 0)
    }

    @Test func healthzAnswersOk() async throws {
        let h = try await AgentHarness()
        defer { h.cleanUp() }
        h.healthzPort = AgentHarness.freePort()
        try h.start()
        // The agent's 127.0.0.1 is its node namespace's loopback.
        let url = "http://127.0.0.1:\(h.healthzPort)"
        var answer = ""
        let ok = await h.waitFor(30) {
            answer = (try? h.inNode(["/bin/busybox", "wget", "-S", "-qO-", url + "/healthz"])) ?? ""
            return answer.contains("HTTP/1.1 200 OK")
        }
        #expect(ok, "\(answer) \(h.agentLog)")
        #expect(answer.hasSuffix("\nok"), "\(answer)")
        do {
            _ = try h.inNode(["/bin/busybox", "wget", "-S", "-qO-", url + "/nope"])
            Issue.record("a missing path answered")
        } catch {
            #expect("\(error)".contains("404 Not Found"), "\(error)")
        }
    }
}
