import NodeNetwork

/// A validated EndpointSlice: the ports it resolves and its IPv4 endpoints.
struct SliceInfo: Hashable, Sendable {
    struct Port: Hashable, Sendable {
        let name: String
        let proto: L4Protocol
        let port: UInt16
    }

    struct Endpoint: Hashable, Sendable {
        let address: IPv4Address
        let ready: Bool
        let serving: Bool
        let terminating: Bool
        let nodeName: String?
    }

    let service: ServiceName
    let ports: [Port]
    let endpoints: [Endpoint]
}
