import Foundation
import KubeAPI
import Logging
import Synchronization

/// Learns the cluster's API servers from the `default/kubernetes` Endpoints, which every API
/// server keeps listing its address in (port `https`), and hands them to a `ServerPool`.
/// k3s' agent does the same (pkg/agent/tunnel/tunnel.go `watchEndpoints`: a watch with
/// `fieldSelector=metadata.name=kubernetes`, each change applied after a 1 s quiet period,
/// because "when joining the cluster, the apiserver adds, removes, and then re-adds itself to
/// the endpoint list several times"). Nodes may read Endpoints (the Node authorizer lets
/// them get, list and watch everything outside its graph).
public struct APIServerEndpoints: Sendable {
    public let client: APIClient
    public let pool: ServerPool
    /// How long the Endpoints must stay unchanged before the pool hears of them.
    public let debounce: Duration
    let logger: Logger

    static let path = "/api/v1/namespaces/default/endpoints?fieldSelector=metadata.name%3Dkubernetes"

    public init(client: APIClient, pool: ServerPool, debounce: Duration = .seconds(1),
                logger: Logger = Logger(label: "swiftlet.agent.api-servers")) {
        self.client = client
        self.pool = pool
        self.debounce = debounce
        self.logger = logger
    }

    /// Watches until cancelled.
    public func run() async {
        let latest = LatestAddresses()
        let (signals, signal) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                await Reflector<KubernetesEndpoints>(client: client, path: Self.path, logger: logger).run { event in
                    let endpoints: KubernetesEndpoints?
                    switch event {
                    case .replaced(let all): endpoints = all.first { $0.metadata.name == "kubernetes" }
                    case .added(let one), .modified(let one): endpoints = one.metadata.name == "kubernetes" ? one : nil
                    case .deleted: endpoints = nil
                    }
                    guard let endpoints else { return }  // deleted or absent: keep what the pool has
                    latest.set(endpoints.serverAddresses)
                    signal.yield()
                }
            }
            group.addTask {
                for await _ in signals {
                    // Apply once nothing changed for `debounce`.
                    var seen = latest.value
                    while true {
                        do { try await Task.sleep(for: debounce) } catch { return }
                        let now = latest.value
                        if now.changes == seen.changes { break }
                        seen = now
                    }
                    await pool.update(servers: seen.addresses)
                }
            }
            await group.next()
            group.cancelAll()
        }
        signal.finish()
    }
}

/// The addresses the Endpoints listed last, and how many changes there were.
private final class LatestAddresses: Sendable {
    private let state = Mutex<(addresses: [String], changes: Int)>(([], 0))

    var value: (addresses: [String], changes: Int) { state.withLock { $0 } }

    func set(_ addresses: [String]) {
        state.withLock { $0 = (addresses, $0.changes + 1) }
    }
}

/// The fields of a `v1.Endpoints` that name API servers.
struct KubernetesEndpoints: ListedObject {
    struct Subset: Decodable, Sendable {
        struct Address: Decodable, Sendable { var ip: String? }
        struct Port: Decodable, Sendable {
            var name: String?
            var port: Int?
        }
        var addresses: [Address]?
        var ports: [Port]?
    }

    var metadata: ObjectMeta
    var subsets: [Subset]?

    /// `https://ip:port` of every ready address, with the subset's port named `https` (or its
    /// only port), as k3s' `util.GetAddresses` reads them; not-ready addresses are left out.
    var serverAddresses: [String] {
        var servers: [String] = []
        for subset in subsets ?? [] {
            let ports = subset.ports ?? []
            guard let port = (ports.first { $0.name == "https" } ?? (ports.count == 1 ? ports.first : nil))?.port else { continue }
            for address in subset.addresses ?? [] {
                // Any address the pool would refuse is passed on for it to log.
                guard let ip = address.ip else { continue }
                servers.append(ServerAddress.url(host: ip, port: port) ?? "https://\(ip):\(port)")
            }
        }
        return servers
    }
}
