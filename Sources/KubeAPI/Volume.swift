/// A pod volume: a name and exactly one source.
public struct Volume: Codable, Hashable, Sendable {
    public var name: String
    public var hostPath: HostPathVolumeSource?
    public var emptyDir: EmptyDirVolumeSource?
    public var configMap: ConfigMapVolumeSource?
    public var secret: SecretVolumeSource?
    public var persistentVolumeClaim: PersistentVolumeClaimVolumeSource?
    public var downwardAPI: JSONValue?
    public var projected: JSONValue?
    public var ephemeral: JSONValue?
    public var csi: JSONValue?
    public var nfs: JSONValue?
    /// An OCI image mounted read-only (ImageVolume feature).
    public var image: JSONValue?

    /// Memberwise initializer; optional fields default to unset.
    public init(
        name: String,
        hostPath: HostPathVolumeSource? = nil,
        emptyDir: EmptyDirVolumeSource? = nil,
        configMap: ConfigMapVolumeSource? = nil,
        secret: SecretVolumeSource? = nil,
        persistentVolumeClaim: PersistentVolumeClaimVolumeSource? = nil,
        downwardAPI: JSONValue? = nil,
        projected: JSONValue? = nil,
        ephemeral: JSONValue? = nil,
        csi: JSONValue? = nil,
        nfs: JSONValue? = nil,
        image: JSONValue? = nil
    ) {
        self.name = name
        self.hostPath = hostPath
        self.emptyDir = emptyDir
        self.configMap = configMap
        self.secret = secret
        self.persistentVolumeClaim = persistentVolumeClaim
        self.downwardAPI = downwardAPI
        self.projected = projected
        self.ephemeral = ephemeral
        self.csi = csi
        self.nfs = nfs
        self.image = image
    }
}

/// A file or directory of the node.
public struct HostPathVolumeSource: Codable, Hashable, Sendable {
    public var path: String
    /// "" (no check), "DirectoryOrCreate", "Directory", "FileOrCreate", "File", "Socket", "CharDevice" or "BlockDevice".
    public var type: String?

    /// Memberwise initializer; optional fields default to unset.
    public init(
        path: String,
        type: String? = nil
    ) {
        self.path = path
        self.type = type
    }
}

/// A scratch directory that lives as long as the pod.
public struct EmptyDirVolumeSource: Codable, Hashable, Sendable {
    /// "" (node disk) or "Memory" (tmpfs).
    public var medium: String?
    public var sizeLimit: Quantity?

    /// Memberwise initializer; every field defaults to unset.
    public init(
        medium: String? = nil,
        sizeLimit: Quantity? = nil
    ) {
        self.medium = medium
        self.sizeLimit = sizeLimit
    }
}

/// The keys of a ConfigMap as files.
public struct ConfigMapVolumeSource: Codable, Hashable, Sendable {
    public var name: String?
    public var items: [KeyToPath]?
    public var defaultMode: Int32?
    public var optional: Bool?

    /// Memberwise initializer; every field defaults to unset.
    public init(
        name: String? = nil,
        items: [KeyToPath]? = nil,
        defaultMode: Int32? = nil,
        optional: Bool? = nil
    ) {
        self.name = name
        self.items = items
        self.defaultMode = defaultMode
        self.optional = optional
    }
}

/// The keys of a Secret as files.
public struct SecretVolumeSource: Codable, Hashable, Sendable {
    public var secretName: String?
    public var items: [KeyToPath]?
    public var defaultMode: Int32?
    public var optional: Bool?

    /// Memberwise initializer; every field defaults to unset.
    public init(
        secretName: String? = nil,
        items: [KeyToPath]? = nil,
        defaultMode: Int32? = nil,
        optional: Bool? = nil
    ) {
        self.secretName = secretName
        self.items = items
        self.defaultMode = defaultMode
        self.optional = optional
    }
}

/// Puts one key of a ConfigMap or Secret at a chosen relative path.
public struct KeyToPath: Codable, Hashable, Sendable {
    public var key: String
    public var path: String
    public var mode: Int32?

    /// Memberwise initializer; optional fields default to unset.
    public init(
        key: String,
        path: String,
        mode: Int32? = nil
    ) {
        self.key = key
        self.path = path
        self.mode = mode
    }
}

/// A PersistentVolumeClaim of the pod's namespace.
public struct PersistentVolumeClaimVolumeSource: Codable, Hashable, Sendable {
    public var claimName: String
    public var readOnly: Bool?

    /// Memberwise initializer; optional fields default to unset.
    public init(
        claimName: String,
        readOnly: Bool? = nil
    ) {
        self.claimName = claimName
        self.readOnly = readOnly
    }
}
