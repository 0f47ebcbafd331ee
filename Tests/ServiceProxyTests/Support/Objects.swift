import KubeAPI

/// Services and EndpointSlices as the API server would hand them to the agent.
enum Objects {
    static func service(_ name: String, namespace: String = "default", clusterIP: String?, ports: [ServicePort],
                        type: String? = nil, affinityTimeout: Int32? = nil, sessionAffinity: String? = nil,
                        externalTrafficPolicy: String? = nil, internalTrafficPolicy: String? = nil) -> Service {
        var spec = ServiceSpec(type: type, selector: ["app": name], ports: ports, clusterIP: clusterIP,
                               clusterIPs: clusterIP.map { [$0] }, externalTrafficPolicy: externalTrafficPolicy,
                               internalTrafficPolicy: internalTrafficPolicy)
        if let affinityTimeout {
            spec.sessionAffinity = "ClientIP"
            spec.sessionAffinityConfig = SessionAffinityConfig(clientIP: ClientIPConfig(timeoutSeconds: affinityTimeout))
        } else if let sessionAffinity {
            spec.sessionAffinity = sessionAffinity
        }
        return Service(metadata: ObjectMeta(name: name, namespace: namespace, uid: "uid-\(name)"), spec: spec)
    }

    static func port(_ port: Int32, name: String? = nil, protocol: String? = "TCP", nodePort: Int32? = nil,
                     targetPort: Int32 = 8080) -> ServicePort {
        ServicePort(name: name, protocol: `protocol`, port: port, targetPort: .int(targetPort), nodePort: nodePort)
    }

    static func slice(_ name: String, service: String, namespace: String = "default", ports: [EndpointPort],
                      endpoints: [Endpoint], addressType: String = "IPv4") -> EndpointSlice {
        EndpointSlice(metadata: ObjectMeta(name: name, namespace: namespace,
                                           labels: [EndpointSlice.serviceNameLabel: service,
                                                    EndpointSlice.managedByLabel: "endpointslice-controller.k8s.io"]),
                      addressType: addressType, endpoints: endpoints, ports: ports)
    }

    static func slicePort(_ port: Int32 = 8080, name: String? = "", protocol: String? = "TCP") -> EndpointPort {
        EndpointPort(name: name, protocol: `protocol`, port: port)
    }

    static func endpoint(_ address: String, node: String?, ready: Bool = true, serving: Bool? = nil,
                         terminating: Bool? = nil) -> Endpoint {
        Endpoint(addresses: [address],
                 conditions: EndpointConditions(ready: ready, serving: serving ?? ready, terminating: terminating ?? false),
                 nodeName: node)
    }

    static func endpoint(_ pod: ProxyLab.Pod, ready: Bool = true, serving: Bool? = nil, terminating: Bool? = nil) -> Endpoint {
        endpoint(pod.ip, node: pod.nodeName, ready: ready, serving: serving, terminating: terminating)
    }
}
