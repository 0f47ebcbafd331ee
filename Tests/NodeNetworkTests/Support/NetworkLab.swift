import Foundation
import TestSupport
import Glibc
import NodeNetwork
import Runtime

/// A throw-away world for one root test: "nodes" and an "outside" host are network namespaces
/// made with `ip netns add swlt-<id>-<role>` (never the host's own network), pods are real
/// Runtime sandboxes. Everything is removed at the end, also when the test fails: processes,
/// sandboxes (bind mounts), namespaces, the state directory.
final class NetworkLab {
    let id = String(UInt32.random(in: 0..<0xffff_ffff), radix: 16)
    let root: String
    private var namespaces: [(name: String, fd: Int32)] = []
    private var sandboxes: [PodSandbox] = []
    private var processes: [pid_t] = []
    private var networks: [BridgeNetwork] = []

    /// A pod of the lab: its UID and sandbox; `netPath` is its namespace file for nsenter.
    struct Pod {
        let uid: String
        let sandbox: PodSandbox
        var netns: Int32 { sandbox.networkNamespace ?? -1 }
        var netPath: String { sandbox.directory + "/net" }
    }

    init() throws {
        root = "/tmp/swiftlet-net-test-\(id)"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    }

    deinit {
        // SIGKILL: children of the test runner inherit a signal mask that blocks SIGTERM.
        for pid in processes {
            kill(pid, SIGKILL)
            var status: Int32 = 0
            waitpid(pid, &status, 0)
        }
        // Pods' veths go away with the nodes, but a name reused at once could still hit the
        // kernel's asynchronous namespace cleanup (host-facts): delete them explicitly.
        for network in networks {
            for uid in (try? network.allocations().keys.map { $0 }) ?? [] { try? network.tearDown(podUID: uid) }
        }
        networks = []
        for sandbox in sandboxes { sandbox.destroy() }
        for ns in namespaces {
            close(ns.fd)
            _ = Self.run("ip netns del \(ns.name)")
        }
        try? FileManager.default.removeItem(atPath: root)
    }

    /// A new network namespace `swlt-<id>-<role>` with lo up; returns its name and an open fd.
    func namespace(_ role: String) throws -> (name: String, fd: Int32) {
        let name = "swlt-\(id)-\(role)"
        try check("ip netns add \(name) && ip -n \(name) link set lo up")
        let fd = open("/run/netns/\(name)", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw NetworkError.system(step: "open", detail: "/run/netns/\(name)", errno: errno) }
        namespaces.append((name, fd))
        return (name, fd)
    }

    /// A cable between two namespaces: a veth pair with an address on each end.
    func wire(_ a: String, _ aAddress: String, _ b: String, _ bAddress: String) throws {
        let aEnd = "w\(id.prefix(6))a\(namespaces.count)", bEnd = "w\(id.prefix(6))b\(namespaces.count)"
        try check("""
            ip link add \(aEnd) netns \(a) type veth peer name \(bEnd) netns \(b) && \
            ip -n \(a) addr add \(aAddress) dev \(aEnd) && ip -n \(a) link set \(aEnd) up && \
            ip -n \(b) addr add \(bAddress) dev \(bEnd) && ip -n \(b) link set \(bEnd) up
            """)
    }

    /// A BridgeNetwork for the node namespace `node`, with its own state directory.
    func network(node: (name: String, fd: Int32), podCIDR: String = "10.42.0.0/24", state: String? = nil) throws -> BridgeNetwork {
        let config = NodeNetworkConfig(podCIDR: podCIDR, stateDirectory: state ?? "\(root)/state-\(node.name)", nodeNetns: node.fd)
        let network = try BridgeNetwork(config: config)
        networks.append(network)
        return network
    }

    /// A pod sandbox (network, IPC, UTS namespaces, lo up) as the runtime makes it.
    func pod(_ name: String) throws -> Pod {
        let uid = "\(name)-\(id)-\(UUID().uuidString.prefix(8).lowercased())"
        let sandbox = try PodSandbox.create(directory: "\(root)/pods/\(uid)/ns", hostname: name)
        sandboxes.append(sandbox)
        return Pod(uid: uid, sandbox: sandbox)
    }

    /// Runs a shell command to the end; its status and stdout+stderr.
    @discardableResult
    static func run(_ command: String) -> (status: Int32, output: String) {
        let result = (try? TestProcess.runAllowingFailure(["/bin/sh", "-c", command])) ?? (-1, "cannot start /bin/sh")
        return (result.0, result.1)
    }

    @discardableResult
    func sh(_ command: String) -> (status: Int32, output: String) { Self.run(command) }

    /// Runs a command, throwing its output when it fails (lab set-up steps).
    func check(_ command: String) throws {
        let result = Self.run(command)
        guard result.status == 0 else { throw NetworkError.invalid("lab command failed: \(command)\n\(result.output)") }
    }

    /// Retries a command until it succeeds (a server still starting) or `seconds` pass.
    func eventually(_ command: String, seconds: Double = 30) -> (status: Int32, output: String) {
        let deadline = Date().addingTimeInterval(seconds)
        var result = Self.run(command)
        while result.status != 0 && Date() < deadline {
            usleep(200_000)
            result = Self.run(command)
        }
        return result
    }

    /// Starts a long-running command (a server), stopped when the lab goes away.
    func background(_ command: String) throws {
        processes.append(try TestChild.launch(["/bin/sh", "-c", "exec " + command]).pid)
    }
}
