/// A query the handler could not answer from the zone or the cache: what the forwarder must
/// ask upstream and what it needs to answer the client.
struct ForwardRequest: Sendable {
    /// The client's id and header flags (RD and CD are echoed).
    var clientID: UInt16
    var clientFlags: UInt16
    /// The client's question name as sent (its case is echoed), type and class.
    var question: [UInt8]
    var type: UInt16
    var recordClass: UInt16
    /// The name to ask upstream, lowercased: the question, or the target of a CNAME chain
    /// that left the cluster zone (an ExternalName service).
    var upstreamName: [UInt8]
    /// Records to put before the upstream's answers (that CNAME chain).
    var prefix: [ResourceRecord]
    /// The client's EDNS, if it sent any, and the size its reply may take.
    var clientEDNS: Bool
    var dnssecOK: Bool
    var limit: Int
    /// How to send the reply back; set by the transport that received the query.
    var deliver: @Sendable ([UInt8]) -> Void = { _ in }
}
