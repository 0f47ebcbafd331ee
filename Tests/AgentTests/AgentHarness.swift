import Runtime
import TestSupport
import Agent
import Cgroups
import Foundation
import Glibc
import Images
import KubeAPI

/// A real `swiftlet agent` process with its own directories, cgroup parent and manifest
/// directory, and the means to kill it, restart it, and clean up after it whatever happens.
final class AgentHarness {
    let root: TestRoot
    let manifests: String
    let data: String
    let run: String
    let logs: String
    let cgroupParent: String
    let nodeName = "testnode"
    /// The agent's "node": a network namespace of its own, so the bridge, veths, routes and
    /// nftables rules it makes never touch the host's network.
    let netns: String
    private(set) var pid: Int32 = -1
    /// 0 disables healthz (kubelet's meaning), which keeps parallel tests from colliding.
    var healthzPort: UInt16 = 0
    /// More agent flags (image settings, say).
    var extraArguments: [String] = []
    /// The registry file (none by default: the host's /etc/swiftlet/registries.yaml must not leak in).
    var registryConfig: String?

    static var binDirectory: String { Fixtures.binDirectory }

    init(_ name: String = #function) async throws {
        root = try TestRoot(name)
        manifests = root.path + "/manifests"
        data = root.path + "/data"
        run = root.path + "/run"
        logs = root.path + "/logs"
        cgroupParent = "swiftlet-test-\(UUID().uuidString.prefix(8).lowercased())"
        netns = "swl-agent-\(UUID().uuidString.prefix(8).lowercased())"
        try Self.command(["/usr/sbin/ip", "netns", "add", netns])
        // A real host's loopback is up; a fresh namespace's is not.
        try Self.command(["/usr/bin/nsenter", "--net=/run/netns/\(netns)", "/usr/sbin/ip", "link", "set", "lo", "up"])
        try FileManager.default.createDirectory(atPath: manifests, withIntermediateDirectories: true)
        let images = try ImageStore(root: data + "/images")
        let fixtures = try await Fixtures.builtDirectory()
        _ = try images.importImage(from: fixtures + "/busybox")
        guard FileManager.default.isExecutableFile(atPath: Self.binDirectory + "/swiftlet"),
              FileManager.default.isExecutableFile(atPath: Self.binDirectory + "/swiftlet-monitor") else {
            throw FixtureError(message: "swiftlet and swiftlet-monitor must be built next to the test runner in \(Self.binDirectory): run `swift build` first")
        }
    }

    deinit { cleanUp() }

    var options: [String] {
        ["--data-dir", data, "--run-dir", run, "--cgroup-parent", cgroupParent]
    }

    /// Starts the agent with short back-off and file check settings.
    func start() throws {
        let arguments = ["agent"] + options + [
            "--pod-manifests", manifests, "--log-dir", logs, "--node-name", nodeName,
            "--file-check-frequency", "1", "--restart-backoff-initial", "1", "--restart-backoff-max", "4",
            "--healthz-port", String(healthzPort), "--monitor-path", Self.binDirectory + "/swiftlet-monitor",
            "--registry-config", registryConfig ?? root.path + "/no-registries.yaml",
        ] + extraArguments
        // nsenter (not `ip netns exec`, which also makes a mount namespace): the agent's bind
        // mounts must live in the host's mount namespace to outlive it.
        pid = try TestProcess.spawn(TestProcess.inNetns(netns, [Self.binDirectory + "/swiftlet"] + arguments),
                                    log: root.path + "/agent.log")
    }

    /// SIGKILL, as a crash or an OOM kill of the agent would.
    func kill9() {
        guard pid > 0 else { return }
        kill(pid, SIGKILL)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        pid = -1
    }

    func stop() {
        guard pid > 0 else { return }
        kill(pid, SIGTERM)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        pid = -1
    }

    func writeManifest(_ name: String, _ yaml: String) throws {
        // Write then rename, as configuration tools do, so the agent never reads half a file.
        let temporary = manifests + "/." + name + ".tmp"
        try yaml.write(toFile: temporary, atomically: false, encoding: .utf8)
        guard rename(temporary, manifests + "/" + name) == 0 else { throw FixtureError(message: "rename manifest") }
    }

