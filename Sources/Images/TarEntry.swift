/// One file in a tar archive, with its metadata resolved from the ustar header, GNU long
/// name/link records and PAX extended headers.
struct TarEntry: Sendable, Equatable {
    /// The kinds of entries layers may contain.
    enum Kind: Sendable, Equatable {
        case regular, hardLink, symlink, characterDevice, blockDevice, directory, fifo
    }

    /// The path as stored (may start with `./` or end with `/`; the unpacker cleans it).
    var path: String
    var kind: Kind
    /// Permission bits including setuid, setgid and sticky (`0o7777`).
    var mode: UInt32
    var uid: Int
    var gid: Int
    /// Bytes of content that follow the header (0 for everything but regular files).
    var size: Int64
    /// Modification time, seconds since the epoch and nanoseconds.
    var modificationSeconds: Int64
    var modificationNanoseconds: Int32
    /// Symlink target, or the archive path a hard link points to.
    var linkName: String
    var deviceMajor: UInt32
    var deviceMinor: UInt32
    /// Extended attributes from PAX `SCHILY.xattr.<name>` records.
    var xattrs: [String: [UInt8]]

    init(
        path: String, kind: Kind, mode: UInt32 = 0o644, uid: Int = 0, gid: Int = 0, size: Int64 = 0,
        modificationSeconds: Int64 = 0, modificationNanoseconds: Int32 = 0, linkName: String = "",
        deviceMajor: UInt32 = 0, deviceMinor: UInt32 = 0, xattrs: [String: [UInt8]] = [:]
    ) {
        self.path = path
        self.kind = kind
        self.mode = mode
        self.uid = uid
        self.gid = gid
        self.size = size
        self.modificationSeconds = modificationSeconds
        self.modificationNanoseconds = modificationNanoseconds
        self.linkName = linkName
        self.deviceMajor = deviceMajor
        self.deviceMinor = deviceMinor
        self.xattrs = xattrs
    }
}
