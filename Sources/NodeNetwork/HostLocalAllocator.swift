import Glibc

/// Pod addresses from one subnet, persisted like CNI's host-local IPAM
/// (https://github.com/containernetworking/plugins/tree/main/plugins/ipam/host-local): one file
/// per allocated address, named by the address and holding the pod UID, and
/// `last_reserved_ip.0` so allocation continues round-robin after the last address handed out
/// (a released address is not reused at once, which keeps stale conntrack or ARP entries of a
/// dead pod from reaching a new one).
///
/// A file appears only complete: it is written under a temporary name and `link(2)`ed to the
/// address, which fails with EEXIST when the address is taken — the O_EXCL guarantee, without
/// an empty file if the agent dies mid-write. The network, gateway (first) and broadcast
/// addresses are never handed out. One allocator per directory at a time (the agent's).
final class HostLocalAllocator {
    let directory: String
    let subnet: IPv4Subnet
    let gateway: IPv4Address
    /// pod UID → address, loaded from the directory and kept in step with it.
    private var byPod: [String: IPv4Address]

    static let lastReservedFile = "last_reserved_ip.0"

    init(directory: String, subnet: IPv4Subnet, gateway: IPv4Address) throws {
        guard subnet.prefixLength <= 30 else {
            throw NetworkError.invalid("pod CIDR \(subnet) is too small: it needs room for a gateway and pods (a /30 or larger)")
        }
        self.directory = directory
        self.subnet = subnet
        self.gateway = gateway
        try StateFiles.makeDirectory(directory)
        self.byPod = [:]
        self.byPod = try scan().reduce(into: [:]) { $0[$1.value] = $1.key }
    }

    /// The pod's address: the one it already holds, or a new one. `fresh` tells which.
    func allocate(podUID: String) throws -> (address: IPv4Address, fresh: Bool) {
        guard !podUID.isEmpty, !podUID.contains("/"), !podUID.contains("\n") else {
            throw NetworkError.invalid("pod UID \"\(podUID)\" cannot name an address allocation")
        }
        if let address = byPod[podUID], owner(of: address) == podUID {
            return (address, false)
        }
        byPod[podUID] = nil
        let temporary = "\(directory)/.reserving-\(getpid())-\(podUID)"
        try StateFiles.write(temporary, podUID + "\neth0\n")
        defer { unlink(temporary) }

        let first = subnet.network.value &+ 1
        let last = subnet.broadcast.value &- 1
        let count = last - first + 1
        let start = lastReserved().map { $0.value >= first && $0.value < last ? $0.value + 1 : first } ?? first
        for step in 0..<count {
            let candidate = IPv4Address(first + (start - first + step) % count)
            if candidate == gateway { continue }
            if link(temporary, path(of: candidate)) == 0 {
                byPod[podUID] = candidate
                // Only a hint for where to continue; losing it costs nothing but order.
                try? StateFiles.write(path(ofName: Self.lastReservedFile), candidate.description)
                return (candidate, true)
            }
            guard errno == EEXIST else {
                throw NetworkError.system(step: "link", detail: path(of: candidate), errno: errno)
            }
        }
        throw NetworkError.addressesExhausted(range: subnet.description)
    }

    /// Frees the pod's address, if it holds one.
    func release(podUID: String) throws {
        var addresses: [IPv4Address] = []
        if let address = byPod[podUID], owner(of: address) == podUID {
            addresses = [address]
        } else {
            // Not in memory (another process allocated it): the directory is the truth.
            addresses = try scan().filter { $0.value == podUID }.map(\.key)
        }
        for address in addresses { try StateFiles.remove(path(of: address)) }
        byPod[podUID] = nil
    }

    /// Every allocation on disk: address → pod UID.
    func scan() throws -> [IPv4Address: String] {
        let names = try StateFiles.list(directory)
        var result: [IPv4Address: String] = [:]
        for name in names {
            guard let address = IPv4Address(name), subnet.contains(address), let uid = owner(of: address) else { continue }
            result[address] = uid
        }
        return result
    }

    private func path(of address: IPv4Address) -> String { "\(directory)/\(address)" }
    private func path(ofName name: String) -> String { "\(directory)/\(name)" }

    /// The pod UID recorded for `address` (the file's first line), nil if free.
    private func owner(of address: IPv4Address) -> String? {
        guard let text = StateFiles.read(path(of: address)) else { return nil }
        let uid = text.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
        return uid.isEmpty ? nil : uid
    }

    private func lastReserved() -> IPv4Address? {
        StateFiles.read(path(ofName: Self.lastReservedFile)).flatMap { IPv4Address(String($0.prefix(while: { $0 != "\n" }))) }
    }
}
