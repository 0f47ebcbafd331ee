import Foundation
import KubeAPI
import KubeClient
import Logging
import Runtime
import Synchronization

/// What consumes the cluster's Services and EndpointSlices on a node: the cluster DNS records
/// and the service proxy. Calls arrive in order; `replace` comes first (once both kinds have
/// been listed, or when the consumer is attached after that) and again after every relist.
protocol ServiceConsumer: Sendable {
    func replace(services: [Service], slices: [EndpointSlice]) async
    func update(_ service: Service) async
    func delete(_ service: Service) async
    func update(_ slice: EndpointSlice) async
    func delete(_ slice: EndpointSlice) async
}

/// The node's view of the cluster's Services and EndpointSlices (two list+watches, kube-proxy's
/// and CoreDNS's informers in one): Service variables for containers, and every change passed on
/// to the consumers.
final class ClusterServices: ServiceLister, Sendable {
    let client: APIClient
    let logger: Logger
    private struct State {
        var services: [String: Service] = [:]
        var slices: [String: EndpointSlice] = [:]
        var servicesListed = false
        var slicesListed = false
        var synced: Bool { servicesListed && slicesListed }
        var consumers: [any ServiceConsumer] = []
        var full: Delivery { .replace(Array(services.values), Array(slices.values), to: consumers) }
    }

    /// A change for the consumers, queued in the order the state changed.
    private enum Delivery: Sendable {
        case replace([Service], [EndpointSlice], to: [any ServiceConsumer])
        case service(ReflectorEvent<Service>)
        case slice(ReflectorEvent<EndpointSlice>)
    }

    private let state = Mutex(State())
    private let deliveries: AsyncStream<Delivery>
    private let queue: AsyncStream<Delivery>.Continuation

    init(client: APIClient, logger: Logger) {
        self.client = client
        self.logger = logger
        (deliveries, queue) = AsyncStream.makeStream(of: Delivery.self)
    }

    static func key(_ meta: ObjectMeta) -> String { "\(meta.namespace ?? "")/\(meta.name ?? "")" }

    /// The Services as last seen (`ServiceLister`, for containers' Service variables).
    func services() -> [Service] {
        state.withLock { Array($0.services.values) }
    }

    /// The cluster IP of a Service, once it is known.
    func clusterIP(namespace: String, name: String) -> String? {
        state.withLock { $0.services["\(namespace)/\(name)"]?.spec.clusterIP }
    }

    /// Adds a consumer: it hears everything from the current full state on.
    func attach(_ consumer: any ServiceConsumer) {
        state.withLock { state in
            state.consumers.append(consumer)
            if state.synced {
                queue.yield(.replace(Array(state.services.values), Array(state.slices.values), to: [consumer]))
            }
        }
    }

    /// Whether both kinds have been listed.
    var isSynced: Bool { state.withLock { $0.synced } }

    /// Waits until both kinds have been listed, at most `timeout`; whether they were.
    func waitForSync(timeout: Duration) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while !isSynced, ContinuousClock.now < deadline, !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(100))
        }
        return isSynced
    }

    /// Lists and watches both kinds until cancelled, and passes every change on, one at a time.
    func run() async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                await Reflector<Service>(client: self.client, path: "/api/v1/services", logger: self.logger).run { event in
                    self.record(event, in: \.services, listed: \.servicesListed, as: Delivery.service)
                }
            }
            group.addTask {
                await Reflector<EndpointSlice>(client: self.client, path: "/apis/discovery.k8s.io/v1/endpointslices",
                                               logger: self.logger).run { event in
                    self.record(event, in: \.slices, listed: \.slicesListed, as: Delivery.slice)
                }
            }
            group.addTask {
                for await delivery in self.deliveries {
                    await self.deliver(delivery)
                }
            }
            await group.next()
            group.cancelAll()
            queue.finish()
        }
    }

    /// Applies an event to the cache and queues what the consumers must hear: nothing until
    /// both kinds are listed, a full `replace` on each list after that, else the event.
    private func record<Object: ListedObject>(_ event: ReflectorEvent<Object>, in objects: WritableKeyPath<State, [String: Object]>,
                                              listed: WritableKeyPath<State, Bool>, as wrap: (ReflectorEvent<Object>) -> Delivery) {
        state.withLock { state in
            switch event {
            case .replaced(let list):
                state[keyPath: objects] = Dictionary(list.map { (Self.key($0.metadata), $0) }, uniquingKeysWith: { $1 })
                state[keyPath: listed] = true
                if state.synced { queue.yield(state.full) }
            case .added(let object), .modified(let object):
                state[keyPath: objects][Self.key(object.metadata)] = object
                if state.synced { queue.yield(wrap(event)) }
            case .deleted(let object):
                state[keyPath: objects][Self.key(object.metadata)] = nil
                if state.synced { queue.yield(wrap(event)) }
            }
        }
    }

    private func deliver(_ delivery: Delivery) async {
        if case .replace(let services, let slices, let consumers) = delivery {
            for consumer in consumers { await consumer.replace(services: services, slices: slices) }
            return
        }
        for consumer in state.withLock({ $0.consumers }) {
            switch delivery {
            case .replace: break
            case .service(.added(let service)), .service(.modified(let service)): await consumer.update(service)
            case .service(.deleted(let service)): await consumer.delete(service)
            case .slice(.added(let slice)), .slice(.modified(let slice)): await consumer.update(slice)
            case .slice(.deleted(let slice)): await consumer.delete(slice)
            case .service(.replaced), .slice(.replaced): break
            }
        }
    }
}
