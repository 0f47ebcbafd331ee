import Foundation
import Glibc
import Images
import KubeAPI
import Testing
import TestSupport
@testable import Runtime

/// Root-only integration tests: real namespaces, overlayfs, cgroups (v1 on this host) and
/// seccomp, on images built from Debian's busybox-static. Every test checks that nothing it
/// created remains.
@Suite("Pods on the runtime (root)", .serialized, .ownThreads)
struct PodRuntimeTests {
    @Test func containerSeesHostnamePid1ImageFilesEnvAndWorkdir() async throws {
        let h = try RuntimeHarness()
        let pod = try h.pod("""
            apiVersion: v1
            kind: Pod
            metadata: {name: inspect}
            spec:
              restartPolicy: Never
              containers:
              - name: c
                image: docker.io/swiftlet/configured:1.0
                command: ["sh", "-c"]
                args:
                - |
                  echo host=$(hostname) pid=$$$$ pwd=$(pwd) uid=$(id -u) gid=$(id -g)
                  echo foo=$FOO greeting=$GREETING mine=$MINE
                  cat /srv/hello.txt /srv/data/old.txt
                  ls /srv; ls /opt/dir
                  cat /etc/hostname
                env:
                - {name: GREETING, value: from-pod}
                - {name: MINE, value: "$(GREETING)-expanded"}
            """)
        let (result, logs) = try await h.run(pod)
        let out = logs["c"] ?? ""
        #expect(result.exits["c"]?.exitCode == 0, "\(out)")
        #expect(out.contains("host=inspect pid=1 pwd=/srv uid=1000 gid=1000"), "\(out)")
        #expect(out.contains("foo=from-image greeting=from-pod mine=from-pod-expanded"), "\(out)")
        #expect(out.contains("hello from layer 2"), "\(out)")
        // Layer 2 whites out /srv/gone.txt and makes /opt/dir opaque (only c remains).
        #expect(!out.contains("gone.txt"), "\(out)")
        #expect(out.contains("\nc\n"), "\(out)")
        #expect(!out.contains("\na\n") && !out.contains("\nb\n"), "\(out)")
        #expect(h.leftovers().isEmpty, "\(h.leftovers())")
    }

    @Test func imageEntrypointAndCmdFollowKubernetesRules() async throws {
        let h = try RuntimeHarness()
        // args replace Cmd and keep the Entrypoint (/bin/echo entry).
        let pod = try h.pod("""
            apiVersion: v1
            kind: Pod
            metadata: {name: entry}
            spec:
              containers:
              - {name: defaults, image: docker.io/swiftlet/configured:1.0}
              - {name: args, image: docker.io/swiftlet/configured:1.0, args: ["from-args"]}
            """)
        let (result, logs) = try await h.run(pod)
        #expect(result.phase == "Succeeded")
        #expect(logs["defaults"] == "entry from-cmd\n")
        #expect(logs["args"] == "entry from-args\n")
        #expect(h.leftovers().isEmpty, "\(h.leftovers())")
    }

    @Test func containersShareNetworkAndEmptyDir() async throws {
        let h = try RuntimeHarness()
        let pod = try h.pod("""
            apiVersion: v1
            kind: Pod
            metadata: {name: shared}
            spec:
              volumes: [{name: data, emptyDir: {}}]
              containers:
              - name: server
                image: busybox
                command: ["sh", "-c", "echo served > /data/index.html && httpd -p 8080 -h /data && sleep 3"]
                volumeMounts: [{name: data, mountPath: /data}]
              - name: client
                image: busybox
                command: ["sh", "-c", "for i in 1 2 3 4 5 6 7 8 9 10; do wget -qO- http://127.0.0.1:8080/ && break; sleep 0.2; done; cat /shared/index.html"]
                volumeMounts: [{name: data, mountPath: /shared, readOnly: true}]
            """)
        let (result, logs) = try await h.run(pod)
        #expect(result.phase == "Succeeded", "\(logs)")
        #expect(logs["client"] == "served\nserved\n", "\(logs)")
        #expect(h.leftovers().isEmpty, "\(h.leftovers())")
    }

