import KubeAPI

/// Services and EndpointSlices as the server stores them.
enum Fixtures {
    static func service(_ name: String, namespace: String = "default", clusterIP: String? = "10.43.0.20",
                        ports: [ServicePort] = [ServicePort(name: "http", protocol: "TCP", port: 80)],
                        type: String? = nil, externalName: String? = nil, publishNotReady: Bool? = nil,
                        clusterIPs: [String]? = nil) -> Service {
        Service(metadata: ObjectMeta(name: name, namespace: namespace),
                spec: ServiceSpec(type: type, ports: ports, clusterIP: clusterIP,
                                  clusterIPs: clusterIPs ?? clusterIP.flatMap { $0 == "None" ? nil : [$0] },
                                  externalName: externalName, publishNotReadyAddresses: publishNotReady))
    }

    static func slice(_ name: String, service: String, namespace: String = "default", addressType: String = "IPv4",
                      endpoints: [Endpoint], ports: [EndpointPort] = [EndpointPort(name: "http", protocol: "TCP", port: 8080)])
        -> EndpointSlice {
        EndpointSlice(metadata: ObjectMeta(name: name, namespace: namespace,
                                           labels: [EndpointSlice.serviceNameLabel: service]),
                      addressType: addressType, endpoints: endpoints, ports: ports)
    }

    static func endpoint(_ address: String, hostname: String? = nil, ready: Bool? = true) -> Endpoint {
        Endpoint(addresses: [address], conditions: EndpointConditions(ready: ready), hostname: hostname)
    }
}
