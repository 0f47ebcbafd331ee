/// A Kubernetes `v1.Service`: a stable virtual address (ClusterIP) and ports in front of the pods
/// its selector matches. The agent's service proxy and cluster DNS read it; the server stores it
/// as JSON and validates it there. See https://github.com/kubernetes/api/blob/master/core/v1/types.go
public struct Service: Codable, Hashable, Sendable {
    public var apiVersion: String?
    public var kind: String?
    public var metadata: ObjectMeta
    public var spec: ServiceSpec
    public var status: ServiceStatus?

    public init(apiVersion: String? = "v1", kind: String? = "Service", metadata: ObjectMeta = ObjectMeta(),
                spec: ServiceSpec = ServiceSpec(), status: ServiceStatus? = nil) {
        self.apiVersion = apiVersion
        self.kind = kind
        self.metadata = metadata
        self.spec = spec
        self.status = status
    }

    private enum CodingKeys: String, CodingKey {
        case apiVersion, kind, metadata, spec, status
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        apiVersion = try container.decodeIfPresent(String.self, forKey: .apiVersion)
        kind = try container.decodeIfPresent(String.self, forKey: .kind)
        metadata = try container.decodeIfPresent(ObjectMeta.self, forKey: .metadata) ?? ObjectMeta()
        spec = try container.decodeIfPresent(ServiceSpec.self, forKey: .spec) ?? ServiceSpec()
        status = try container.decodeIfPresent(ServiceStatus.self, forKey: .status)
    }
}

/// `v1.ServiceSpec`. Every field is optional on the wire; the server fills in Kubernetes'
/// defaults (type ClusterIP, sessionAffinity None, traffic policies Cluster, ...).
public struct ServiceSpec: Codable, Hashable, Sendable {
    /// "ClusterIP", "NodePort", "LoadBalancer" or "ExternalName".
    public var type: String?
    public var selector: [String: String]?
    public var ports: [ServicePort]?
    /// "None" for a headless service.
    public var clusterIP: String?
    public var clusterIPs: [String]?
    public var externalName: String?
    public var externalIPs: [String]?
    /// "None" or "ClientIP".
    public var sessionAffinity: String?
    public var sessionAffinityConfig: SessionAffinityConfig?
    /// "Cluster" or "Local": which endpoints serve traffic arriving on node ports and
    /// load-balancer addresses.
    public var externalTrafficPolicy: String?
    /// "Cluster" or "Local": which endpoints serve traffic from inside the cluster.
    public var internalTrafficPolicy: String?
    public var healthCheckNodePort: Int32?
    public var publishNotReadyAddresses: Bool?
    public var ipFamilies: [String]?
    public var ipFamilyPolicy: String?
    public var loadBalancerIP: String?
    public var loadBalancerSourceRanges: [String]?
    public var loadBalancerClass: String?
    public var allocateLoadBalancerNodePorts: Bool?
    public var trafficDistribution: String?

    /// Memberwise initializer; every field defaults to unset.
    public init(type: String? = nil, selector: [String: String]? = nil, ports: [ServicePort]? = nil,
                clusterIP: String? = nil, clusterIPs: [String]? = nil, externalName: String? = nil,
                externalIPs: [String]? = nil, sessionAffinity: String? = nil,
                sessionAffinityConfig: SessionAffinityConfig? = nil, externalTrafficPolicy: String? = nil,
                internalTrafficPolicy: String? = nil, healthCheckNodePort: Int32? = nil,
                publishNotReadyAddresses: Bool? = nil, ipFamilies: [String]? = nil, ipFamilyPolicy: String? = nil,
                loadBalancerIP: String? = nil, loadBalancerSourceRanges: [String]? = nil,
                loadBalancerClass: String? = nil, allocateLoadBalancerNodePorts: Bool? = nil,
                trafficDistribution: String? = nil) {
        self.type = type
        self.selector = selector
        self.ports = ports
        self.clusterIP = clusterIP
        self.clusterIPs = clusterIPs
        self.externalName = externalName
        self.externalIPs = externalIPs
        self.sessionAffinity = sessionAffinity
        self.sessionAffinityConfig = sessionAffinityConfig
        self.externalTrafficPolicy = externalTrafficPolicy
        self.internalTrafficPolicy = internalTrafficPolicy
        self.healthCheckNodePort = healthCheckNodePort
        self.publishNotReadyAddresses = publishNotReadyAddresses
        self.ipFamilies = ipFamilies
        self.ipFamilyPolicy = ipFamilyPolicy
        self.loadBalancerIP = loadBalancerIP
        self.loadBalancerSourceRanges = loadBalancerSourceRanges
        self.loadBalancerClass = loadBalancerClass
        self.allocateLoadBalancerNodePorts = allocateLoadBalancerNodePorts
        self.trafficDistribution = trafficDistribution
    }

