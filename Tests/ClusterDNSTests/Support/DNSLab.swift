import CShims
import ClusterDNS
import Foundation
import Glibc
import TestSupport

/// A throw-away world for one root test: a "node" network namespace `swdns-<id>` with the
/// given addresses on lo (never the host's network), optionally a "pod" namespace wired to it
/// by a veth, processes started in them, DNS servers, and a scratch directory. Everything is
/// removed at the end, also when the test fails.
final class DNSLab {
    let id = String(UInt32.random(in: 0..<0xffff_ffff), radix: 16)
    let node: String
    let root: String
    private(set) var pod: String?
    private var pids: [pid_t] = []
    private var servers: [DNSServer] = []

    init(addresses: [String]) throws {
        node = "swdns-\(id)"
        root = "/tmp/swiftlet-dns-test-\(id)"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        try check(["ip", "netns", "add", node])
        try check(["ip", "-n", node, "link", "set", "lo", "up"])
        for address in addresses { try check(["ip", "-n", node, "addr", "add", "\(address)/32", "dev", "lo"]) }
    }

    deinit {
        for server in servers { server.stop() }
        for pid in pids {
            Glibc.kill(pid, SIGKILL)
            var status: Int32 = 0
            waitpid(pid, &status, 0)
        }
        if let pod {
            _ = Self.run(["ip", "-n", node, "link", "del", "dv\(id.prefix(8))"])
            _ = Self.run(["ip", "netns", "del", pod])
        }
        _ = Self.run(["ip", "netns", "del", node])
        try? FileManager.default.removeItem(atPath: root)
    }

    var nodePath: String { "/run/netns/\(node)" }

    /// A pod namespace with `podAddress`/24 on eth0, wired to the node where `nodeAddress`/24 sits.
    func addPod(podAddress: String, nodeAddress: String) throws {
        let name = "swdnsp-\(id)"
        try check(["ip", "netns", "add", name])
        pod = name
        let hostEnd = "dv\(id.prefix(8))"
        try check(["ip", "-n", node, "link", "add", hostEnd, "type", "veth", "peer", "name", "eth0", "netns", name])
        try check(["ip", "-n", node, "addr", "add", "\(nodeAddress)/24", "dev", hostEnd])
        try check(["ip", "-n", node, "link", "set", hostEnd, "up"])
        try check(["ip", "-n", name, "addr", "add", "\(podAddress)/24", "dev", "eth0"])
        try check(["ip", "-n", name, "link", "set", "eth0", "up"])
        try check(["ip", "-n", name, "link", "set", "lo", "up"])
    }

    /// Starts a DNS server in the node namespace; stopped with the lab.
    func server(_ store: ClusterRecordStore, listen: String = "10.53.0.1", upstreams: [String]? = nil,
                tcp: DNSServerConfig.TCPLimits = .init(), attemptTimeoutMs: Int = 500) throws -> DNSServer {
        let upstream = UpstreamConfig(servers: try upstreams.map { try $0.map { try SocketAddress(host: $0, port: 53) } } ?? [],
                                      attemptTimeoutMs: attemptTimeoutMs, maxAttempts: 2)
        let config = DNSServerConfig(listen: [try SocketAddress(host: listen, port: 53)], networkNamespace: nodePath,
                                     tcp: tcp, upstream: upstream)
        let server = DNSServer(config: config, records: store)
        try server.start()
        servers.append(server)
        return server
    }

    /// Runs a command in the node namespace (or the pod's): status and output.
    @discardableResult
    func run(_ argv: [String], inPod: Bool = false) -> (status: Int32, output: String) {
        let namespace = inPod ? (pod ?? node) : node
        return Self.run(["nsenter", "--net=/run/netns/\(namespace)"] + argv)
    }

    /// `dig @server` in the node namespace, with `+short` unless told otherwise.
    func dig(_ arguments: [String], server: String = "10.53.0.1", short: Bool = true) -> String {
        // +time=5: longer than the forwarder gives its upstreams, and than a loaded machine delays a reply.
        run(["dig", "@\(server)", "+time=5", "+tries=1"] + (short ? ["+short"] : []) + arguments).output
    }

