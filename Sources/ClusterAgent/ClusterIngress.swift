import Agent
import Foundation
import IngressProxy
import KubeAPI
import KubeClient
import Logging
import Synchronization

/// What the node's ingress proxy serves, kept from the cluster (the part of k3s' Traefik that
/// reads Kubernetes): Ingresses and IngressClasses from two list+watches of its own, Services and
/// EndpointSlices from the node's watches (a `ServiceConsumer` of `ClusterServices`), and the TLS
/// Secrets the served Ingresses name, read one by one (the node authorizer lets a node read a
/// Secret an Ingress names, not list Secrets) when first named and every `secretRefresh` after,
/// as kubelet's TTL cache refreshes the Secrets of its pods; one not found is looked for again
/// every `missingSecretRetry`, so a Secret created after its Ingress is served soon.
///
/// Every change marks the table stale; one loop rebuilds it (a pure function of the objects) and
/// swaps it into the proxy, so a burst of changes costs one build and in-flight requests keep the
/// backend they chose. What the build reports wrong with an Ingress (a missing Service, a broken
/// certificate, a conflicting path) goes out once as a Warning Event on that Ingress.
final class ClusterIngress: ServiceConsumer, Sendable {
    let client: APIClient
    /// The proxy, once it listens; tables built before go to it when it is attached.
    private let proxy = Mutex<IngressProxyServer?>(nil)
    let events: PodEventRecorder
    let logger: Logger
    let secretRefresh: Duration
    let missingSecretRetry: Duration

    private struct State {
        var ingresses: [String: Ingress] = [:]
        var classes: [String: IngressClass] = [:]
        var services: [String: Service] = [:]
        var slices: [String: EndpointSlice] = [:]
        /// Secrets read, by "namespace/name"; a name absent here was not found (or not read yet).
        var secrets: [String: IngressTLSSecret] = [:]
        /// Secrets read at least once (found or not), so a rebuild reads only new names.
        var secretsRead: Set<String> = []
        var ingressesListed = false
        var classesListed = false
        var servicesListed = false
        var synced: Bool { ingressesListed && classesListed && servicesListed }
        /// Problems already sent as Events; one that goes away and comes back is sent again.
        var reported: Set<IngressProblem> = []
        var table: IngressRouteTable?
    }

    private let state = Mutex(State())
    private let stale: AsyncStream<Void>
    private let markStale: AsyncStream<Void>.Continuation

