import CShims
import Cgroups
import Foundation
import Glibc
import Testing
import TestSupport
@testable import Runtime

/// Root-only: the container isolation gaps found against crun (issue 10, items 7-9), checked in
/// real containers on the runtime. Item 6 (oom_score_adj without CAP_SYS_RESOURCE) is in
/// `OOMScoreAdjFallbackTests`.
@Suite("Container isolation parity with containerd (root)", .serialized, .ownThreads)
struct IsolationTests {
    /// Item 7: a read-only root makes the pod's hosts files read-only too, so a container cannot
    /// rewrite what its siblings resolve with.
    @Test func readOnlyRootCannotWriteThePodsHostsFiles() async throws {
        let h = try RuntimeHarness()
        let pod = try h.pod("""
            apiVersion: v1
            kind: Pod
            metadata: {name: ro-hosts}
            spec:
              volumes: [{name: sync, emptyDir: {}}]
              containers:
              - name: ro
                image: busybox
                securityContext: {readOnlyRootFilesystem: true}
                volumeMounts: [{name: sync, mountPath: /sync}]
                command: ["sh", "-c"]
                args:
                - |
                  for f in /etc/resolv.conf /etc/hosts /etc/hostname; do
                    (echo "nameserver 6.6.6.6" >> $f) 2>/dev/null && echo "$f writable" || echo "$f read-only"
                  done
                  touch /x 2>/dev/null && echo root-writable || echo root-read-only
                  echo bye > /dev/termination-log && echo termination-log-writable
                  grep -E ' /etc/(resolv.conf|hosts|hostname) ' /proc/mounts | cut -d' ' -f2,4 | cut -d, -f1
                  touch /sync/done
              - name: sibling
                image: busybox
                volumeMounts: [{name: sync, mountPath: /sync}]
                command: ["sh", "-c"]
                args:
                - |
                  i=0; while [ ! -e /sync/done ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done
                  echo planted=$(cat /etc/resolv.conf /etc/hosts /etc/hostname | grep -c 6.6.6.6)
                  grep ' /etc/resolv.conf ' /proc/mounts | cut -d' ' -f4 | cut -d, -f1
            """)
        let (result, logs) = try await h.run(pod)
        let ro = logs["ro"] ?? ""
        #expect(result.phase == "Succeeded", "\(logs)")
        for file in ["/etc/resolv.conf", "/etc/hosts", "/etc/hostname"] {
            #expect(ro.contains("\(file) read-only\n"), "\(ro)")
            #expect(ro.contains("\(file) ro\n"), "\(ro)")
        }
        #expect(ro.contains("root-read-only\ntermination-log-writable\n"), "\(ro)")
        // The sibling, whose root is writable, keeps writable files, and nothing was planted.
        #expect(logs["sibling"] == "planted=0\nrw\n", "\(logs)")
        #expect(h.leftovers().isEmpty, "\(h.leftovers())")
    }

    /// Item 8 and HOME (item 9): the primary group is among the supplementary groups
    /// (containerd's fix for CVE-2023-25173), and HOME comes from the image's passwd entry,
    /// "/" without one, the pod's own value first.
    @Test func primaryGroupIsSupplementaryAndHomeComesFromPasswd() async throws {
        let h = try RuntimeHarness()
        let pod = try h.pod("""
            apiVersion: v1
            kind: Pod
            metadata: {name: ids}
            spec:
              securityContext: {supplementalGroups: [4000]}
              containers:
              - {name: root, image: busybox, command: ["sh", "-c", "id; grep ^Groups: /proc/self/status; echo home=$HOME"]}
              - name: nobody
                image: busybox
                securityContext: {runAsUser: 65534, runAsGroup: 65534}
                command: ["sh", "-c", "id; echo home=$HOME"]
              - name: unnamed
                image: busybox
                securityContext: {runAsUser: 4242}
                command: ["sh", "-c", "id; echo home=$HOME"]
              - {name: app, image: docker.io/swiftlet/configured:1.0, command: ["sh", "-c", "id; echo home=$HOME"]}
              - name: custom
                image: busybox
                env: [{name: HOME, value: /data}]
                command: ["sh", "-c", "echo home=$HOME; env | grep -c ^HOME="]
            """)
        let (result, logs) = try await h.run(pod)
        #expect(result.phase == "Succeeded", "\(logs)")
        #expect(logs["root"] == "uid=0(root) gid=0(root) groups=0(root),4000\nGroups:\t0 4000 \nhome=/root\n", "\(logs)")
        // The kernel keeps the groups sorted.
        #expect(logs["nobody"] == "uid=65534(nobody) gid=65534(nogroup) groups=4000,65534(nogroup)\nhome=/nonexistent\n", "\(logs)")
        #expect(logs["unnamed"] == "uid=4242 gid=0(root) groups=0(root),4000\nhome=/\n", "\(logs)")
        #expect(logs["app"] == "uid=1000(app) gid=1000(app) groups=1000(app),4000\nhome=/home/app\n", "\(logs)")
        #expect(logs["custom"] == "home=/data\n1\n", "\(logs)")
        #expect(h.leftovers().isEmpty, "\(h.leftovers())")
    }

