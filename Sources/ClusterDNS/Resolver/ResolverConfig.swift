/// How the query handler answers.
public struct ResolverConfig: Sendable {
    /// The largest UDP reply we send, whatever the client offers: 1232 octets (DNS Flag Day
    /// 2020's recommendation, avoiding IP fragmentation); also the payload size we advertise.
    public var maxUDPPayload: Int
    /// Whether replies say recursion is available (RA). We forward everything outside the
    /// cluster zone, so yes by default.
    public var recursionAvailable: Bool
    /// Longest CNAME chain followed inside the zone (CoreDNS: 10).
    public var maxCNAMEChain: Int

    public init(maxUDPPayload: Int = 1232, recursionAvailable: Bool = true, maxCNAMEChain: Int = 10) {
        self.maxUDPPayload = max(DNSWire.classicUDPSize, min(maxUDPPayload, 4096))
        self.recursionAvailable = recursionAvailable
        self.maxCNAMEChain = maxCNAMEChain
    }
}
