import Glibc

/// Where forwarded queries go and how hard we try (CoreDNS `forward . /etc/resolv.conf`).
public struct UpstreamConfig: Sendable {
    /// The resolv.conf to read `nameserver` lines from (the host's by default).
    public var resolvConf: String
    /// Explicit upstreams instead of the file (tests, or a `--cluster-dns-upstream` flag).
    public var servers: [SocketAddress]?
    /// Leave out loopback nameservers. A local stub such as systemd-resolved's 127.0.0.53 is
    /// reachable from the agent, but pods sending us queries must never be answered through a
    /// path that may lead back to us; kubelet solves this by reading systemd-resolved's own
    /// list, and so do we (`fallbackResolvConf`) when every nameserver was loopback.
    public var skipLoopback: Bool
    /// Read when `resolvConf` held only loopback nameservers (kubelet's choice on
    /// systemd-resolved hosts: /run/systemd/resolve/resolv.conf).
    public var fallbackResolvConf: String
    /// How long one attempt waits for an answer, in milliseconds.
    public var attemptTimeoutMs: Int
    /// Attempts per query across the upstreams, in turn; then SERVFAIL.
    public var maxAttempts: Int
    /// Queries waiting for upstreams at once; more are REFUSED (CoreDNS forward `max_concurrent`).
    public var maxInFlight: Int

    public init(resolvConf: String = "/etc/resolv.conf", servers: [SocketAddress]? = nil, skipLoopback: Bool = true,
                fallbackResolvConf: String = "/run/systemd/resolve/resolv.conf", attemptTimeoutMs: Int = 1500,
                maxAttempts: Int = 3, maxInFlight: Int = 1000) {
        self.resolvConf = resolvConf
        self.servers = servers
        self.skipLoopback = skipLoopback
        self.fallbackResolvConf = fallbackResolvConf
        self.attemptTimeoutMs = attemptTimeoutMs
        self.maxAttempts = maxAttempts
        self.maxInFlight = maxInFlight
    }

    /// The upstreams to use, without `exclude` (our own listening addresses: forwarding to
    /// ourselves would loop, what CoreDNS's `loop` plugin guards against).
    public func resolve(excluding exclude: [SocketAddress] = []) throws -> [SocketAddress] {
        var list: [SocketAddress]
        if let servers {
            list = servers
        } else {
            list = try Self.nameservers(in: resolvConf)
            if skipLoopback {
                let all = list
                list = all.filter { !$0.isLoopback }
                if list.isEmpty && !all.isEmpty, let fallback = try? Self.nameservers(in: fallbackResolvConf) {
                    list = fallback.filter { !$0.isLoopback }
                }
            }
        }
        return list.filter { candidate in
            !exclude.contains { $0.port == candidate.port && ($0.address == candidate.address || $0.isUnspecified) }
        }
    }

    /// The `nameserver` addresses of a resolv.conf, port 53 (glibc reads at most 3; so do we).
    public static func nameservers(in path: String) throws -> [SocketAddress] {
        guard let file = fopen(path, "re") else { throw DNSServerError.system("read \(path)") }
        defer { fclose(file) }
        var text = ""
        var buffer = [CChar](repeating: 0, count: 4096)
        while fgets(&buffer, Int32(buffer.count), file) != nil {
            text += String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
        return parse(text)
    }

    /// Parses resolv.conf text: `nameserver ADDR` lines; comments start with # or ;.
    /// Addresses that are not IP literals (or carry an IPv6 zone) are skipped.
    public static func parse(_ text: String) -> [SocketAddress] {
        var result: [SocketAddress] = []
        for line in text.split(whereSeparator: { $0 == "\n" || $0 == "\r" }) {
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard words.count >= 2, words[0] == "nameserver", !words[0].hasPrefix("#") else { continue }
            guard let address = try? SocketAddress(host: String(words[1]), port: 53) else { continue }
            if !result.contains(address) { result.append(address) }
            if result.count == 3 { break }
        }
        return result
    }
}
