import Glibc
import NodeNetwork

/// One connection-tracking entry as the kernel reports it (IPv4 only): the original tuple
/// (client → service) and the reply tuple (endpoint → client, after NAT).
struct ConntrackEntry: Hashable, Sendable {
    struct Tuple: Hashable, Sendable {
        var source: IPv4Address
        var destination: IPv4Address
        var sourcePort: UInt16
        var destinationPort: UInt16
    }

    var proto: UInt8
    var original: Tuple
    var reply: Tuple
}

/// Removes UDP conntrack entries that still send a service's traffic to an endpoint it no
/// longer has. UDP has no connection to end, so a client sending from a fixed port keeps
/// hitting the old DNAT until the entry times out (120 s once answered); kube-proxy deletes
/// such entries after each sync (pkg/proxy/conntrack/cleanup.go: an entry to a service IP or
/// node port whose reply source is not a serving endpoint is stale). Done over ctnetlink on
/// the proxy's NETLINK_NETFILTER socket, in the node's namespace.
enum ConntrackCleaner {
    /// The entries of `entries` that point a UDP frontend at an endpoint it does not have.
    /// Frontends without any serving endpoint are left alone (nothing to move flows to).
    static func stale(_ entries: [ConntrackEntry], frontends: [ServiceProgram.UDPFrontend],
                      nodeAddresses: Set<IPv4Address>) -> [ConntrackEntry] {
        var byServiceIP: [IPv4Address: [UInt16: Set<IPv4Address>]] = [:]
        var byNodePort: [UInt16: Set<IPv4Address>] = [:]
        for frontend in frontends where !frontend.endpoints.isEmpty {
            byServiceIP[frontend.clusterIP, default: [:]][frontend.port] = frontend.endpoints
            if let nodePort = frontend.nodePort { byNodePort[nodePort] = frontend.endpoints }
        }
        return entries.filter { entry in
            guard entry.proto == L4Protocol.udp.number else { return false }
            if let endpoints = byServiceIP[entry.original.destination]?[entry.original.destinationPort],
               !endpoints.contains(entry.reply.source) {
                return true
            }
            // Node ports only on our node addresses: a flow to port 30053 of some other host
            // is not ours (kube-proxy matches the port alone).
            if nodeAddresses.contains(entry.original.destination),
               let endpoints = byNodePort[entry.original.destinationPort], !endpoints.contains(entry.reply.source) {
                return true
            }
            return false
        }
    }

    /// Every IPv4 UDP entry of the namespace (IPCTNL_MSG_CT_GET dump).
    static func dumpUDP(_ socket: NetfilterSocket) throws -> [ConntrackEntry] {
        let messages = try socket.dump(subsystem: NFTNumbers.subsystemConntrack, type: ConntrackNumbers.messageGet,
                                       family: ConntrackNumbers.familyIPv4, what: "conntrack dump")
        return messages.compactMap { message in
            guard message.type == NFTNumbers.subsystemConntrack << 8 | ConntrackNumbers.messageNew,
                  message.payload.count > 4 else { return nil }
            return parse(message.payload.dropFirst(4))
        }.filter { $0.proto == L4Protocol.udp.number }
    }

    /// Deletes `entries` by their original tuple; one already gone (ENOENT) is fine.
    /// Returns how many the kernel deleted.
    static func delete(_ entries: [ConntrackEntry], socket: NetfilterSocket) throws -> Int {
        guard !entries.isEmpty else { return 0 }
        var deleted = 0
        // A few hundred per datagram keeps each well inside the socket buffers.
        for chunk in stride(from: 0, to: entries.count, by: 256).map({ entries[$0..<min($0 + 256, entries.count)] }) {
            let errors = try socket.request({ buffer, sequence in
                for entry in chunk { encodeDelete(entry, sequence: sequence(), into: &buffer) }
            }, what: "conntrack delete")
            for (_, error) in errors where error != ENOENT {
                throw ServiceProxyError.netlink(step: "conntrack delete", errno: error, message: nil)
            }
            deleted += chunk.count - errors.count
        }
        return deleted
    }

    static func encodeDelete(_ entry: ConntrackEntry, sequence: UInt32, into buffer: inout NetlinkBuffer) {
        let start = buffer.beginMessage(type: NFTNumbers.subsystemConntrack << 8 | ConntrackNumbers.messageDelete,
                                        flags: NFTNumbers.request, sequence: sequence, family: ConntrackNumbers.familyIPv4)
        buffer.nest(ConntrackNumbers.tupleOriginal) { tuple in
            tuple.nest(ConntrackNumbers.tupleIP) {
                $0.put(ConntrackNumbers.ipv4Source, entry.original.source.bytes)
                $0.put(ConntrackNumbers.ipv4Destination, entry.original.destination.bytes)
            }
            tuple.nest(ConntrackNumbers.tupleProtocol) {
                $0.put(ConntrackNumbers.protocolNumber, u8: entry.proto)
                $0.put(ConntrackNumbers.protocolSourcePort, be16: entry.original.sourcePort)
                $0.put(ConntrackNumbers.protocolDestinationPort, be16: entry.original.destinationPort)
            }
        }
        buffer.end(message: start)
    }

    /// The tuples of one IPCTNL_MSG_CT_NEW payload (after the nfgenmsg header).
    static func parse(_ payload: ArraySlice<UInt8>) -> ConntrackEntry? {
        let attributes = NetlinkReader.attributes(payload)
        guard let original = attributes[ConntrackNumbers.tupleOriginal].flatMap(tuple),
              let reply = attributes[ConntrackNumbers.tupleReply].flatMap(tuple),
              original.proto == reply.proto else { return nil }
        return ConntrackEntry(proto: original.proto, original: original.tuple, reply: reply.tuple)
    }

    private static func tuple(_ bytes: ArraySlice<UInt8>) -> (proto: UInt8, tuple: ConntrackEntry.Tuple)? {
        let attributes = NetlinkReader.attributes(bytes)
        guard let ip = attributes[ConntrackNumbers.tupleIP].map(NetlinkReader.attributes),
              let proto = attributes[ConntrackNumbers.tupleProtocol].map(NetlinkReader.attributes),
              let source = ip[ConntrackNumbers.ipv4Source], source.count == 4,
              let destination = ip[ConntrackNumbers.ipv4Destination], destination.count == 4,
              let number = proto[ConntrackNumbers.protocolNumber]?.first else { return nil }
        return (number, ConntrackEntry.Tuple(source: IPv4Address(bytes: source), destination: IPv4Address(bytes: destination),
                                             sourcePort: NetlinkReader.be16(proto[ConntrackNumbers.protocolSourcePort]) ?? 0,
                                             destinationPort: NetlinkReader.be16(proto[ConntrackNumbers.protocolDestinationPort]) ?? 0))
    }
}
