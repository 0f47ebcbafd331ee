/// A Kubernetes `networking.k8s.io/v1.IngressClass`: names the controller that serves the
/// Ingresses of the class. swiftlet's agents serve the class whose controller is
/// `IngressClass.swiftletController`; the one annotated `is-default-class` is the class the
/// server's admission gives Ingresses that name none.
public struct IngressClass: Codable, Hashable, Sendable {
    /// The controller name of swiftlet's built-in ingress proxy (k3s' Traefik: `traefik.io/ingress-controller`).
    public static let swiftletController = "swiftlet.io/ingress"
    /// The name of the class the server creates for it.
    public static let swiftletClassName = "swiftlet"
    /// The annotation that makes a class the default (`networking/v1.AnnotationIsDefaultIngressClass`).
    public static let defaultClassAnnotation = "ingressclass.kubernetes.io/is-default-class"
    /// The annotation older Ingresses name their class with (deprecated, still honoured by controllers).
    public static let legacyClassAnnotation = "kubernetes.io/ingress.class"

    public var apiVersion: String?
    public var kind: String?
    public var metadata: ObjectMeta
    public var spec: IngressClassSpec

    public init(apiVersion: String? = "networking.k8s.io/v1", kind: String? = "IngressClass", metadata: ObjectMeta = ObjectMeta(),
                spec: IngressClassSpec = IngressClassSpec()) {
        self.apiVersion = apiVersion
        self.kind = kind
        self.metadata = metadata
        self.spec = spec
    }

    private enum CodingKeys: String, CodingKey {
        case apiVersion, kind, metadata, spec
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        apiVersion = try container.decodeIfPresent(String.self, forKey: .apiVersion)
        kind = try container.decodeIfPresent(String.self, forKey: .kind)
        metadata = try container.decodeIfPresent(ObjectMeta.self, forKey: .metadata) ?? ObjectMeta()
        spec = try container.decodeIfPresent(IngressClassSpec.self, forKey: .spec) ?? IngressClassSpec()
    }
}

/// `networking/v1.IngressClassSpec`.
public struct IngressClassSpec: Codable, Hashable, Sendable {
    public var controller: String?
    public var parameters: IngressClassParametersReference?

    public init(controller: String? = nil, parameters: IngressClassParametersReference? = nil) {
        self.controller = controller
        self.parameters = parameters
    }
}

/// `networking/v1.IngressClassParametersReference`.
public struct IngressClassParametersReference: Codable, Hashable, Sendable {
    public var apiGroup: String?
    public var kind: String
    public var name: String
    /// "Cluster" or "Namespace".
    public var scope: String?
    public var namespace: String?

    public init(apiGroup: String? = nil, kind: String, name: String, scope: String? = nil, namespace: String? = nil) {
        self.apiGroup = apiGroup
        self.kind = kind
        self.name = name
        self.scope = scope
        self.namespace = namespace
    }

    private enum CodingKeys: String, CodingKey { case apiGroup, kind, name, scope, namespace }

    /// A missing kind or name decodes as "" (Go's zero value): validation reports it.
    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        apiGroup = try container.decodeIfPresent(String.self, forKey: .apiGroup)
        kind = try container.decodeIfPresent(String.self, forKey: .kind) ?? ""
        name = try container.decodeIfPresent(String.self, forKey: .name) ?? ""
        scope = try container.decodeIfPresent(String.self, forKey: .scope)
        namespace = try container.decodeIfPresent(String.self, forKey: .namespace)
    }
}