    @Test func defaultSecurityCapabilitiesNoNewPrivsSeccompAndMasks() async throws {
        let h = try RuntimeHarness()
        let pod = try h.pod("""
            apiVersion: v1
            kind: Pod
            metadata: {name: secure}
            spec:
              containers:
              - name: c
                image: busybox
                securityContext: {allowPrivilegeEscalation: false}
                command: ["sh", "-c"]
                args:
                - |
                  grep -E '^(CapBnd|CapEff|NoNewPrivs|Seccomp):' /proc/self/status
                  echo keys=$(wc -c < /proc/keys) timer=$(wc -c < /proc/timer_list) firmware=$(ls /sys/firmware | wc -l)
                  echo 1 > /proc/sys/kernel/ns_last_pid 2>/dev/null && echo proc-sys-writable || echo proc-sys-readonly
                  touch /sys/x 2>/dev/null && echo sys-writable || echo sys-readonly
                  unshare -U true 2>/dev/null && echo userns-allowed || echo userns-denied
              - name: unconfined
                image: busybox
                securityContext: {seccompProfile: {type: Unconfined}}
                command: ["sh", "-c", "grep Seccomp: /proc/self/status; grep NoNewPrivs /proc/self/status; unshare -U true && echo userns-allowed"]
            """)
        let (result, logs) = try await h.run(pod)
        let out = logs["c"] ?? ""
        #expect(result.exits["c"]?.exitCode == 0, "\(out)")
        #expect(out.contains("CapBnd:\t00000000a80425fb"), "\(out)")
        #expect(out.contains("CapEff:\t00000000a80425fb"), "\(out)")
        #expect(out.contains("NoNewPrivs:\t1"), "\(out)")
        #expect(out.contains("Seccomp:\t2"), "\(out)")
        #expect(out.contains("keys=0 timer=0 firmware=0"), "\(out)")
        #expect(out.contains("proc-sys-readonly"), "\(out)")
        #expect(out.contains("sys-readonly"), "\(out)")
        // RuntimeDefault refuses new namespaces to containers without CAP_SYS_ADMIN.
        #expect(out.contains("userns-denied"), "\(out)")
        let other = logs["unconfined"] ?? ""
        #expect(other.contains("Seccomp:\t0") && other.contains("NoNewPrivs:\t0") && other.contains("userns-allowed"), "\(other)")
        #expect(h.leftovers().isEmpty, "\(h.leftovers())")
    }

    @Test func capabilitiesAddDropAndNonRootUser() async throws {
        let h = try RuntimeHarness()
        let pod = try h.pod("""
            apiVersion: v1
            kind: Pod
            metadata: {name: caps}
            spec:
              containers:
              - name: dropped
                image: busybox
                securityContext: {capabilities: {drop: ["ALL"], add: ["NET_BIND_SERVICE"]}}
                command: ["grep", "CapEff", "/proc/self/status"]
              - name: nonroot
                image: busybox
                securityContext: {runAsUser: 65534, runAsGroup: 65534}
                command: ["sh", "-c", "id; grep CapEff /proc/self/status"]
            """)
        let (result, logs) = try await h.run(pod)
        #expect(result.phase == "Succeeded", "\(logs)")
        #expect(logs["dropped"] == "CapEff:\t0000000000000400\n", "\(logs)")
        #expect(logs["nonroot"]?.contains("uid=65534(nobody) gid=65534") == true, "\(logs)")
        #expect(logs["nonroot"]?.contains("CapEff:\t0000000000000000") == true, "\(logs)")
        #expect(h.leftovers().isEmpty, "\(h.leftovers())")
    }

    @Test func memoryLimitKillsHogAndReportsOOMKilled() async throws {
        let h = try RuntimeHarness()
        let pod = try h.pod("""
            apiVersion: v1
            kind: Pod
            metadata: {name: hog}
            spec:
              containers:
              - name: hog
                image: busybox
                resources: {limits: {memory: 16Mi}}
                command: ["sh", "-c", "x=$(head -c 200000000 /dev/zero | tr '\\\\0' a); echo survived"]
            """)
        let (result, logs) = try await h.run(pod)
        let exit = try #require(result.exits["hog"])
        #expect(exit.reason == "OOMKilled", "\(exit) \(logs)")
        #expect(exit.exitCode == 137, "\(exit)")
        #expect(!(logs["hog"] ?? "").contains("survived"))
        #expect(h.leftovers().isEmpty, "\(h.leftovers())")
    }

