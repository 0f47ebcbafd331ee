import KubeAPI

/// What cluster DNS reads from an EndpointSlice.
extension EndpointSlice {
    /// The endpoints DNS publishes, with their parsed addresses: ready ones (an unset condition
    /// counts as ready, as CoreDNS reads it), or all of them when the Service sets
    /// `publishNotReadyAddresses` (the endpoint-slice controller then marks them ready too; we
    /// honour the field ourselves so a controller that does not still gets it right). FQDN
    /// slices and addresses that do not parse are left out.
    func dnsEndpoints(publishNotReady: Bool) -> [(endpoint: Endpoint, addresses: [[UInt8]])] {
        let family: Int
        switch addressType {
        case "IPv4": family = 4
        case "IPv6": family = 16
        default: return []
        }
        var result: [(Endpoint, [[UInt8]])] = []
        for endpoint in endpoints where publishNotReady || endpoint.isReady {
            let addresses = endpoint.addresses.compactMap(IPAddressText.parse).filter { $0.count == family }
            if !addresses.isEmpty { result.append((endpoint, addresses)) }
        }
        return result
    }
}

extension Endpoint {
    /// The endpoint's label under its service: its `hostname`, else the address with dashes
    /// (`10-42-0-5`, `fd00--5`), CoreDNS's default naming (`endpoint_pod_names` off).
    func dnsLabel(for address: [UInt8]) -> String {
        if let hostname, !hostname.isEmpty { return hostname.lowercased() }
        let text = IPAddressText.format(address)
        if address.count == 4 { return text.replacingDots() }
        let dashed = String(text.map { $0 == ":" ? "-" : $0 })
        return dashed.hasSuffix("-") ? dashed + "0" : dashed
    }
}

extension String {
    fileprivate func replacingDots() -> String { String(map { $0 == "." ? "-" : $0 }) }
}
