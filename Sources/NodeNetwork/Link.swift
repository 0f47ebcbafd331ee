/// A network interface as the kernel reports it (RTM_NEWLINK).
public struct Link: Sendable, Equatable {
    /// The ifindex.
    public var index: Int32
    /// The interface name.
    public var name: String
    /// IFF_* flags.
    public var flags: UInt32
    /// The bridge this link is a port of, 0 when none.
    public var master: Int32
    /// The link's MTU.
    public var mtu: UInt32

    /// A link as described by the kernel.
    public init(index: Int32, name: String, flags: UInt32, master: Int32, mtu: UInt32) {
        self.index = index
        self.name = name
        self.flags = flags
        self.master = master
        self.mtu = mtu
    }

    /// IFF_UP: administratively up.
    public var isUp: Bool { flags & 1 != 0 }
}

/// Changes to an existing link, what `ip link set` does; nil fields stay as they are.
public struct LinkChange: Sendable, Equatable {
    /// The link by index, or 0 to name it by `name`.
    public var index: Int32
    /// The link by name, when `index` is 0.
    public var name: String?
    /// Up or down.
    public var up: Bool?
    /// A bridge's index to join it, 0 to leave any bridge ("nomaster").
    public var master: Int32?
    /// A new MTU.
    public var mtu: UInt32?
    /// A 6-byte MAC address.
    public var mac: [UInt8]?
    /// Hairpin mode of a bridge port: frames may leave by the port they came in on.
    public var hairpin: Bool?

    /// Changes to make; what is left nil is not touched.
    public init(index: Int32 = 0, name: String? = nil, up: Bool? = nil, master: Int32? = nil,
                mtu: UInt32? = nil, mac: [UInt8]? = nil, hairpin: Bool? = nil) {
        self.hairpin = hairpin
        self.index = index
        self.name = name
        self.up = up
        self.master = master
        self.mtu = mtu
        self.mac = mac
    }
}
