/// Kubernetes' `metav1.ObjectMeta`: name, namespace, labels and bookkeeping of an object.
public struct ObjectMeta: Codable, Hashable, Sendable {
    public var name: String?
    public var generateName: String?
    public var namespace: String?
    /// Deprecated upstream and never set by current servers; accepted so older output decodes.
    public var selfLink: String?
    public var uid: String?
    public var resourceVersion: String?
    public var generation: Int64?
    public var creationTimestamp: Time?
    public var deletionTimestamp: Time?
    public var deletionGracePeriodSeconds: Int64?
    public var labels: [String: String]?
    public var annotations: [String: String]?
    public var ownerReferences: [OwnerReference]?
    public var finalizers: [String]?
    /// Server-side apply bookkeeping, kept opaque so `kubectl get -o yaml` output decodes.
    public var managedFields: [JSONValue]?

    /// Memberwise initializer; every field defaults to unset.
    public init(
        name: String? = nil,
        generateName: String? = nil,
        namespace: String? = nil,
        selfLink: String? = nil,
        uid: String? = nil,
        resourceVersion: String? = nil,
        generation: Int64? = nil,
        creationTimestamp: Time? = nil,
        deletionTimestamp: Time? = nil,
        deletionGracePeriodSeconds: Int64? = nil,
        labels: [String: String]? = nil,
        annotations: [String: String]? = nil,
        ownerReferences: [OwnerReference]? = nil,
        finalizers: [String]? = nil,
        managedFields: [JSONValue]? = nil
    ) {
        self.name = name
        self.generateName = generateName
        self.namespace = namespace
        self.selfLink = selfLink
        self.uid = uid
        self.resourceVersion = resourceVersion
        self.generation = generation
        self.creationTimestamp = creationTimestamp
        self.deletionTimestamp = deletionTimestamp
        self.deletionGracePeriodSeconds = deletionGracePeriodSeconds
        self.labels = labels
        self.annotations = annotations
        self.ownerReferences = ownerReferences
        self.finalizers = finalizers
        self.managedFields = managedFields
    }

    private enum CodingKeys: String, CodingKey {
        case name, generateName, namespace, selfLink, uid, resourceVersion, generation, creationTimestamp,
             deletionTimestamp, deletionGracePeriodSeconds, labels, annotations, ownerReferences, finalizers,
             managedFields
    }

    /// As the synthesized decoder, except that `managedFields` is left out when the decoder's
    /// `userInfo[.stripManagedFields]` is true.
    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        name = try container.decodeIfPresent(String.self, forKey: .name)
        generateName = try container.decodeIfPresent(String.self, forKey: .generateName)
        namespace = try container.decodeIfPresent(String.self, forKey: .namespace)
        selfLink = try container.decodeIfPresent(String.self, forKey: .selfLink)
        uid = try container.decodeIfPresent(String.self, forKey: .uid)
        resourceVersion = try container.decodeIfPresent(String.self, forKey: .resourceVersion)
        generation = try container.decodeIfPresent(Int64.self, forKey: .generation)
        creationTimestamp = try container.decodeIfPresent(Time.self, forKey: .creationTimestamp)
        deletionTimestamp = try container.decodeIfPresent(Time.self, forKey: .deletionTimestamp)
        deletionGracePeriodSeconds = try container.decodeIfPresent(Int64.self, forKey: .deletionGracePeriodSeconds)
        labels = try container.decodeIfPresent([String: String].self, forKey: .labels)
        annotations = try container.decodeIfPresent([String: String].self, forKey: .annotations)
        ownerReferences = try container.decodeIfPresent([OwnerReference].self, forKey: .ownerReferences)
        finalizers = try container.decodeIfPresent([String].self, forKey: .finalizers)
        if decoder.userInfo[.stripManagedFields] as? Bool == true {
            managedFields = nil
        } else {
            managedFields = try container.decodeIfPresent([JSONValue].self, forKey: .managedFields)
        }
    }
}

extension CodingUserInfoKey {
    /// Set to true in a decoder's `userInfo` to decode objects without `metadata.managedFields`,
    /// as client-go's informers do with `TransformStripManagedFields`: a client that only reads
    /// objects has no use for the server-side apply bookkeeping, which is about half of a pod's
    /// JSON and the costliest part to decode (opaque `JSONValue`s).
    public static let stripManagedFields = CodingUserInfoKey(rawValue: "io.swiftlet.stripManagedFields")!
}

/// Points at the object that owns this one (garbage collection, `kubectl get` ownership).
public struct OwnerReference: Codable, Hashable, Sendable {
    public var apiVersion: String
    public var kind: String
    public var name: String
    public var uid: String
    public var controller: Bool?
    public var blockOwnerDeletion: Bool?

    /// Memberwise initializer; optional fields default to unset.
    public init(
        apiVersion: String,
        kind: String,
        name: String,
        uid: String,
        controller: Bool? = nil,
        blockOwnerDeletion: Bool? = nil
    ) {
        self.apiVersion = apiVersion
        self.kind = kind
        self.name = name
        self.uid = uid
        self.controller = controller
        self.blockOwnerDeletion = blockOwnerDeletion
    }
}