    /// Whether the service has no virtual address (`clusterIP: None`): DNS answers with the
    /// endpoints' addresses and the proxy leaves it alone.
    public var isHeadless: Bool { clusterIP == "None" }
}

/// `v1.ServicePort`.
public struct ServicePort: Codable, Hashable, Sendable {
    /// Required when the service has more than one port; names SRV records (`_name._tcp`).
    public var name: String?
    /// "TCP" (default), "UDP" or "SCTP".
    public var `protocol`: String?
    public var appProtocol: String?
    public var port: Int32
    /// The pods' port: a number, or the name of a container port resolved per pod.
    public var targetPort: IntOrString?
    public var nodePort: Int32?

    public init(name: String? = nil, protocol: String? = nil, appProtocol: String? = nil, port: Int32,
                targetPort: IntOrString? = nil, nodePort: Int32? = nil) {
        self.name = name
        self.protocol = `protocol`
        self.appProtocol = appProtocol
        self.port = port
        self.targetPort = targetPort
        self.nodePort = nodePort
    }
}

/// `v1.SessionAffinityConfig`.
public struct SessionAffinityConfig: Codable, Hashable, Sendable {
    public var clientIP: ClientIPConfig?

    public init(clientIP: ClientIPConfig? = nil) {
        self.clientIP = clientIP
    }
}

/// `v1.ClientIPConfig`: how long a client stays with its endpoint (default 10800 s, at most a day).
public struct ClientIPConfig: Codable, Hashable, Sendable {
    public var timeoutSeconds: Int32?

    public init(timeoutSeconds: Int32? = nil) {
        self.timeoutSeconds = timeoutSeconds
    }
}

/// `v1.ServiceStatus`.
public struct ServiceStatus: Codable, Hashable, Sendable {
    public var loadBalancer: LoadBalancerStatus?
    public var conditions: [JSONValue]?

    public init(loadBalancer: LoadBalancerStatus? = nil, conditions: [JSONValue]? = nil) {
        self.loadBalancer = loadBalancer
        self.conditions = conditions
    }
}

/// `v1.LoadBalancerStatus`: where a LoadBalancer service (or an Ingress) is reachable.
public struct LoadBalancerStatus: Codable, Hashable, Sendable {
    public var ingress: [LoadBalancerIngress]?

    public init(ingress: [LoadBalancerIngress]? = nil) {
        self.ingress = ingress
    }
}

/// `v1.LoadBalancerIngress`.
public struct LoadBalancerIngress: Codable, Hashable, Sendable {
    public var ip: String?
    public var hostname: String?
    /// "VIP" or "Proxy".
    public var ipMode: String?
    public var ports: [PortStatus]?

    public init(ip: String? = nil, hostname: String? = nil, ipMode: String? = nil, ports: [PortStatus]? = nil) {
        self.ip = ip
        self.hostname = hostname
        self.ipMode = ipMode
        self.ports = ports
    }
}

/// `v1.PortStatus`.
public struct PortStatus: Codable, Hashable, Sendable {
    public var port: Int32
    public var `protocol`: String
    public var error: String?

    public init(port: Int32, protocol: String, error: String? = nil) {
        self.port = port
        self.protocol = `protocol`
        self.error = error
    }

    private enum CodingKeys: String, CodingKey { case port, `protocol`, error }

    /// A missing port or protocol decodes as Go's zero value, so validation reports it with
    /// its path rather than the decoder failing.
    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        port = try container.decodeIfPresent(Int32.self, forKey: .port) ?? 0
        `protocol` = try container.decodeIfPresent(String.self, forKey: .`protocol`) ?? ""
        error = try container.decodeIfPresent(String.self, forKey: .error)
    }
}
