import Cgroups
import Foundation
import Glibc
import Images
import TestSupport

/// A cluster on one machine: every host a network namespace of its own, joined by a bridge in
/// a "lan" namespace (192.168.77.0/24, the lan at .1), running real `swiftlet server` and
/// `swiftlet agent` processes; real kubectl runs inside the server's host. Everything it made —
/// processes (by PID), the pods' processes and cgroups, namespaces, mounts, files — goes in
/// `cleanUp`, which runs even when the test fails.
final class ClusterHarness: @unchecked Sendable {
    /// One machine of the cluster.
    final class Host: @unchecked Sendable {
        let name: String
        let netns: String
        let ip: String
        /// The host's directory: data, run, logs and manifests of its swiftlet.
        let path: String
        let cgroupParent: String
        fileprivate(set) var pid: pid_t = -1
        /// Other processes of the machine (an etcd member), ended with it.
        var otherPids: [pid_t] = []

        init(name: String, netns: String, ip: String, path: String, cgroupParent: String) {
            self.name = name
            self.netns = netns
            self.ip = ip
            self.path = path
            self.cgroupParent = cgroupParent
        }

        var log: String { (try? String(contentsOfFile: path + "/swiftlet.log", encoding: .utf8)) ?? "" }
        var dataDir: String { path + "/data" }
    }

    let root: TestRoot
    let id: String
    let lan: String
    private(set) var hosts: [Host] = []
    private(set) var server: Host?

    static var binDirectory: String { Fixtures.binDirectory }
    var kubeconfig: String { root.path + "/kubeconfig.yaml" }

    init(_ name: String = #function) throws {
        root = try TestRoot(name)
        id = String(UUID().uuidString.prefix(6)).lowercased()
        lan = "swl-lan-\(id)"
        try TestProcess.run(["/usr/sbin/ip", "netns", "add", lan])
        try inLan(["/usr/sbin/ip", "link", "add", "lan0", "type", "bridge"])
        try inLan(["/usr/sbin/ip", "addr", "add", "192.168.77.1/24", "dev", "lan0"])
        try inLan(["/usr/sbin/ip", "link", "set", "lan0", "up"])
        try inLan(["/usr/sbin/ip", "link", "set", "lo", "up"])
        for binary in ["swiftlet", "swiftlet-monitor"] where !FileManager.default.isExecutableFile(atPath: Self.binDirectory + "/" + binary) {
            throw FixtureError(message: "\(binary) must be built next to the test runner in \(Self.binDirectory): run `swift build` first")
        }
    }

    deinit { cleanUp() }

    private func inLan(_ argv: [String]) throws {
        try TestProcess.run(TestProcess.inNetns(lan, argv))
    }

    /// A new machine on the lan, at 192.168.77.(10 + its index), with the busybox test image
    /// imported into its image store.
    @discardableResult
    func addHost(_ name: String, importImage: Bool = true) async throws -> Host {
        let index = hosts.count
        let host = Host(name: name, netns: "swl-\(id)-\(name)", ip: "192.168.77.\(10 + index)",
                        path: root.path + "/" + name, cgroupParent: "swiftlet-test-\(id)-\(name)")
        hosts.append(host)
        try FileManager.default.createDirectory(atPath: host.path + "/manifests", withIntermediateDirectories: true)
        try TestProcess.run(["/usr/sbin/ip", "netns", "add", host.netns])
        let peer = "h\(index)-\(id)"
        // The machine's NIC is created in the lan and moved into the host as eth0.
        try inLan(["/usr/sbin/ip", "link", "add", peer, "type", "veth", "peer", "name", "eth0", "netns", host.netns])
        try inLan(["/usr/sbin/ip", "link", "set", peer, "master", "lan0", "up"])
        let ip = { (args: [String]) throws in try TestProcess.run(TestProcess.inNetns(host.netns, ["/usr/sbin/ip"] + args)) }
        try ip(["link", "set", "lo", "up"])
        try ip(["addr", "add", "\(host.ip)/24", "dev", "eth0"])
        try ip(["link", "set", "eth0", "up"])
        try ip(["route", "add", "default", "via", "192.168.77.1"])
        if importImage {
            let images = try ImageStore(root: host.dataDir + "/agent/images")
            _ = try images.importImage(from: try await Fixtures.builtDirectory() + "/busybox")
        }
        return host
    }

    /// Arguments every swiftlet on `host` gets for its own directories and cgroups.
    func runtimeArguments(_ host: Host) -> [String] {
        // Container logs under the host's directory too: the default, /var/log/pods, is this machine's.
        ["--run-dir", host.path + "/run", "--log-dir", host.path + "/logs", "--cgroup-parent", host.cgroupParent,
         "--monitor-path", Self.binDirectory + "/swiftlet-monitor"]
    }

    /// Starts `swiftlet ARGUMENTS` on `host`.
    func start(_ host: Host, _ arguments: [String], environment: [String: String] = [:]) throws {
        host.pid = try TestProcess.spawn(TestProcess.inNetns(host.netns, [Self.binDirectory + "/swiftlet"] + arguments),
                                         log: host.path + "/swiftlet.log", environment: environment)
    }

    /// Starts `swiftlet server` on `host` and waits for its kubeconfig and join token; kubectl
    /// runs on the last server started.
    func startServer(_ host: Host, _ extra: [String] = []) async throws {
        server = host
        try start(host, ["server", "--data-dir", host.dataDir, "--https-listen", "0.0.0.0:6443",
                         "--write-kubeconfig", kubeconfig] + extra)
        let ready = await TestProcess.waitFor(60) {
            FileManager.default.fileExists(atPath: kubeconfig) && (try? joinToken()) != nil && !TestProcess.hasExited(host.pid)
        }
        guard ready else { throw FixtureError(message: "swiftlet server on \(host.name) did not start:\n\(host.log)") }
    }

