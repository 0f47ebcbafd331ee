/// A pod's `persistentVolumeClaim` volume resolved, through its claim, to the node directory of
/// the PersistentVolume bound to it (kubelet's desired-state populator does the same walk:
/// pod volume -> claim -> volume -> plugin). Only the sources that are a directory of the node
/// are mounted here: `hostPath` and `local`.
public struct ClaimVolume: Sendable, Equatable {
    /// The PersistentVolume's name, for messages.
    public var volumeName: String
    /// The directory (or file) on the node.
    public var path: String
    /// A `hostPath` volume's type check ("" for none); nil for a `local` volume, whose path
    /// must exist.
    public var hostPathType: String?
    /// The local-path provisioner's setup: the directory is made (mode 0777, as its
    /// `mkdir -m 0777 -p`) when missing, rather than refused.
    public var createDirectory: Bool
    /// The pod's `persistentVolumeClaim.readOnly`: every mount of it is read-only.
    public var readOnly: Bool

    public init(volumeName: String, path: String, hostPathType: String?, createDirectory: Bool = false, readOnly: Bool = false) {
        self.volumeName = volumeName
        self.path = path
        self.hostPathType = hostPathType
        self.createDirectory = createDirectory
        self.readOnly = readOnly
    }
}