    init(client: APIClient, events: PodEventRecorder, logger: Logger,
         secretRefresh: Duration = .seconds(60), missingSecretRetry: Duration = .seconds(5)) {
        self.client = client
        self.events = events
        self.logger = logger
        self.secretRefresh = secretRefresh
        self.missingSecretRetry = missingSecretRetry
        (stale, markStale) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// Watches, reads Secrets and rebuilds until cancelled.
    func run() async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                await Reflector<Ingress>(client: self.client, path: "/apis/networking.k8s.io/v1/ingresses", logger: self.logger).run { event in
                    self.change(event, in: \.ingresses, listed: \.ingressesListed)
                }
            }
            group.addTask {
                await Reflector<IngressClass>(client: self.client, path: "/apis/networking.k8s.io/v1/ingressclasses",
                                              logger: self.logger).run { event in
                    self.change(event, in: \.classes, listed: \.classesListed)
                }
            }
            group.addTask {
                var lastFull = ContinuousClock.now
                while !Task.isCancelled {
                    try? await Task.sleep(for: self.missingSecretRetry)
                    let full = ContinuousClock.now - lastFull >= self.secretRefresh
                    if full { lastFull = .now }
                    await self.readSecrets(full ? .all : .missing)
                }
            }
            group.addTask {
                for await _ in self.stale {
                    await self.readSecrets(.new)
                    self.rebuild()
                }
            }
            await group.next()
            group.cancelAll()
            markStale.finish()
        }
    }

    /// Hands the current and every later table to `server`.
    func serve(with server: IngressProxyServer) {
        proxy.withLock { $0 = server }
        if let table = state.withLock({ $0.table }) { server.update(table) }
    }

    // MARK: ServiceConsumer

    func replace(services: [Service], slices: [EndpointSlice]) async {
        state.withLock { state in
            state.services = Dictionary(services.map { (ClusterServices.key($0.metadata), $0) }, uniquingKeysWith: { $1 })
            state.slices = Dictionary(slices.map { (ClusterServices.key($0.metadata), $0) }, uniquingKeysWith: { $1 })
            state.servicesListed = true
        }
        markStale.yield()
    }

    func update(_ service: Service) async { set(\.services, service.metadata, service) }
    func delete(_ service: Service) async { set(\.services, service.metadata, nil) }
    func update(_ slice: EndpointSlice) async { set(\.slices, slice.metadata, slice) }
    func delete(_ slice: EndpointSlice) async { set(\.slices, slice.metadata, nil) }

    private func set<Object>(_ objects: WritableKeyPath<State, [String: Object]>, _ meta: ObjectMeta, _ object: Object?) {
        state.withLock { $0[keyPath: objects][ClusterServices.key(meta)] = object }
        markStale.yield()
    }

    // MARK: Changes

    private func change<Object: ListedObject>(_ event: ReflectorEvent<Object>, in objects: WritableKeyPath<State, [String: Object]>,
                                              listed: WritableKeyPath<State, Bool>) {
        state.withLock { state in
            switch event {
            case .replaced(let list):
                state[keyPath: objects] = Dictionary(list.map { (ClusterServices.key($0.metadata), $0) }, uniquingKeysWith: { $1 })
                state[keyPath: listed] = true
            case .added(let object), .modified(let object):
                state[keyPath: objects][ClusterServices.key(object.metadata)] = object
            case .deleted(let object):
                state[keyPath: objects][ClusterServices.key(object.metadata)] = nil
            }
        }
        markStale.yield()
    }

    /// The "namespace/name" of every Secret a served Ingress names for TLS.
    private func namedSecrets(_ state: State) -> Set<String> {
        let classes = Set(state.classes.values.filter { $0.spec.controller == IngressClass.swiftletController }
            .compactMap(\.metadata.name))
        var names: Set<String> = []
        for ingress in state.ingresses.values where IngressRouteTable.isServed(ingress, classes: classes) {
            let namespace = ingress.metadata.namespace ?? "default"
            for tls in ingress.spec.tls ?? [] {
                if let name = tls.secretName, !name.isEmpty { names.insert(namespace + "/" + name) }
            }
        }
        return names
    }

    /// Which named Secrets a read takes.
    private enum SecretRead {
        /// Those never read: before a rebuild.
        case new
        /// Those not found when last read, and new ones.
        case missing
        /// Every one (the periodic refresh).
        case all
    }

    /// Reads the named Secrets `which` asks for, and forgets those no Ingress names any more;
    /// outside a rebuild, marks the table stale when one changed.
    private func readSecrets(_ which: SecretRead) async {
        let (wanted, toRead) = state.withLock { state -> (Set<String>, [String]) in
            let wanted = namedSecrets(state)
            switch which {
            case .new: return (wanted, Array(wanted.subtracting(state.secretsRead)))
            case .missing: return (wanted, Array(wanted.filter { state.secrets[$0] == nil }))
            case .all: return (wanted, Array(wanted))
            }
        }
        var changed = false
        for key in toRead.sorted() {
            let parts = key.split(separator: "/", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { continue }
            let secret: IngressTLSSecret?
            do {
                secret = try await fetchSecret(namespace: parts[0], name: parts[1])
            } catch let error as APIClientError where error.code == 404 {
                secret = nil
            } catch {
                // Unreachable server or refused: keep what was read before, try again later.
                logger.warning("could not read an Ingress TLS Secret", metadata: ["secret": "\(key)", "error": "\(error)"])
                continue
            }
            changed = state.withLock { state in
                state.secretsRead.insert(key)
                guard state.secrets[key] != secret else { return false }
                state.secrets[key] = secret
                return true
            } || changed
        }
        state.withLock { state in
            for key in state.secretsRead.subtracting(wanted) {
                state.secretsRead.remove(key)
                state.secrets[key] = nil
            }
        }
        if changed && which != .new { markStale.yield() }
    }

    /// A Secret's `tls.crt` and `tls.key`; a Secret without them is passed on empty, so the
    /// build reports it as invalid rather than missing.
    private func fetchSecret(namespace: String, name: String) async throws -> IngressTLSSecret {
        struct Body: Decodable { var data: [String: Data]? }
        let body = try await client.get("/api/v1/namespaces/\(namespace)/secrets/\(name)", as: Body.self)
        return IngressTLSSecret(certificatePEM: Array(body.data?["tls.crt"] ?? Data()), keyPEM: Array(body.data?["tls.key"] ?? Data()))
    }

    /// Builds the table from what is known and hands it to the proxy; sends new problems.
    private func rebuild() {
        guard let (inputs, previous) = state.withLock({ state -> (IngressRouteInputs, IngressRouteTable?)? in
            guard state.synced else { return nil }
            return (IngressRouteInputs(ingresses: Array(state.ingresses.values), ingressClasses: Array(state.classes.values),
                                       services: Array(state.services.values), endpointSlices: Array(state.slices.values),
                                       tlsSecrets: state.secrets), state.table)
        }) else { return }
        let (table, problems) = IngressRouteTable.build(inputs, reusing: previous)
        proxy.withLock { $0 }?.update(table)
        let current = Set(problems)
        let fresh = state.withLock { state -> [(IngressProblem, uid: String)] in
            state.table = table
            let fresh = problems.filter { !state.reported.contains($0) }
            state.reported = current
            return fresh.map { ($0, state.ingresses["\($0.namespace)/\($0.name)"]?.metadata.uid ?? "") }
        }
        for (problem, uid) in fresh {
            events.record(.ingress(namespace: problem.namespace, name: problem.name, uid: uid, type: "Warning",
                                   reason: problem.reason, message: problem.message))
        }
    }
}
