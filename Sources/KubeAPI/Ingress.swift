/// A Kubernetes `networking.k8s.io/v1.Ingress`: HTTP routes by host and path to Services. The
/// agent's ingress proxy reads it; the server stores it as JSON and validates it there.
/// See https://github.com/kubernetes/api/blob/master/networking/v1/types.go
public struct Ingress: Codable, Hashable, Sendable {
    public var apiVersion: String?
    public var kind: String?
    public var metadata: ObjectMeta
    public var spec: IngressSpec
    public var status: IngressStatus?

    public init(apiVersion: String? = "networking.k8s.io/v1", kind: String? = "Ingress", metadata: ObjectMeta = ObjectMeta(),
                spec: IngressSpec = IngressSpec(), status: IngressStatus? = nil) {
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
        spec = try container.decodeIfPresent(IngressSpec.self, forKey: .spec) ?? IngressSpec()
        status = try container.decodeIfPresent(IngressStatus.self, forKey: .status)
    }
}

/// `networking/v1.IngressSpec`.
public struct IngressSpec: Codable, Hashable, Sendable {
    /// The IngressClass that serves this Ingress; nil leaves it to the default class (the
    /// server's admission fills it in) or to the older `kubernetes.io/ingress.class` annotation.
    public var ingressClassName: String?
    /// Where a request no rule matches goes.
    public var defaultBackend: IngressBackend?
    public var tls: [IngressTLS]?
    public var rules: [IngressRule]?

    public init(ingressClassName: String? = nil, defaultBackend: IngressBackend? = nil, tls: [IngressTLS]? = nil,
                rules: [IngressRule]? = nil) {
        self.ingressClassName = ingressClassName
        self.defaultBackend = defaultBackend
        self.tls = tls
        self.rules = rules
    }
}

/// `networking/v1.IngressTLS`: the hosts a `kubernetes.io/tls` Secret's certificate serves.
public struct IngressTLS: Codable, Hashable, Sendable {
    public var hosts: [String]?
    public var secretName: String?

    public init(hosts: [String]? = nil, secretName: String? = nil) {
        self.hosts = hosts
        self.secretName = secretName
    }
}

/// `networking/v1.IngressRule`: the paths of one host (nil or "" host: every host).
public struct IngressRule: Codable, Hashable, Sendable {
    public var host: String?
    public var http: HTTPIngressRuleValue?

    public init(host: String? = nil, http: HTTPIngressRuleValue? = nil) {
        self.host = host
        self.http = http
    }
}

/// `networking/v1.HTTPIngressRuleValue`.
public struct HTTPIngressRuleValue: Codable, Hashable, Sendable {
    public var paths: [HTTPIngressPath]

    public init(paths: [HTTPIngressPath] = []) {
        self.paths = paths
    }

    private enum CodingKeys: String, CodingKey { case paths }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        paths = try container.decodeIfPresent([HTTPIngressPath].self, forKey: .paths) ?? []
    }
}

/// `networking/v1.HTTPIngressPath`.
public struct HTTPIngressPath: Codable, Hashable, Sendable {
    public var path: String?
    /// "Exact", "Prefix" or "ImplementationSpecific" (required since networking.k8s.io/v1).
    public var pathType: String?
    public var backend: IngressBackend

    public init(path: String? = nil, pathType: String? = nil, backend: IngressBackend = IngressBackend()) {
        self.path = path
        self.pathType = pathType
        self.backend = backend
    }

    private enum CodingKeys: String, CodingKey { case path, pathType, backend }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        path = try container.decodeIfPresent(String.self, forKey: .path)
        pathType = try container.decodeIfPresent(String.self, forKey: .pathType)
        backend = try container.decodeIfPresent(IngressBackend.self, forKey: .backend) ?? IngressBackend()
    }
}

/// `networking/v1.IngressBackend`: a Service port, or (not served by swiftlet's proxy) a
/// reference to another resource.
public struct IngressBackend: Codable, Hashable, Sendable {
    public var service: IngressServiceBackend?
    public var resource: TypedLocalObjectReference?

    public init(service: IngressServiceBackend? = nil, resource: TypedLocalObjectReference? = nil) {
        self.service = service
        self.resource = resource
    }
}

/// `networking/v1.IngressServiceBackend`.
public struct IngressServiceBackend: Codable, Hashable, Sendable {
    public var name: String
    public var port: ServiceBackendPort?

    public init(name: String, port: ServiceBackendPort? = nil) {
        self.name = name
        self.port = port
    }

    private enum CodingKeys: String, CodingKey { case name, port }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        name = try container.decodeIfPresent(String.self, forKey: .name) ?? ""
        port = try container.decodeIfPresent(ServiceBackendPort.self, forKey: .port)
    }
}

/// `networking/v1.ServiceBackendPort`: exactly one of a port name or number.
public struct ServiceBackendPort: Codable, Hashable, Sendable {
    public var name: String?
    public var number: Int32?

    public init(name: String? = nil, number: Int32? = nil) {
        self.name = name
        self.number = number
    }
}

/// `core/v1.TypedLocalObjectReference`.
public struct TypedLocalObjectReference: Codable, Hashable, Sendable {
    public var apiGroup: String?
    public var kind: String
    public var name: String

    public init(apiGroup: String? = nil, kind: String, name: String) {
        self.apiGroup = apiGroup
        self.kind = kind
        self.name = name
    }

    private enum CodingKeys: String, CodingKey { case apiGroup, kind, name }

    /// A missing kind or name decodes as "" (Go's zero value), so validation reports it as
    /// `Required value` with its path rather than the decoder failing.
    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        apiGroup = try container.decodeIfPresent(String.self, forKey: .apiGroup)
        kind = try container.decodeIfPresent(String.self, forKey: .kind) ?? ""
        name = try container.decodeIfPresent(String.self, forKey: .name) ?? ""
    }
}

/// `networking/v1.IngressStatus`: where the Ingress is reachable (the addresses of the nodes
/// whose proxy serves it).
public struct IngressStatus: Codable, Hashable, Sendable {
    public var loadBalancer: IngressLoadBalancerStatus?

    public init(loadBalancer: IngressLoadBalancerStatus? = nil) {
        self.loadBalancer = loadBalancer
    }
}

/// `networking/v1.IngressLoadBalancerStatus`.
public struct IngressLoadBalancerStatus: Codable, Hashable, Sendable {
    public var ingress: [IngressLoadBalancerIngress]?

    public init(ingress: [IngressLoadBalancerIngress]? = nil) {
        self.ingress = ingress
    }
}

/// `networking/v1.IngressLoadBalancerIngress`.
public struct IngressLoadBalancerIngress: Codable, Hashable, Sendable {
    public var ip: String?
    public var hostname: String?
    public var ports: [IngressPortStatus]?

    public init(ip: String? = nil, hostname: String? = nil, ports: [IngressPortStatus]? = nil) {
        self.ip = ip
        self.hostname = hostname
        self.ports = ports
    }
}

/// `networking/v1.IngressPortStatus`: the same fields as core/v1's PortStatus, so one type
/// serves both (as KeysProjection does for the two projections).
public typealias IngressPortStatus = PortStatus