    /// Item 9: a container reads its own limits under /sys/fs/cgroup, read-only unless
    /// privileged, and joins every hierarchy (cpuset, blkio, name=systemd too).
    @Test func containerReadsItsOwnLimitsUnderSysFsCgroup() async throws {
        let h = try RuntimeHarness()
        let v1 = h.cgroups as? CgroupV1Manager
        // v1: the memory hierarchy's file; v2: the unified one (the host decides which we get).
        let memoryFile = v1 != nil ? "/sys/fs/cgroup/memory/memory.limit_in_bytes" : "/sys/fs/cgroup/memory.max"
        let pod = try h.pod("""
            apiVersion: v1
            kind: Pod
            metadata: {name: limits}
            spec:
              containers:
              - name: c
                image: busybox
                resources: {limits: {memory: 48Mi, cpu: 250m}}
                command: ["sh", "-c"]
                args:
                - |
                  echo memory=$(cat \(memoryFile))
                  echo ls=$(ls /sys/fs/cgroup | tr '\\n' ' ')
                  (echo 1 > \(memoryFile)) 2>/dev/null && echo cgroup-writable || echo cgroup-read-only
                  mkdir /sys/fs/cgroup/new 2>/dev/null && echo top-writable || echo top-read-only
                  cat /proc/self/cgroup
              - name: priv
                image: busybox
                securityContext: {privileged: true}
                command: ["sh", "-c", "cd /sys/fs/cgroup/\(v1 != nil ? "memory" : ".") && mkdir child && rmdir child && echo cgroup-writable"]
            """)
        let (result, logs) = try await h.run(pod)
        let out = logs["c"] ?? ""
        #expect(result.phase == "Succeeded", "\(logs)")
        #expect(out.contains("memory=\(48 << 20)\n"), "\(out)")
        #expect(out.contains("cgroup-read-only\ntop-read-only\n"), "\(out)")
        #expect(logs["priv"] == "cgroup-writable\n", "\(logs)")
        let group = "/\(h.parent)/pod\(try #require(pod.metadata.uid))/c_0"
        if let v1 {
            // Every v1 hierarchy under the host's name, co-mounted controllers by theirs too.
            guard case .v1(let hierarchies, let links) = try v1.containerView(for: "x") else { Issue.record("no v1 view"); return }
            let names = (hierarchies.map(\.name) + links.map(\.name)).sorted()
            #expect(out.contains("ls=" + names.joined(separator: " ") + "\n"), "\(out)")
            // None left at the root: the limit controllers and the joined ones alike.
            for line in out.split(separator: "\n") where line.contains(":/") && !line.hasPrefix("0::") {
                #expect(line.hasSuffix(":" + group), "\(line)")
            }
            for controller in ["cpuset", "blkio", "name=systemd", "memory"] where v1.hierarchies[controller] != nil {
                #expect(out.contains(":\(controller):\(group)\n"), "\(controller): \(out)")
            }
            if v1.unified != nil { #expect(out.contains("0::\(group)\n"), "\(out)") }
        } else {
            // v2: the container's own group is its cgroup namespace's root.
            #expect(out.contains("0::/\n"), "\(out)")
            #expect(out.contains("cgroup.procs"), "\(out)")
        }
        #expect(h.leftovers().isEmpty, "\(h.leftovers())")
    }

    /// A pod asking for a user namespace is refused, not run without one (kubelet refuses it
    /// on runtimes without user namespace support).
    @Test func podAskingForAUserNamespaceIsRefused() async throws {
        let h = try RuntimeHarness()
        let pod = try h.pod("""
            apiVersion: v1
            kind: Pod
            metadata: {name: userns}
            spec:
              hostUsers: false
              containers: [{name: c, image: busybox, command: ["true"]}]
            """)
        do {
            _ = try await h.run(pod)
            Issue.record("a pod with hostUsers: false ran without a user namespace")
        } catch {
            #expect("\(error)".hasPrefix("pod \"userns\": hostUsers: false (a user namespace for the pod) is not supported"), "\(error)")
        }
        #expect(h.leftovers().isEmpty, "\(h.leftovers())")
    }

    /// The cgroup v2 path for real on this hybrid host's controller-less cgroup2 tree: the
    /// child joins its group, enters a cgroup namespace rooted there, and mounts cgroup2 at
    /// /sys/fs/cgroup read-only (read-write when privileged). A v2 host's runtime does the
    /// same with controllers.
    @Test(.requires((try? Cgroups.hostInfo())?.unifiedPath != nil || (try? Cgroups.detect())?.mode == .v2,
                   "needs a cgroup2 tree"))
    func cgroupNamespaceAndCgroup2MountOnTheV2Path() async throws {
        let info = try Cgroups.hostInfo()
        let manager = CgroupV2Manager(root: try #require(info.unifiedPath))
        let root = try TestRoot()
        let rootfs = try root.busyboxRootfs()
        for applet in ["mkdir", "rmdir", "cut", "wc"] {
            try FileManager.default.createSymbolicLink(atPath: rootfs + "/bin/" + applet, withDestinationPath: "busybox")
        }
        let top = "swiftlet-test-" + String(UInt64.random(in: 1...UInt64.max), radix: 36)
        defer {
            try? manager.killAll(top)
            try? manager.destroy(top)
        }
        for privileged in [false, true] {
            let group = "\(top)/c\(privileged ? "-priv" : "")"
            try manager.create(group, resources: CgroupResources())
            var process = ProcessSpec(argv: ["sh", "-c", """
                cat /proc/self/cgroup
                echo procs=$(cat /sys/fs/cgroup/cgroup.procs | tr '\\n' ' ')
                grep ' /sys/fs/cgroup ' /proc/mounts | cut -d' ' -f1,3,4 | cut -d, -f1
                mkdir /sys/fs/cgroup/child 2>/dev/null && rmdir /sys/fs/cgroup/child && echo writable || echo read-only
                """], env: ["PATH=/bin"])
            process.rlimits = ContainerDefaults.rlimits()
            var spec = SpawnSpec(rootfs: rootfs, process: process)
            spec.cloneFlags |= SL_CLONE_NEWUTS | SL_CLONE_NEWIPC | SL_CLONE_NEWNET
            spec.mounts = ContainerDefaults.mounts(privileged: privileged)
                + ContainerDefaults.cgroupMounts(try manager.containerView(for: group), privileged: privileged)
            spec.cgroupProcs = manager.procsFiles(for: group)
            spec.cgroupNamespace = true
            let (status, output) = try await runToCompletion(spec, in: root)
            #expect(status == ExitStatus(code: 0, signal: nil), "\(output)")
            // The namespace's root is the group; its members are the shell (pid 1 of its PID
            // namespace) and its commands, nothing of the host's.
            #expect(output.contains("\n0::/\n"), "\(output)")
            let procs = output.split(separator: "\n").first { $0.hasPrefix("procs=") }?.dropFirst(6).split(separator: " ") ?? []
            #expect(procs.contains("1") && procs.allSatisfy { (Int($0) ?? 99) < 10 }, "\(output)")
            #expect(output.contains("cgroup cgroup2 \(privileged ? "rw" : "ro")\n"), "\(output)")
            #expect(output.hasSuffix(privileged ? "writable\n" : "read-only\n"), "\(output)")
        }
        try manager.destroy(top)
        #expect(!manager.exists(top))
    }
}
