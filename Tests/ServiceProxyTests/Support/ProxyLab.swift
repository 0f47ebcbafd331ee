import Foundation
import TestSupport
import Glibc
import NodeNetwork
@testable import ServiceProxy

/// A throw-away cluster network for one root test, all in network namespaces the lab makes
/// (`ip netns add swsp-<id>-<role>`), never the host's own: a "lan" namespace whose bridge
/// joins the nodes and an outside host (192.168.77.0/24); each node a namespace with the real
/// NodeNetwork bridge, its `ip swiftlet` table and host-gw routes to the other nodes; each pod
/// a namespace plumbed by BridgeNetwork, running a small Python server that answers with its
/// own name and the client address it sees. Everything goes away in `deinit`, also when the
/// test fails: servers (by PID), pod veths, namespaces, the state directory.
final class ProxyLab: @unchecked Sendable {
    let id = String(UInt32.random(in: 0..<0xffff_ffff), radix: 16)
    let root: String
    private var namespaces: [(name: String, fd: Int32)] = []
    private var processes: [pid_t] = []
    private var nodeNetworks: [BridgeNetwork] = []
    private var wires = 0

    static let serviceCIDR = IPv4Subnet("10.96.0.0/16")!
    static let clusterCIDR = IPv4Subnet("10.42.0.0/16")!

    struct Host {
        let name: String
        let fd: Int32
        /// Its address on the lan.
        let address: String
        var netPath: String { "/run/netns/\(name)" }
    }

    struct Node {
        let host: Host
        let name: String
        let podCIDR: String
        let network: BridgeNetwork
    }

    struct Pod {
        let name: String
        let uid: String
        let namespace: String
        let ip: String
        let nodeName: String
        var netPath: String { "/run/netns/\(namespace)" }
    }

    init() throws {
        root = "/tmp/swiftlet-proxy-test-\(id)"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        try Self.serverScript.write(toFile: "\(root)/server.py", atomically: true, encoding: .utf8)
        try Self.udpClientScript.write(toFile: "\(root)/udp-client.py", atomically: true, encoding: .utf8)
        try Self.loopClientScript.write(toFile: "\(root)/loop-client.py", atomically: true, encoding: .utf8)
        let lan = try namespace("lan")
        try check("ip -n \(lan.name) link add lan0 type bridge && ip -n \(lan.name) link set lan0 up")
    }

    deinit {
        // SIGKILL: children of the test runner may inherit a signal mask that blocks SIGTERM.
        for pid in processes {
            kill(pid, SIGKILL)
            var status: Int32 = 0
            waitpid(pid, &status, 0)
        }
        for network in nodeNetworks {
            for uid in (try? network.allocations().keys.map { $0 }) ?? [] { try? network.tearDown(podUID: uid) }
        }
        nodeNetworks = []
        for ns in namespaces.reversed() {
            close(ns.fd)
            _ = Self.run("ip netns del \(ns.name)")
        }
        try? FileManager.default.removeItem(atPath: root)
    }

    // MARK: Hosts

    /// A namespace `swsp-<id>-<role>` with lo up.
    func namespace(_ role: String) throws -> (name: String, fd: Int32) {
        let name = "swsp-\(id)-\(role)"
        try check("ip netns add \(name) && ip -n \(name) link set lo up")
        let fd = open("/run/netns/\(name)", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw ServiceProxyError.system(step: "open /run/netns/\(name)", errno: errno) }
        namespaces.append((name, fd))
        return (name, fd)
    }

    /// A host on the lan (a veth into the lan bridge) with `address` (/24).
    func host(_ role: String, address: String) throws -> Host {
        let ns = try namespace(role)
        wires += 1
        let inside = "eth-lan", outside = "l\(id.prefix(6))\(wires)"
        try check("""
            ip link add \(outside) netns swsp-\(id)-lan type veth peer name \(inside) netns \(ns.name) && \
            ip -n swsp-\(id)-lan link set \(outside) master lan0 up && \
            ip -n \(ns.name) addr add \(address)/24 dev \(inside) && ip -n \(ns.name) link set \(inside) up
            """)
        return Host(name: ns.name, fd: ns.fd, address: address)
    }

    /// A node: a lan host with the NodeNetwork bridge for `podCIDR` and a default route (to a
    /// router that does not exist: nodes have one, and a ClusterIP is routed by it before the
    /// proxy's output hook rewrites it).
    func node(_ name: String, address: String, podCIDR: String) throws -> Node {
        let host = try host(name, address: address)
        try check("ip -n \(host.name) route add default via 192.168.77.254")
        let network = try BridgeNetwork(config: NodeNetworkConfig(podCIDR: podCIDR, clusterCIDR: "\(Self.clusterCIDR)",
                                                                  stateDirectory: "\(root)/state-\(name)", nodeNetns: host.fd))
        try network.ensureNode()
        nodeNetworks.append(network)
        return Node(host: host, name: name, podCIDR: podCIDR, network: network)
    }

