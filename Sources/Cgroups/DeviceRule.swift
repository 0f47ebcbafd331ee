/// One device access rule in the cgroup v1 `devices.allow` syntax, `TYPE MAJOR:MINOR ACCESS`
/// (`c 1:3 rwm`, `c 136:* rwm`, `a *:* rwm`), which both managers use: v1 writes the text to
/// `devices.allow`, v2 compiles the rules into an eBPF program (`DeviceFilterProgram`).
/// https://docs.kernel.org/admin-guide/cgroup-v1/devices.html
public struct DeviceRule: Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Character, Sendable {
        case all = "a", char = "c", block = "b"
    }

    /// What may be done with the node: `m` mknod, `r` read (open for reading), `w` write.
    public struct Access: OptionSet, Sendable, Hashable {
        public let rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue }
        // The kernel's BPF_DEVCG_ACC_* bits (include/uapi/linux/bpf.h).
        public static let mknod = Access(rawValue: 1)
        public static let read = Access(rawValue: 2)
        public static let write = Access(rawValue: 4)
        public static let all: Access = [.mknod, .read, .write]
    }

    public var kind: Kind
    /// nil is `*`, any major number.
    public var major: UInt32?
    /// nil is `*`, any minor number.
    public var minor: UInt32?
    public var access: Access

    public init(kind: Kind, major: UInt32?, minor: UInt32?, access: Access) {
        self.kind = kind
        self.major = major
        self.minor = minor
        self.access = access
    }

    /// Parses `c 1:3 rwm`; `a` alone means every device (`a *:* rwm`), as the kernel accepts.
    public init(parsing text: String) throws(CgroupError) {
        let fields = text.split(separator: " ", omittingEmptySubsequences: true)
        guard let first = fields.first, first.count == 1, let kind = Kind(rawValue: first.first ?? " ") else {
            throw .parse(path: "device rule", detail: "\"\(text)\": expected TYPE MAJOR:MINOR ACCESS with TYPE a, c or b")
        }
        if kind == .all && fields.count == 1 {
            self.init(kind: .all, major: nil, minor: nil, access: .all)
            return
        }
        guard fields.count == 3 else {
            throw .parse(path: "device rule", detail: "\"\(text)\": expected TYPE MAJOR:MINOR ACCESS, e.g. c 1:3 rwm")
        }
        let numbers = fields[1].split(separator: ":", omittingEmptySubsequences: false)
        guard numbers.count == 2 else {
            throw .parse(path: "device rule", detail: "\"\(text)\": expected MAJOR:MINOR, numbers or *")
        }
        func number(_ field: Substring) throws(CgroupError) -> UInt32? {
            if field == "*" { return nil }
            guard let value = UInt32(field) else {
                throw .parse(path: "device rule", detail: "\"\(text)\": \(field) is neither a device number nor *")
            }
            return value
        }
        var access: Access = []
        for letter in fields[2] {
            switch letter {
            case "r": access.insert(.read)
            case "w": access.insert(.write)
            case "m": access.insert(.mknod)
            default: throw .parse(path: "device rule", detail: "\"\(text)\": access \(fields[2]) may only hold r, w and m")
            }
        }
        guard !access.isEmpty else { throw .parse(path: "device rule", detail: "\"\(text)\": empty access") }
        self.init(kind: kind, major: try number(numbers[0]), minor: try number(numbers[1]), access: access)
    }

    /// The rule in `devices.allow` syntax.
    public var description: String {
        let letters = (access.contains(.read) ? "r" : "") + (access.contains(.write) ? "w" : "")
            + (access.contains(.mknod) ? "m" : "")
        return "\(kind.rawValue) \(major.map(String.init) ?? "*"):\(minor.map(String.init) ?? "*") \(letters)"
    }

    /// runc's default allow list (libcontainer/specconv `AllowedDevices`), which containerd
    /// and Docker give unprivileged containers: mknod of anything, and read/write/mknod of
    /// null, zero, full, random, urandom, tty, console, ptmx, the pty slaves and tun. Typed,
    /// so that it is checked by the compiler rather than parsed on every container start.
    public static let defaultAllowed: [DeviceRule] = [
        DeviceRule(kind: .char, major: nil, minor: nil, access: .mknod),  // c *:* m
        DeviceRule(kind: .block, major: nil, minor: nil, access: .mknod), // b *:* m
        DeviceRule(kind: .char, major: 1, minor: 3, access: .all),        // /dev/null
        DeviceRule(kind: .char, major: 1, minor: 5, access: .all),        // /dev/zero
        DeviceRule(kind: .char, major: 1, minor: 7, access: .all),        // /dev/full
        DeviceRule(kind: .char, major: 1, minor: 8, access: .all),        // /dev/random
        DeviceRule(kind: .char, major: 1, minor: 9, access: .all),        // /dev/urandom
        DeviceRule(kind: .char, major: 5, minor: 0, access: .all),        // /dev/tty
        DeviceRule(kind: .char, major: 5, minor: 1, access: .all),        // /dev/console
        DeviceRule(kind: .char, major: 5, minor: 2, access: .all),        // /dev/ptmx
        DeviceRule(kind: .char, major: 136, minor: nil, access: .all),    // /dev/pts/*
        DeviceRule(kind: .char, major: 10, minor: 200, access: .all),     // /dev/net/tun
    ]
}
