import KubeAPI

/// One resource the server serves, as discovery describes it (`APIResource` of
/// `/api/v1` and `/apis/<group>/<version>`).
public struct APIResource: Sendable {
    /// "" for the core group.
    public let group: String
    public let version: String
    /// The plural, lower-case name used in paths ("pods").
    public let name: String
    public let singularName: String
    public let kind: String
    public let namespaced: Bool
    public let shortNames: [String]
    public let categories: [String]
    /// Subresources served ("status", "scale").
    public let subresources: [String]
    /// How object names are checked.
    public let nameRule: ObjectValidation.NameRule
    /// Field selectors beyond metadata.name and metadata.namespace, mapped to the JSON path
    /// they read (`spec.nodeName` -> ["spec", "nodeName"]).
    public let selectableFields: [String: [String]]
    /// Whether the object's generation is tracked (bumped when the spec changes).
    public let tracksGeneration: Bool
    /// The resource whose stored objects this one serves in a form of its own (events.k8s.io's
    /// events are the core events, as kube-apiserver's cohabiting resources share one etcd
    /// prefix); nil when it has storage of its own.
    public let storedAs: GroupResource?

    public init(group: String, version: String, name: String, singularName: String, kind: String,
                namespaced: Bool, shortNames: [String] = [], categories: [String] = [], subresources: [String] = [],
                nameRule: ObjectValidation.NameRule = .dns1123Subdomain, selectableFields: [String: [String]] = [:],
                tracksGeneration: Bool = false, storedAs: GroupResource? = nil) {
        self.group = group
        self.version = version
        self.name = name
        self.singularName = singularName
        self.kind = kind
        self.namespaced = namespaced
        self.shortNames = shortNames
        self.categories = categories
        self.subresources = subresources
        self.nameRule = nameRule
        self.selectableFields = selectableFields
        self.tracksGeneration = tracksGeneration
        self.storedAs = storedAs
    }

    /// `v1` or `apps/v1`.
    public var groupVersion: String {
        group.isEmpty ? version : "\(group)/\(version)"
    }

    public var groupResource: GroupResource {
        GroupResource(group: group, resource: name)
    }

    /// The verbs discovery advertises; reviews (TokenReview) are only created, never stored.
    public var verbs: [String] {
        group == "authentication.k8s.io" ? ["create"] : ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]
    }
}