    /// Host-gw routes between the nodes' pod networks.
    func route(_ nodes: [Node]) throws {
        for node in nodes {
            try node.network.syncRoutes(nodes.filter { $0.name != node.name }.map {
                NodeRoute(podCIDR: $0.podCIDR, nodeIP: $0.host.address)
            })
        }
    }

    /// A pod on `node` serving TCP on `tcp` and UDP on `udp`, answering "<name> <client address>".
    func pod(_ name: String, on node: Node, tcp: [Int] = [8080], udp: [Int] = []) throws -> Pod {
        let ns = try namespace("pod-\(name)")
        let uid = "\(name)-\(id)"
        let status = try node.network.setUp(podUID: uid, netns: ns.fd, hostPorts: [])
        guard let ip = status.ips.first else { throw ServiceProxyError.invalidConfiguration("pod \(name) got no address") }
        let pod = Pod(name: name, uid: uid, namespace: ns.name, ip: ip, nodeName: node.name)
        let ports = (tcp.map { "t\($0)" } + udp.map { "u\($0)" }).joined(separator: " ")
        try background("nsenter --net=\(pod.netPath) python3 \(root)/server.py \(name) \(ports)")
        for port in tcp {
            let ready = eventually("nsenter --net=\(pod.netPath) curl -s --max-time 2 http://127.0.0.1:\(port)/", seconds: 30)
            guard ready.status == 0 else { throw ServiceProxyError.invalidConfiguration("server \(name) did not start: \(ready.output)") }
        }
        return pod
    }

    /// Whether bridged traffic of `node` goes through netfilter's IP hooks (br_netfilter's
    /// `bridge-nf-call-iptables`, per namespace; this host's default is on).
    func bridgeNetfilter(_ node: Node, _ on: Bool) throws {
        try check("nsenter --net=\(node.host.netPath) sh -c 'echo \(on ? 1 : 0) > /proc/sys/net/bridge/bridge-nf-call-iptables'")
    }

    /// A proxy for `node` with the lab's ranges.
    func proxy(for node: Node, table: String = "swiftlet-proxy") throws -> ServiceProxy {
        try ServiceProxy(config: ServiceProxyConfig(nodeName: node.name, nodeAddresses: [IPv4Address(node.host.address)!],
                                                    clusterCIDR: Self.clusterCIDR, serviceCIDR: Self.serviceCIDR,
                                                    netns: node.host.fd, table: table))
    }

    // MARK: Traffic