    func removeManifest(_ name: String) throws {
        try FileManager.default.removeItem(atPath: manifests + "/" + name)
    }

    var agentLog: String { (try? String(contentsOfFile: root.path + "/agent.log", encoding: .utf8)) ?? "" }

    func entry(_ podName: String) -> StatusStore.Entry? {
        StatusStore(directory: data + "/pod-status").entries().first { $0.pod.metadata.name == podName + "-" + nodeName }
    }

    func container(_ podName: String, _ container: String) -> ContainerStatus? {
        let status = entry(podName)?.status
        return ((status?.containerStatuses ?? []) + (status?.initContainerStatuses ?? [])).first { $0.name == container }
    }

    /// A port nobody listens on right now.
    static func freePort() -> UInt16 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var sin = sockaddr_in()
        sin.sin_family = sa_family_t(AF_INET)
        sin.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &sin) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 ? getsockname(fd, $0, &length) : -1 }
        }
        return UInt16(bigEndian: sin.sin_port)
    }

    /// Polls every 100 ms until `condition` holds; false on timeout.
    func waitFor(_ timeout: Double, _ condition: () -> Bool) async -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if condition() { return true }
            try? await Task.sleep(for: .milliseconds(100))
        }
        return condition()
    }

    /// The container pid recorded for the current start of a container.
    func containerPid(_ podName: String, _ container: String) -> Int32? {
        guard let uid = entry(podName)?.pod.metadata.uid else { return nil }
        let base = data + "/pods/\(uid)/containers/\(container)"
        let attempts = ((try? FileManager.default.contentsOfDirectory(atPath: base)) ?? []).compactMap(Int.init).sorted()
        guard let last = attempts.last,
              let data = FileManager.default.contents(atPath: base + "/\(last)/state.json"),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return nil }
        return (object["containerPid"] as? NSNumber)?.int32Value
    }

    /// Everything of ours that is left: pod and log directories, namespace mounts, cgroups,
    /// monitor processes.
    func leftovers() -> [String] {
        var found: [String] = []
        let fm = FileManager.default
        for dir in [data + "/pods", run + "/pods", data + "/pod-status"] {
            for entry in (try? fm.contentsOfDirectory(atPath: dir)) ?? [] { found.append("\(dir)/\(entry)") }
        }
        for entry in (try? fm.contentsOfDirectory(atPath: logs)) ?? [] { found.append("log dir \(entry)") }
        let mounts = ProcFile.read("/proc/self/mountinfo") ?? ""
        for line in mounts.split(separator: "\n") where line.contains(root.path) { found.append("mount: \(line)") }
        for hierarchy in ["memory", "pids", "cpu", "freezer", ""] {
            let dir = "/sys/fs/cgroup/\(hierarchy)/\(cgroupParent)"
            for entry in (try? fm.contentsOfDirectory(atPath: dir)) ?? [] where entry.hasPrefix("pod") {
                found.append("cgroup \(dir)/\(entry)")
            }
        }
        for proc in (try? fm.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard let number = Int32(proc), number != pid,
                  let cmdline = fm.contents(atPath: "/proc/\(proc)/cmdline") else { continue }
            if String(decoding: cmdline, as: UTF8.self).contains(root.path) { found.append("process \(proc)") }
        }
        return found
    }

    /// Forced cleanup for failed tests: kill the agent, every monitor and container recorded in
    /// our state, everything in our cgroups, then the directories (TestRoot unmounts).
    func cleanUp() {
        kill9()
        PodProcesses.killAll(dataDirectory: data, cgroupParent: cgroupParent)
        _ = try? Self.command(["/usr/sbin/ip", "netns", "del", netns])
        root.cleanUp()
    }

    /// Runs a command to completion; throws with its output when it fails.
    @discardableResult
    static func command(_ argv: [String]) throws -> String {
        try TestProcess.run(argv)
    }

    /// Runs a command inside the agent's node namespace.
    @discardableResult
    func inNode(_ argv: [String]) throws -> String {
        try Self.command(["/usr/bin/nsenter", "--net=/run/netns/\(netns)"] + argv)
    }
}
