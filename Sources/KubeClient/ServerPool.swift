import Foundation
import Logging

/// Asks a server whether it can serve: `APIClient` GETs `/readyz`; tests use fakes.
public protocol ServerProbe: Sendable {
    /// Whether `server` (`https://host:port`) answers ready within `timeout`.
    func isReady(_ server: String, timeout: Duration) async -> Bool
}

/// The API servers an agent may talk to and the one it talks to now: k3s' agent load
/// balancer (k3s-io/k3s pkg/agent/loadbalancer/servers.go, loadbalancer.go, config.go;
/// pkg/agent/tunnel/tunnel.go) without its TCP proxy: `APIClient` asks the pool for a server
/// at each request.
///
/// - Servers: those learned from the `default/kubernetes` Endpoints (`update(servers:)`), then
///   the server the node joined (`--server`, the default) when they do not include it. As in
///   k3s, the default is then a last resort: used while no learned server is healthy, and
///   left (its requests cancelled) as soon as one is. An empty list is ignored, keeping what
///   the pool has.
/// - Health: one task (`runHealthChecks`) GETs `/readyz` from every server each second with a
///   2 s timeout (k3s `runHealthChecks` checks every second). A server is healthy after one
///   good answer and unhealthy after one failed check.
/// - Moving on: a request that cannot connect or times out reports it (`reportFailure`), and
///   the pick moves to the next healthy server if that server is still the pick (k3s
///   `nextServer`: another request may have moved it already). A pick that turns unhealthy
///   moves the same way. The pick stays put while it is healthy, even when the list changes
///   (k3s re-shuffles and picks anew; that only moves agents between healthy servers).
/// - Cancelling: requests in flight on a server that turns unhealthy or leaves the list are
///   cancelled (k3s `closeAll`, "to force clients to switch over"): a dead machine sends no
///   RST, so an open watch on it would never end. Watches are then re-made by their
///   reflectors from their last resourceVersion against the new pick.
/// - Persistence: the learned list goes to `<credential dir>/servers` (`ServerListFile`).
public actor ServerPool {
    /// What the health checks last said of a server.
    public enum Health: Sendable, Equatable {
        case unknown, healthy, unhealthy
    }

    /// How often every server is checked, and how long a check may take.
    public static let checkInterval = Duration.seconds(1)
    public static let checkTimeout = Duration.seconds(2)

    /// The server the node joined, canonical (`https://host:port`).
    public nonisolated let defaultServer: String
    /// Where the learned list is kept; nil: nowhere (tests, the server's own agent).
    nonisolated let file: String?
    nonisolated let logger: Logger
    /// The requests in flight per server (cancelled when the pool gives a server up).
    nonisolated let requests = InFlightRequests()

    /// The servers learned from the Endpoints, in their order; empty until learned.
    public private(set) var learned: [String]
    /// The server requests go to now.
    public private(set) var current: String
    private var health: [String: Health] = [:]

    /// A pool starting from `server` (the node's `--server`) and, when `directory` (the node
    /// credential's) holds a list learned through that same server, its servers.
    public init(server: String, directory: String?, logger: Logger = Logger(label: "swiftlet.server-pool")) {
        let trimmed = server.hasSuffix("/") ? String(server.dropLast()) : server
        let defaultServer = ServerAddress.normalize(trimmed) ?? trimmed
        self.defaultServer = defaultServer
        self.logger = logger
        let file = directory.map { ServerListFile.path(directory: $0) }
        self.file = file
        let saved = file.map { ServerListFile.load(path: $0, server: defaultServer, logger: logger) } ?? []
        // The joined server first when it is one of them; else any learned one spreads the
        // agents over the servers, as k3s' shuffled list does.
        let first = saved.isEmpty || saved.contains(defaultServer) ? defaultServer : saved.randomElement() ?? defaultServer
        if !saved.isEmpty {
            logger.info("using the saved API server list", metadata: ["servers": "\(saved)", "current": "\(first)"])
        }
        learned = saved
        current = first
    }

    /// Every server requests may go to: the learned ones, then the default if not among them.
    public var servers: [String] {
        learned.contains(defaultServer) ? learned : learned + [defaultServer]
    }

    /// What the health checks last said of `server`.
    public func health(of server: String) -> Health {
        health[server] ?? .unknown
    }

    /// The server for the next request, and that server's epoch for `requests.register`.
    func pick() -> (server: String, epoch: Int) {
        (current, requests.epoch(of: current))
    }

    /// Whether `server` is among the servers the cluster lists (or the only one there is).
    private func isPreferred(_ server: String) -> Bool {
        learned.isEmpty ? server == defaultServer : learned.contains(server)
    }

    // MARK: - Learning servers

    /// The servers the `default/kubernetes` Endpoints list now (`https://ip:port`). An empty
    /// list is ignored (k3s `setServers`: a cluster without servers is a transient state, and
    /// the agent keeps what it knows); so are addresses that are not `https://host:port`.
    public func update(servers addresses: [String]) {
        var new: [String] = []
        for address in addresses {
            guard let canonical = ServerAddress.normalize(address) else {
                logger.warning("ignoring an API server address that is not https://HOST:PORT", metadata: ["address": "\(address.prefix(ServerAddress.maximumLength))"])
                continue
            }
            if !new.contains(canonical) { new.append(canonical) }
        }
        guard !new.isEmpty else {
            logger.info("the kubernetes endpoints list no API server; keeping the known ones", metadata: ["servers": "\(servers)"])
            return
        }
        if new.count > ServerListFile.maximumServers {
            logger.warning("the kubernetes endpoints list \(new.count) API servers; using the first \(ServerListFile.maximumServers)")
            new = Array(new.prefix(ServerListFile.maximumServers))
        }
        guard Set(new) != Set(learned) else { return }
        let old = servers
        learned = new
        logger.info("API servers changed", metadata: ["servers": "\(servers)", "before": "\(old)"])
        for removed in old where !servers.contains(removed) {
            health[removed] = nil
            // k3s closes a removed server's connections so that nothing stays on it.
            let cancelled = requests.abandon(removed)
            if cancelled > 0 {
                logger.info("cancelled the requests to a server no longer listed", metadata: ["server": "\(removed)", "requests": "\(cancelled)"])
            }
        }
        if !servers.contains(current) || health[current] == .unhealthy {
            moveOn(from: current, reason: "not listed any more")
        }
        save()
    }

    private func save() {
        guard let file else { return }
        do {
            try ServerListFile(server: defaultServer, servers: learned).save(path: file)
        } catch {
            logger.warning("cannot save the API server list; a restarted agent will start from its --server alone",
                           metadata: ["file": "\(file)", "error": "\(error)"])
        }
    }

    // MARK: - Failures and health

    /// A request to `server` could not connect, timed out, or was cancelled by the pool: move
    /// on if it is still the pick (k3s `nextServer`).
    func reportFailure(_ server: String, reason: String) {
        guard server == current, servers.count > 1 else { return }
        moveOn(from: server, reason: reason)
    }

    /// Makes the next usable server after `failed` the pick, in list order from `failed`:
    /// a healthy listed server, else a healthy one, else one not known to be unhealthy, else
    /// simply the next (the checks will tell).
    private func moveOn(from failed: String, reason: String) {
        let list = servers
        let start = (list.firstIndex(of: failed) ?? -1) + 1
        let others = (0..<list.count).map { list[(start + $0) % list.count] }.filter { $0 != failed }
        let next = others.first { health[$0] == .healthy && isPreferred($0) }
            ?? others.first { health[$0] == .healthy }
            ?? others.first { health[$0] != .unhealthy }
            ?? others.first
            ?? list.first
            ?? defaultServer
        guard next != current else { return }
        logger.warning("switching API server", metadata: ["from": "\(current)", "to": "\(next)", "reason": "\(reason)"])
        current = next
    }

    /// Checks every server each `interval` until cancelled. One round checks all servers at
    /// once and lasts as long as the slowest (at most `timeout`), so a server that does not
    /// answer is known within `interval + timeout`.
    public func runHealthChecks(probe: any ServerProbe, interval: Duration = ServerPool.checkInterval,
                                timeout: Duration = ServerPool.checkTimeout) async {
        while !Task.isCancelled {
            let started = ContinuousClock.now
            let targets = servers
            let results = await withTaskGroup(of: (String, Bool).self) { group in
                for server in targets {
                    group.addTask { (server, await probe.isReady(server, timeout: timeout)) }
                }
                var results: [String: Bool] = [:]
                for await (server, ready) in group { results[server] = ready }
                return results
            }
            if Task.isCancelled { return }
            record(results)
            do {
                try await Task.sleep(until: started + interval)
            } catch {
                return
            }
        }
    }

    /// Applies one round of checks.
    func record(_ results: [String: Bool]) {
        for (server, ready) in results where servers.contains(server) {
            let old = health[server] ?? .unknown
            let new: Health = ready ? .healthy : .unhealthy
            health[server] = new
            guard new != old else { continue }
            if new == .healthy {
                logger.info("API server is ready", metadata: ["server": "\(server)"])
                continue
            }
            // k3s closes a server's connections when it turns unhealthy, and only then: the
            // requests made while every server is down must be let run.
            let cancelled = requests.abandon(server)
            logger.warning("API server failed its health check", metadata: ["server": "\(server)", "cancelledRequests": "\(cancelled)"])
        }
        let healthy = servers.filter { health[$0] == .healthy }
        guard !healthy.isEmpty else { return }
        if health[current] == .unhealthy {
            moveOn(from: current, reason: "failed its health check")
        } else if !isPreferred(current), healthy.contains(where: { isPreferred($0) }) {
            // k3s: the default server, when the cluster does not list it, keeps no clients once
            // a listed server is healthy.
            let left = current
            moveOn(from: current, reason: "the cluster lists other API servers")
            requests.abandon(left)
        }
        // Requests started on a server while every server was down are not left hanging on
        // it once another answers.
        for server in servers where health[server] == .unhealthy && requests.count(on: server) > 0 {
            let cancelled = requests.abandon(server)
            logger.info("cancelled the requests to an unhealthy server", metadata: ["server": "\(server)", "requests": "\(cancelled)"])
        }
    }
}
