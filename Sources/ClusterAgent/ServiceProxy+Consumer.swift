import KubeAPI
import ServiceProxy

/// The service proxy follows the node's Service and EndpointSlice watches (kube-proxy's
/// informer handlers feeding its change trackers).
extension ServiceProxy: ServiceConsumer {
    func replace(services: [Service], slices: [EndpointSlice]) async {
        replaceAll(services: services, slices: slices)
    }

    func update(_ service: Service) async {
        update(service: service)
    }

    func delete(_ service: Service) async {
        delete(service: ServiceName(namespace: service.metadata.namespace ?? "default", name: service.metadata.name ?? ""))
    }

    func update(_ slice: EndpointSlice) async {
        update(slice: slice)
    }

    func delete(_ slice: EndpointSlice) async {
        delete(slice: SliceName(namespace: slice.metadata.namespace ?? "default", name: slice.metadata.name ?? ""))
    }
}