    /// An HTTP GET from inside `netPath`: (curl's exit status, the body). Exit 7 is "connection
    /// refused", 28 a timeout.
    func get(from netPath: String, _ url: String, timeout: Int = 3) -> (status: Int32, output: String) {
        let result = sh("nsenter --net=\(netPath) curl -s --connect-timeout \(timeout) --max-time \(timeout + 1) \(url)")
        return (result.status, result.output.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// The names that answered `count` requests, e.g. ["a": 7, "b": 13]; failures count as "!<status>".
    func spread(from netPath: String, _ url: String, count: Int) -> [String: Int] {
        var seen: [String: Int] = [:]
        for _ in 0..<count {
            let answer = get(from: netPath, url)
            let who = answer.status == 0 ? String(answer.output.split(separator: " ").first ?? "") : "!\(answer.status)"
            seen[who, default: 0] += 1
        }
        return seen
    }

    /// One UDP datagram from `netPath`, sent from `sourcePort`: the answer, or "timeout".
    func udp(from netPath: String, to address: String, port: Int, sourcePort: Int) -> String {
        sh("nsenter --net=\(netPath) python3 \(root)/udp-client.py \(address) \(port) \(sourcePort)")
            .output.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Starts a client in `netPath` that sends `count` HTTP requests to `url`, one every
    /// `intervalMs` on a new connection, and writes "ok <n> failed <m> <first errors>" to the
    /// returned file when done.
    func loop(from netPath: String, _ url: String, count: Int, intervalMs: Int) throws -> String {
        let output = "\(root)/loop-\(UUID().uuidString.prefix(8)).txt"
        try background("nsenter --net=\(netPath) python3 \(root)/loop-client.py \(url) \(count) \(intervalMs) \(output)")
        return output
    }

    /// Requests a loop has made so far (its `.progress` file, rewritten after each one).
    func loopProgress(_ file: String) -> Int {
        Int(((try? String(contentsOfFile: file + ".progress", encoding: .utf8)) ?? "").trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
    }

    /// Waits for a loop's result file.
    func loopResult(_ file: String, seconds: Double = 60) -> String? {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if let text = try? String(contentsOfFile: file, encoding: .utf8), text.hasSuffix("\n") { return text }
            usleep(100_000)
        }
        return nil
    }

    // MARK: Shell

    @discardableResult
    static func run(_ command: String) -> (status: Int32, output: String) {
        let result = (try? TestProcess.runAllowingFailure(["/bin/sh", "-c", command])) ?? (-1, "cannot start /bin/sh")
        return (result.0, result.1)
    }

    @discardableResult
    func sh(_ command: String) -> (status: Int32, output: String) { Self.run(command) }

    func check(_ command: String) throws {
        let result = Self.run(command)
        guard result.status == 0 else {
            throw ServiceProxyError.invalidConfiguration("lab command failed: \(command)\n\(result.output)")
        }
    }

    func eventually(_ command: String, seconds: Double = 30) -> (status: Int32, output: String) {
        let deadline = Date().addingTimeInterval(seconds)
        var result = Self.run(command)
        while result.status != 0 && Date() < deadline {
            usleep(100_000)
            result = Self.run(command)
        }
        return result
    }

    /// Starts a long-running command, killed (by PID) when the lab goes away.
    func background(_ command: String) throws {
        processes.append(try TestChild.launch(["/bin/sh", "-c", "exec " + command]).pid)
    }

    /// `nft list table` of the proxy's main table and its shards in a node's namespace
    /// (`-a`: with rule handles).
    func listTable(_ node: Node, table: String = "swiftlet-proxy", handles: Bool = false) -> String {
        let tables = sh("nsenter --net=\(node.host.netPath) nft list tables ip").output.split(separator: "\n")
            .compactMap { $0.split(separator: " ").last.map(String.init) }
            .filter { $0 == table || ($0.hasPrefix(table + "-") && $0.dropFirst(table.count + 1).allSatisfy(\.isNumber)) }
        return tables.map { sh("nsenter --net=\(node.host.netPath) nft \(handles ? "-a " : "")list table ip \($0)").output }.joined()
    }

    /// `nft list chain ...` of one chain.
    func listChain(_ node: Node, _ chain: String, table: String = "swiftlet-proxy") -> String {
        sh("nsenter --net=\(node.host.netPath) nft list chain ip \(table) '\(chain)'").output
    }

    private static let serverScript = """
        import socket, sys, threading
        name = sys.argv[1]
        def tcp(port):
            s = socket.socket()
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("0.0.0.0", port))
            s.listen(128)
            while True:
                c, peer = s.accept()
                try:
                    c.settimeout(2)
                    c.recv(4096)
                    c.sendall(("HTTP/1.0 200 OK\\r\\nContent-Type: text/plain\\r\\n\\r\\n%s %s\\n" % (name, peer[0])).encode())
                except OSError:
                    pass
                finally:
                    c.close()
        def udp(port):
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.bind(("0.0.0.0", port))
            while True:
                data, peer = s.recvfrom(2048)
                s.sendto(("%s %s" % (name, peer[0])).encode(), peer)
        threads = []
        for spec in sys.argv[2:]:
            target = tcp if spec[0] == "t" else udp
            thread = threading.Thread(target=target, args=(int(spec[1:]),), daemon=True)
            thread.start()
            threads.append(thread)
        for thread in threads:
            thread.join()
        """

    private static let loopClientScript = """
        import os, socket, sys, time
        host_port = sys.argv[1].split("//")[1].rstrip("/")
        host, port = host_port.split(":") if ":" in host_port else (host_port, "80")
        count, interval, output = int(sys.argv[2]), int(sys.argv[3]) / 1000.0, sys.argv[4]
        ok, failed, errors = 0, 0, []
        for i in range(count):
            try:
                s = socket.create_connection((host, int(port)), timeout=2)
                s.settimeout(2)
                s.sendall(b"GET / HTTP/1.0\\r\\n\\r\\n")
                data = b""
                while True:
                    chunk = s.recv(4096)
                    if not chunk:
                        break
                    data += chunk
                s.close()
                if b"200 OK" in data:
                    ok += 1
                else:
                    failed += 1
                    errors.append("bad answer %r" % data[:40])
            except OSError as error:
                failed += 1
                errors.append("%d: %s" % (i, error))
            with open(output + ".progress.tmp", "w") as f:
                f.write("%d\\n" % (i + 1))
            os.rename(output + ".progress.tmp", output + ".progress")
            time.sleep(interval)
        with open(output + ".tmp", "w") as f:
            f.write("ok %d failed %d %s\\n" % (ok, failed, "; ".join(errors[:5])))
        os.rename(output + ".tmp", output)
        """

    private static let udpClientScript = """
        import socket, sys
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("0.0.0.0", int(sys.argv[3])))
        s.settimeout(2)
        # Connected, so an ICMP port unreachable comes back as ECONNREFUSED.
        s.connect((sys.argv[1], int(sys.argv[2])))
        s.send(b"hello")
        try:
            print(s.recv(2048).decode())
        except socket.timeout:
            print("timeout")
        except ConnectionRefusedError:
            print("refused")
        """
}