    /// The server's join token (K10...).
    func joinToken() throws -> String {
        guard let server else { throw FixtureError(message: "no server started") }
        return try String(contentsOfFile: server.dataDir + "/server/token", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    var serverURL: String { "https://\(server?.ip ?? "?"):6443" }

    /// `swiftlet agent` joining the server as node `host.name` with its data under the host,
    /// `extra` flags before the runtime's.
    func agentArguments(_ host: Host, _ extra: [String] = []) throws -> [String] {
        ["agent", "--server", serverURL, "--token", try joinToken(), "--node-name", host.name]
            + extra + ["--data-dir", host.dataDir + "/agent"] + runtimeArguments(host)
    }

    /// A server that runs no pods itself (`--disable-agent`) and one agent on the host `node`
    /// joined to it: pods run on another machine than the API server, as on a real cluster.
    func startServerAndAgent(node name: String = "node-a") async throws -> (server: Host, node: Host) {
        let server = try await addHost("server")
        let node = try await addHost(name)
        try await startServer(server, ["--disable-agent"])
        try startAgent(node)
        return (server, node)
    }

    /// Starts an agent on `host` joining the server (`agentArguments`).
    func startAgent(_ host: Host, _ extra: [String] = []) throws {
        try start(host, try agentArguments(host, extra))
    }

    /// Real kubectl, run inside the server's host with the admin kubeconfig (on a thread of its
    /// own: see `TestProcess.runAsync`).
    func kubectl(_ arguments: [String], binary: String = "/usr/bin/kubectl") async throws -> (status: Int32, output: String) {
        guard let server else { throw FixtureError(message: "no server started") }
        return await TestProcess.runAsync(TestProcess.inNetns(server.netns, [binary, "--kubeconfig", kubeconfig] + arguments))
    }

    /// Real kubectl in the server's host with stdout and stderr apart and optional stdin.
    func kubectlCapturing(_ arguments: [String], input: String? = nil, binary: String = "/usr/bin/kubectl")
        async -> (status: Int32, stdout: String, stderr: String) {
        guard let server else { return (-1, "", "no server started") }
        return await TestProcess.runCapturing(TestProcess.inNetns(server.netns, [binary, "--kubeconfig", kubeconfig] + arguments),
                                              input: input.map { Array($0.utf8) })
    }

    /// kubectl output, failing the test with kubectl's message when it fails.
    @discardableResult
    func kubectlOK(_ arguments: [String]) async throws -> String {
        let (status, output) = try await kubectl(arguments)
        guard status == 0 else { throw FixtureError(message: "kubectl \(arguments.joined(separator: " ")): exit \(status): \(output)") }
        return output
    }

    /// A JSONPath (or other -o) query of kubectl, trimmed.
    func query(_ arguments: [String]) async -> String {
        ((try? await kubectl(arguments))?.output ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// An HTTP GET from outside the cluster (the lan's router, 192.168.77.1): the body, trimmed,
    /// or nil when the request failed.
    func fromOutside(_ url: String) async -> String? {
        let (status, output) = await TestProcess.runAsync(TestProcess.inNetns(lan, ["/usr/bin/curl", "-sf", "--max-time", "5", url]))
        return status == 0 ? output.trimmingCharacters(in: .whitespacesAndNewlines) : nil
    }

    /// curl from outside the cluster with `arguments` (headers, --resolve, --cacert, ...): its
    /// exit status and output (the body, or what `-w` asks for), trimmed.
    func curlFromOutside(_ arguments: [String]) async -> (status: Int32, output: String) {
        let (status, output) = await TestProcess.runAsync(TestProcess.inNetns(lan, ["/usr/bin/curl", "-s", "--max-time", "5"] + arguments))
        return (status, output.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// Where `writeManifest` puts a file kubectl can read.
    func manifestPath(_ name: String) -> String { root.path + "/" + name }

    /// Writes a manifest for `kubectl apply -f`.
    func writeManifest(_ name: String, _ text: String) throws {
        try text.write(toFile: manifestPath(name), atomically: true, encoding: .utf8)
    }

    /// Stops the swiftlet process of `host` (SIGTERM, as systemd does; pods keep running).
    func stop(_ host: Host) async {
        await TestProcess.stopAsync(host.pid)
        host.pid = -1
    }

    /// The machine dies: its swiftlet and every pod process are killed at once and its network
    /// namespace disappears, as when a machine loses power.
    func killMachine(_ host: Host) async {
        await TestProcess.stopAsync(host.pid, signal: SIGKILL)
        host.pid = -1
        for pid in host.otherPids { await TestProcess.stopAsync(pid, signal: SIGKILL) }
        host.otherPids = []
        killPods(host)
        _ = try? TestProcess.run(["/usr/sbin/ip", "netns", "del", host.netns])
    }

    private func killPods(_ host: Host) {
        PodProcesses.killAll(dataDirectory: host.dataDir + "/agent", cgroupParent: host.cgroupParent)
    }

    func cleanUp() {
        for host in hosts {
            TestProcess.stop(host.pid, signal: SIGKILL)
            host.pid = -1
            for pid in host.otherPids { TestProcess.stop(pid, signal: SIGKILL) }
            host.otherPids = []
            killPods(host)
            _ = try? TestProcess.run(["/usr/sbin/ip", "netns", "del", host.netns])
        }
        hosts = []
        _ = try? TestProcess.run(["/usr/sbin/ip", "netns", "del", lan])
        root.cleanUp()
    }
}
