import ClusterDNS
import KubeAPI

/// The cluster DNS records follow the node's Service and EndpointSlice watches.
extension ClusterRecordStore: ServiceConsumer {
    func replace(services: [Service], slices: [EndpointSlice]) async {
        replace(services: services, endpointSlices: slices)
    }

    func update(_ service: Service) async {
        apply(service)
    }

    func delete(_ service: Service) async {
        deleteService(namespace: service.metadata.namespace ?? "default", name: service.metadata.name ?? "")
    }

    func update(_ slice: EndpointSlice) async {
        apply(slice)
    }

    func delete(_ slice: EndpointSlice) async {
        deleteEndpointSlice(namespace: slice.metadata.namespace ?? "default", name: slice.metadata.name ?? "")
    }
}
