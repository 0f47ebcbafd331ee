/// A `discovery.k8s.io/v1` EndpointSlice: some of the addresses behind a Service, written by the
/// server's endpoint-slice controller and read by every node's service proxy and cluster DNS.
/// The service it belongs to is the label `kubernetes.io/service-name`.
/// See https://github.com/kubernetes/api/blob/master/discovery/v1/types.go
public struct EndpointSlice: Codable, Hashable, Sendable {
    public var apiVersion: String?
    public var kind: String?
    public var metadata: ObjectMeta
    /// "IPv4", "IPv6" or "FQDN".
    public var addressType: String
    public var endpoints: [Endpoint]
    public var ports: [EndpointPort]?

    /// The label naming the slice's Service.
    public static let serviceNameLabel = "kubernetes.io/service-name"
    /// The label naming the controller that manages a slice.
    public static let managedByLabel = "endpointslice.kubernetes.io/managed-by"

    public init(apiVersion: String? = "discovery.k8s.io/v1", kind: String? = "EndpointSlice",
                metadata: ObjectMeta = ObjectMeta(), addressType: String = "IPv4", endpoints: [Endpoint] = [],
                ports: [EndpointPort]? = nil) {
        self.apiVersion = apiVersion
        self.kind = kind
        self.metadata = metadata
        self.addressType = addressType
        self.endpoints = endpoints
        self.ports = ports
    }

    private enum CodingKeys: String, CodingKey {
        case apiVersion, kind, metadata, addressType, endpoints, ports
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        apiVersion = try container.decodeIfPresent(String.self, forKey: .apiVersion)
        kind = try container.decodeIfPresent(String.self, forKey: .kind)
        metadata = try container.decodeIfPresent(ObjectMeta.self, forKey: .metadata) ?? ObjectMeta()
        addressType = try container.decodeIfPresent(String.self, forKey: .addressType) ?? "IPv4"
        // `endpoints` is required upstream but encoded as null when empty by some writers.
        endpoints = try container.decodeIfPresent([Endpoint].self, forKey: .endpoints) ?? []
        ports = try container.decodeIfPresent([EndpointPort].self, forKey: .ports)
    }

    /// The Service this slice belongs to (its `kubernetes.io/service-name` label).
    public var serviceName: String? { metadata.labels?[Self.serviceNameLabel] }
}

/// `discovery.k8s.io/v1.Endpoint`: one backend (a pod) with its addresses and readiness.
public struct Endpoint: Codable, Hashable, Sendable {
    public var addresses: [String]
    public var conditions: EndpointConditions?
    /// The pod's `hostname` when it sets one (with `subdomain`), for headless DNS records.
    public var hostname: String?
    public var targetRef: ObjectReference?
    public var nodeName: String?
    public var zone: String?
    public var hints: JSONValue?

    public init(addresses: [String], conditions: EndpointConditions? = nil, hostname: String? = nil,
                targetRef: ObjectReference? = nil, nodeName: String? = nil, zone: String? = nil,
                hints: JSONValue? = nil) {
        self.addresses = addresses
        self.conditions = conditions
        self.hostname = hostname
        self.targetRef = targetRef
        self.nodeName = nodeName
        self.zone = zone
        self.hints = hints
    }

    /// Kubernetes' reading of an unset condition: ready and serving unless said otherwise,
    /// not terminating.
    public var isReady: Bool { conditions?.ready ?? true }
    public var isServing: Bool { conditions?.serving ?? isReady }
    public var isTerminating: Bool { conditions?.terminating ?? false }
}

/// `discovery.k8s.io/v1.EndpointConditions`.
public struct EndpointConditions: Codable, Hashable, Sendable {
    /// Serving and not terminating (always false for a terminating endpoint).
    public var ready: Bool?
    /// Passing readiness, whether or not terminating.
    public var serving: Bool?
    public var terminating: Bool?

    public init(ready: Bool? = nil, serving: Bool? = nil, terminating: Bool? = nil) {
        self.ready = ready
        self.serving = serving
        self.terminating = terminating
    }
}

/// `discovery.k8s.io/v1.EndpointPort`: a port resolved for the endpoints of the slice (a named
/// `targetPort` resolves per pod, so pods with different numbers land in different slices).
public struct EndpointPort: Codable, Hashable, Sendable {
    /// The Service port's name ("" when it has one unnamed port).
    public var name: String?
    public var `protocol`: String?
    public var port: Int32?
    public var appProtocol: String?

    public init(name: String? = nil, protocol: String? = nil, port: Int32? = nil, appProtocol: String? = nil) {
        self.name = name
        self.protocol = `protocol`
        self.port = port
        self.appProtocol = appProtocol
    }
}

/// `v1.ObjectReference`, as endpoints use it to name their pod.
public struct ObjectReference: Codable, Hashable, Sendable {
    public var kind: String?
    public var namespace: String?
    public var name: String?
    public var uid: String?
    public var apiVersion: String?
    public var resourceVersion: String?
    public var fieldPath: String?

    public init(kind: String? = nil, namespace: String? = nil, name: String? = nil, uid: String? = nil,
                apiVersion: String? = nil, resourceVersion: String? = nil, fieldPath: String? = nil) {
        self.kind = kind
        self.namespace = namespace
        self.name = name
        self.uid = uid
        self.apiVersion = apiVersion
        self.resourceVersion = resourceVersion
        self.fieldPath = fieldPath
    }
}