    /// createSandbox makes the groups of the containers that start first (before the
    /// migration warm-up, see PodRuntime.createSandbox); the start writes the container's limits
    /// into its pre-made group, and the sandbox's removal takes the groups of starts that never
    /// came.
    @Test func firstStartsGroupsAreMadeWithTheSandboxAndGetTheirLimitsAtTheStart() async throws {
        let h = try RuntimeHarness()
        let pod = try h.pod("""
            apiVersion: v1
            kind: Pod
            metadata: {name: early}
            spec:
              containers:
              - {name: c, image: busybox, command: ["sleep", "1000"], resources: {limits: {memory: 32Mi}}}
              - {name: d, image: busybox, command: ["sleep", "1000"]}
            """)
        let sandbox = try h.runtime.createSandbox(for: pod, firstStarts: [(name: "c", attempt: 0), (name: "d", attempt: 0)])
        let layout = PodLayout(config: h.runtime.config, uid: pod.metadata.uid ?? "")
        let memory = "/sys/fs/cgroup/memory/" + layout.containerCgroup(parent: h.parent, name: "c", attempt: 0)
        let other = "/sys/fs/cgroup/memory/" + layout.containerCgroup(parent: h.parent, name: "d", attempt: 0)
        #expect(FileManager.default.fileExists(atPath: memory + "/memory.limit_in_bytes"))
        #expect(FileManager.default.fileExists(atPath: other))
        let null = open("/dev/null", O_WRONLY | O_CLOEXEC)
        defer { close(null) }
        let running = try h.runtime.startContainer(pod.spec.containers[0], in: sandbox, output: .fds(stdout: null, stderr: null))
        #expect(running.cgroup == layout.containerCgroup(parent: h.parent, name: "c", attempt: 0))
        let limit = try String(contentsOfFile: memory + "/memory.limit_in_bytes", encoding: .utf8)
        #expect(limit.trimmingCharacters(in: .whitespacesAndNewlines) == String(32 * 1024 * 1024))
        let members = try String(contentsOfFile: memory + "/cgroup.procs", encoding: .utf8)
        let pid = try #require(running.process.pid)
        #expect(members.split(separator: "\n").contains(Substring(String(pid))), "\(members)")
        // d never started: its group goes with the sandbox.
        await h.runtime.stop(running, gracePeriod: 0)
        await h.runtime.removeContainer(running)
        h.runtime.removeSandbox(sandbox)
        #expect(!FileManager.default.fileExists(atPath: other))
        #expect(h.leftovers().isEmpty, "\(h.leftovers())")
    }

    @Test func pidsLimitStopsForkBomb() async throws {
        let h = try RuntimeHarness()
        var pod = try h.pod("""
            apiVersion: v1
            kind: Pod
            metadata: {name: bomb}
            spec:
              containers:
              - name: bomb
                image: busybox
                command: ["sh", "-c", "i=0; while [ $i -lt 200 ]; do sleep 5 & echo forked; i=$((i+1)); done"]
            """)
        pod.metadata.name = "bomb"
        let limited = PodRuntime(config: RuntimeConfig(stateRoot: h.root.path + "/state", runRoot: h.root.path + "/run",
                                                      cgroupParent: h.parent, podPidsLimit: 20),
                                 images: h.runtime.images, cgroups: h.cgroups, nodeName: "test-node")
        let logs = h.root.path + "/bomb.log"
        let result = try await PodRunner(runtime: limited).run(pod) { _ in
            open(logs, O_CREAT | O_WRONLY | O_APPEND | O_CLOEXEC, 0o644)
        }
        let out = (try? String(contentsOfFile: logs, encoding: .utf8)) ?? ""
        let forked = out.split(separator: "\n").filter { $0 == "forked" }.count
        // The shell (1 process) and at most 19 sleepers fit; then fork fails and the shell gives up.
        #expect(forked > 0 && forked < 20, "\(out)")
        #expect(out.contains("can't fork"), "\(out)")
        #expect(result.exits["bomb"].map { $0.exitCode != 0 } == true)
        #expect(h.leftovers().isEmpty, "\(h.leftovers())")
    }