    /// Starts a long-running process in the node namespace; killed with the lab.
    func spawn(_ argv: [String], log: String) throws -> pid_t {
        let pid = try Self.start(["/usr/bin/nsenter", "--net=\(nodePath)"] + argv, output: log)
        pids.append(pid)
        return pid
    }

    func kill(_ pid: pid_t) {
        Glibc.kill(pid, SIGKILL)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        pids.removeAll { $0 == pid }
    }

    /// dnsmasq serving `records` (dnsmasq.conf lines) on `address`, answers cacheable for 300 s.
    func dnsmasq(address: String, _ lines: [String]) throws -> pid_t {
        let conf = "\(root)/dnsmasq-\(address).conf"
        let text = (["no-resolv", "no-hosts", "bind-interfaces", "listen-address=\(address)", "port=53", "local-ttl=300",
                     "keep-in-foreground", "pid-file=\(root)/dnsmasq-\(address).pid"] + lines).joined(separator: "\n") + "\n"
        try text.write(toFile: conf, atomically: true, encoding: .utf8)
        let pid = try spawn(["/usr/sbin/dnsmasq", "--conf-file=\(conf)"], log: "\(root)/dnsmasq-\(address).log")
        _ = waitUntil { self.run(["dig", "@\(address)", "+time=1", "+tries=1", "+short", "version.bind", "chaos", "txt"]).status == 0 }
        return pid
    }

    func waitUntil(_ seconds: Double = 30, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if condition() { return true }
            usleep(100_000)
        }
        return condition()
    }

    private func check(_ argv: [String]) throws {
        let result = Self.run(argv)
        guard result.status == 0 else { throw HarnessError(description: "\(argv.joined(separator: " ")): \(result.output)") }
    }

    /// Runs a command to its end (posix_spawn and waitpid: Foundation's Process lost track of
    /// children here once a Process object of a daemon was gone). Output goes through a file,
    /// not a pipe: a daemon started meanwhile could inherit a pipe's write end and hold it open.
    static func run(_ argv: [String]) -> (status: Int32, output: String) {
        let path = "/tmp/swiftlet-dns-run-\(UInt64.random(in: 0...UInt64.max))"
        defer { unlink(path) }
        guard let pid = try? start(["/usr/bin/env"] + argv, output: path) else { return (-1, "cannot start \(argv)") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let output = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        let exited = status & 0x7f == 0
        return (exited ? (status >> 8) & 0xff : -1, output)
    }

    /// posix_spawn with stdin from /dev/null and stdout+stderr to `output`.
    static func start(_ argv: [String], output: String) throws -> pid_t {
        unlink(output)
        return try TestChild.launch(argv, stdout: .file(output)).pid
    }

    /// A socket in the node namespace (for raw UDP/TCP clients).
    func socket(tcp: Bool) throws -> Int32 {
        let fd = open(nodePath, O_RDONLY | O_CLOEXEC)
        defer { close(fd) }
        let s = sl_socket_in_netns(fd, AF_INET, tcp ? Int32(SOCK_STREAM.rawValue) : Int32(SOCK_DGRAM.rawValue), 0)
        guard s >= 0 else { throw HarnessError(description: "socket in \(node): \(String(cString: strerror(errno)))") }
        var tv = timeval(tv_sec: 3, tv_usec: 0)
        setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        return s
    }

    static func connect(_ fd: Int32, _ host: String, _ port: UInt16 = 53) -> Bool {
        var sin = sockaddr_in()
        sin.sin_family = sa_family_t(AF_INET)
        sin.sin_port = port.bigEndian
        inet_pton(AF_INET, host, &sin.sin_addr)
        return withUnsafePointer(to: &sin) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        } == 0
    }

    /// Sends `bytes` on a connected socket and waits for one reply datagram (nil on timeout).
    static func exchange(_ fd: Int32, _ bytes: [UInt8]) -> [UInt8]? {
        _ = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
        var buffer = [UInt8](repeating: 0, count: 65535)
        let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        return n > 0 ? Array(buffer[0..<n]) : nil
    }
}
