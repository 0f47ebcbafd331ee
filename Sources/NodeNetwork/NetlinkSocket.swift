/// The boundary between swiftlet's netlink logic and the kernel: datagrams out, datagrams in.
/// `RouteSocket` is the real one; tests use a recording fake and compare the exact bytes sent.
/// Not thread-safe: one request/reply exchange at a time (BridgeNetwork serialises them).
public protocol NetlinkSocket: AnyObject {
    /// Sends one datagram holding one or more complete netlink messages.
    func send(_ datagram: [UInt8]) throws
    /// Receives the next datagram of replies (blocking).
    func receive() throws -> [UInt8]
}