    @Test func hostPathDevHostsRlimitsAndPrivileged() async throws {
        let h = try RuntimeHarness()
        let shared = h.root.path + "/hostdir"
        try FileManager.default.createDirectory(atPath: shared, withIntermediateDirectories: true)
        try "from the host\n".write(toFile: shared + "/in.txt", atomically: true, encoding: .utf8)
        let pod = try h.pod("""
            apiVersion: v1
            kind: Pod
            metadata: {name: files}
            spec:
              volumes:
              - {name: host, hostPath: {path: "\(shared)", type: Directory}}
              - {name: created, hostPath: {path: "\(shared)/made/here", type: DirectoryOrCreate}}
              containers:
              - name: c
                image: busybox
                volumeMounts:
                - {name: host, mountPath: /host, readOnly: true}
                - {name: created, mountPath: /made}
                command: ["sh", "-c"]
                args:
                - |
                  cat /host/in.txt
                  (echo x > /host/out.txt) 2>/dev/null && echo host-writable || echo host-readonly
                  echo y > /made/out.txt && echo made-writable
                  echo dev: $(ls /dev)
                  head -1 /etc/hosts; cat /etc/hostname
                  echo nofile=$(ulimit -n)
              - name: priv
                image: busybox
                securityContext: {privileged: true}
                command: ["sh", "-c", "grep -E '^(CapEff|Seccomp):' /proc/self/status; grep ' /sys ' /proc/mounts"]
            """)
        let (result, logs) = try await h.run(pod)
        let out = logs["c"] ?? ""
        #expect(result.phase == "Succeeded", "\(logs)")
        #expect(out.contains("from the host\nhost-readonly\nmade-writable\n"), "\(out)")
        let dev = Set(out.split(separator: "\n").first { $0.hasPrefix("dev: ") }?.dropFirst(5).split(separator: " ").map(String.init) ?? [])
        #expect(dev.isSuperset(of: ["full", "null", "ptmx", "pts", "random", "shm", "tty", "urandom", "zero", "mqueue"]), "\(dev)")
        // No pod IP before pod networking exists, so (as in kubelet) no line for the pod yet.
        #expect(out.contains("# Kubernetes-managed hosts file.\nfiles\n"), "\(out)")
        // containerd's 1048576, capped by what this host allows the agent (20000 here).
        let nofile = min(1_048_576, Int(ContainerDefaults.rlimits()[0].hard))
        #expect(out.contains("nofile=\(nofile)\n"), "\(out)")
        #expect(FileManager.default.fileExists(atPath: shared + "/made/here/out.txt"))
        #expect(!FileManager.default.fileExists(atPath: shared + "/out.txt"))
        let priv = logs["priv"] ?? ""
        let all = String(CapabilityMask.current.mask, radix: 16)
        #expect(priv.contains("CapEff:\t" + String(repeating: "0", count: 16 - all.count) + all), "\(priv)")
        #expect(priv.contains("Seccomp:\t0"), "\(priv)")
        #expect(priv.contains(" /sys sysfs rw,"), "\(priv)")
        #expect(h.leftovers().isEmpty, "\(h.leftovers())")
    }

    @Test func shareProcessNamespaceGivesOnePidNamespaceWithPause() async throws {
        let h = try RuntimeHarness()
        let pod = try h.pod("""
            apiVersion: v1
            kind: Pod
            metadata: {name: shared-pid}
            spec:
              shareProcessNamespace: true
              containers:
              - {name: sleeper, image: busybox, command: ["sleep", "3"]}
              - name: looker
                image: busybox
                command: ["sh", "-c", "sleep 0.5; ps -o pid,args; echo me=$$$$"]
            """)
        let (result, logs) = try await h.run(pod)
        let out = logs["looker"] ?? ""
        #expect(result.phase == "Succeeded", "\(logs)")
        // PID 1 is the pause process; the other container's sleep is visible; we are not PID 1.
        #expect(out.range(of: #"(?m)^\s*1 \S*swiftlet-monitor --pause$"#, options: .regularExpression) != nil, "\(out)")
        #expect(out.contains("sleep 3"), "\(out)")
        #expect(!out.contains("me=1\n"), "\(out)")
        let pauses = (try? FileManager.default.contentsOfDirectory(atPath: "/proc"))?.filter { pid in
            guard Int(pid) != nil, let cmd = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return false }
            return String(decoding: cmd, as: UTF8.self).contains("--pause") && String(decoding: cmd, as: UTF8.self).contains(Fixtures.binDirectory)
        } ?? []
        #expect(pauses.isEmpty, "pause processes left: \(pauses)")
        #expect(h.leftovers().isEmpty, "\(h.leftovers())")
    }

    @Test func missingImageBadCommandAndBadSpecLeaveNothingBehind() async throws {
        let h = try RuntimeHarness()
        let missing = try h.pod("""
            apiVersion: v1
            kind: Pod
            metadata: {name: missing}
            spec:
              containers: [{name: c, image: "no-such-image:1.0"}]
            """)
        do {
            _ = try await h.run(missing)
            Issue.record("a pod with a missing image ran")
        } catch {
            #expect("\(error)".contains("docker.io/library/no-such-image:1.0"), "\(error)")
        }
        #expect(h.leftovers().isEmpty, "\(h.leftovers())")

        let badCommand = try h.pod("""
            apiVersion: v1
            kind: Pod
            metadata: {name: badcmd}
            spec:
              containers:
              - {name: ok, image: busybox, command: ["sleep", "30"]}
              - {name: c, image: busybox, command: ["no-such-binary"]}
            """)
        do {
            _ = try await h.run(badCommand)
            Issue.record("a pod with a missing binary ran")
        } catch {
            #expect("\(error)" == "exec: \"no-such-binary\": executable file not found in $PATH", "\(error)")
        }
        #expect(h.leftovers().isEmpty, "\(h.leftovers())")

        #expect(throws: DecodingFailure.self) {
            _ = try h.pod("""
                apiVersion: v1
                kind: Pod
                metadata: {name: bad}
                spec:
                  containers: [{name: c, image: busybox, imagee: typo}]
                """)
        }
    }
}
