import KubeAPI

/// What the runtime asks for the Services a container's environment describes: the node's
/// view of the cluster's Services (the agent's informer cache), or none without a server.
public protocol ServiceLister: Sendable {
    func services() -> [Service]
}

/// Docker-link-style variables for Services (`WEB_SERVICE_HOST=10.43.0.20`,
/// `WEB_PORT_80_TCP_ADDR=...`), as kubelet gives every container: the Services of the pod's
/// namespace when `enableServiceLinks` (default true), and always the `kubernetes` Service of
/// the `default` namespace (pkg/kubelet/kubelet_pods.go `getServiceEnvVarMap`,
/// pkg/kubelet/envvars `FromServices`).
public enum ServiceEnvironment {
    /// The variables in a stable order (services by name, then kubelet's order per service).
    public static func variables(for pod: Pod, services: [Service]) -> [ServiceVariable] {
        let namespace = pod.metadata.namespace ?? "default"
        let links = pod.spec.enableServiceLinks ?? true
        var chosen: [String: Service] = [:]
        for service in services {
            guard let name = service.metadata.name, hasClusterIP(service) else { continue }
            let serviceNamespace = service.metadata.namespace ?? "default"
            if serviceNamespace == "default", name == "kubernetes" {
                // The API server's Service: every pod gets it, unless its own namespace has one
                // of that name to link.
                if chosen[name] == nil { chosen[name] = service }
            } else if serviceNamespace == namespace, links {
                chosen[name] = service
            }
        }
        return chosen.sorted { $0.key < $1.key }.flatMap { variables(of: $0.value) }
    }

    /// `IsServiceIPSet`: a ClusterIP that is neither empty nor "None".
    static func hasClusterIP(_ service: Service) -> Bool {
        guard let ip = service.spec.clusterIP else { return false }
        return !ip.isEmpty && ip != "None"
    }

    /// `FromServices` for one service.
    static func variables(of service: Service) -> [ServiceVariable] {
        let prefix = variableName(service.metadata.name ?? "")
        let ip = service.spec.clusterIP ?? ""
        let ports = service.spec.ports ?? []
        var result = [ServiceVariable(prefix + "_SERVICE_HOST", ip)]
        guard let first = ports.first else { return result }
        result.append(ServiceVariable(prefix + "_SERVICE_PORT", String(first.port)))
        for port in ports {
            if let name = port.name, !name.isEmpty {
                result.append(ServiceVariable(prefix + "_SERVICE_PORT_" + variableName(name), String(port.port)))
            }
        }
        // Docker links: <SVC>_PORT for the first port, <SVC>_PORT_<port>_<PROTO>_{PROTO,PORT,ADDR}.
        for (index, port) in ports.enumerated() {
            let proto = port.protocol ?? "TCP"
            let url = "\(proto.lowercased())://\(ip):\(port.port)"
            if index == 0 { result.append(ServiceVariable(prefix + "_PORT", url)) }
            let linkPrefix = "\(prefix)_PORT_\(port.port)_\(proto.uppercased())"
            result.append(ServiceVariable(linkPrefix, url))
            result.append(ServiceVariable(linkPrefix + "_PROTO", proto.lowercased()))
            result.append(ServiceVariable(linkPrefix + "_PORT", String(port.port)))
            result.append(ServiceVariable(linkPrefix + "_ADDR", ip))
        }
        return result
    }

    /// `makeEnvVariableName`: upper case, dashes as underscores.
    static func variableName(_ text: String) -> String {
        String(text.uppercased().map { $0 == "-" ? "_" : $0 })
    }
}

/// One environment variable describing a Service.
public struct ServiceVariable: Sendable, Equatable {
    public var name: String
    public var value: String

    public init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }
}
