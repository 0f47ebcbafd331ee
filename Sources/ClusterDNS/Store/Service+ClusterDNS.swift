import KubeAPI

/// The DNS records of one Service, per the Kubernetes DNS specification
/// (https://github.com/kubernetes/dns/blob/master/docs/specification.md) and as CoreDNS's
/// kubernetes plugin answers them (plugin/kubernetes/kubernetes.go findServices,
/// reverse.go serviceRecordForIP).
extension Service {
    /// The service's namespace and name (namespace "default" when unset).
    var dnsKey: ServiceKey { ServiceKey(namespace: metadata.namespace ?? "default", name: metadata.name ?? "") }

    /// Records by owner name (lowercased wire bytes) for this service and its `slices`:
    /// - ClusterIP (and NodePort, LoadBalancer): `<svc>.<ns>.svc.<zone>` A/AAAA per cluster IP,
    ///   PTR from each cluster IP; SRV `_<port>._<proto>.<svc>...` per named port targeting the
    ///   service name, and SRV on the service name for every port (CoreDNS does the latter).
    /// - Headless (`clusterIP: None`): the service name answers each ready endpoint's
    ///   addresses (no name at all when none is ready: NXDOMAIN, spec §2.4.1); SRV per named
    ///   port and ready endpoint targeting `<hostname>.<svc>...` with the endpoint's port.
    /// - Both: `<hostname>.<svc>.<ns>.svc.<zone>` A/AAAA for each ready endpoint (hostname, or
    ///   the dashed address) and a PTR from each endpoint address to that name.
    /// - ExternalName: a CNAME from the service name to `externalName`.
    func dnsRecords(slices: [EndpointSlice], zone: DNSName, ttl: UInt32) -> [[UInt8]: NameRecords] {
        let key = dnsKey
        guard let serviceName = try? zone.prepending("svc").prepending(key.namespace).prepending(key.name).lowercased()
        else { return [:] }
        var out: [[UInt8]: NameRecords] = [:]
        func add(_ name: [UInt8], _ edit: (inout NameRecords) -> Void) {
            var records = out[name] ?? NameRecords(ttl: ttl)
            edit(&records)
            out[name] = records
        }
        if spec.type == "ExternalName" {
            // An invalid externalName (the server validates it, but be safe) gives no record.
            guard let external = spec.externalName, let target = try? DNSName(external) else { return [:] }
            add(serviceName.wire) { $0.cname = target.lowercased().wire }
            return out
        }
        let headless = spec.isHeadless
        let publishNotReady = spec.publishNotReadyAddresses ?? false

        // Endpoint names and their PTRs, for every kind of service (CoreDNS answers endpoint
        // names and reverse lookups of pod addresses for ClusterIP services too).
        var endpointSRV: [[UInt8]: [SRVData]] = [:]
        var serviceSRV: [SRVData] = []
        for slice in slices {
            let endpoints = slice.dnsEndpoints(publishNotReady: publishNotReady)
            for (endpoint, addresses) in endpoints {
                for address in addresses {
                    guard let endpointName = try? serviceName.prepending(endpoint.dnsLabel(for: address)) else { continue }
                    add(endpointName.wire) { address.count == 4 ? $0.a.append(address) : $0.aaaa.append(address) }
                    add(ReverseName.of(address)) { $0.ptr.append(endpointName.wire) }
                    guard headless else { continue }
                    add(serviceName.wire) { address.count == 4 ? $0.a.append(address) : $0.aaaa.append(address) }
                    for port in slice.ports ?? [] {
                        guard let number = port.port, number > 0, number <= 65535 else { continue }
                        let srv = SRVData(priority: 0, weight: 0, port: UInt16(number), target: endpointName.wire)
                        if !serviceSRV.contains(srv) { serviceSRV.append(srv) }
                        guard let name = port.name, !name.isEmpty,
                              let srvName = try? serviceName.prepending(Self.protocolLabel(port.protocol))
                                .prepending("_" + name.lowercased()) else { continue }
                        if !(endpointSRV[srvName.wire] ?? []).contains(srv) { endpointSRV[srvName.wire, default: []].append(srv) }
                    }
                }
            }
        }

        if !headless {
            let ips = (spec.clusterIPs ?? [spec.clusterIP].compactMap { $0 }).compactMap(IPAddressText.parse)
            // The name exists even before an address is assigned (NODATA, not NXDOMAIN).
            add(serviceName.wire) { $0.exists = true }
            for ip in ips {
                add(serviceName.wire) { ip.count == 4 ? $0.a.append(ip) : $0.aaaa.append(ip) }
                add(ReverseName.of(ip)) { $0.ptr.append(serviceName.wire) }
            }
            for port in spec.ports ?? [] {
                guard port.port > 0, port.port <= 65535 else { continue }
                let srv = SRVData(priority: 0, weight: 0, port: UInt16(port.port), target: serviceName.wire)
                if !serviceSRV.contains(srv) { serviceSRV.append(srv) }
                guard let name = port.name, !name.isEmpty,
                      let srvName = try? serviceName.prepending(Self.protocolLabel(port.protocol))
                        .prepending("_" + name.lowercased()) else { continue }
                endpointSRV[srvName.wire, default: []].append(srv)
            }
        }
        // A headless service without ready endpoints has no records at all; its SRV names
        // only exist with endpoints either.
        if out[serviceName.wire] != nil || !headless {
            if !serviceSRV.isEmpty { add(serviceName.wire) { $0.srv = Self.weighted(serviceSRV) } }
            for (name, records) in endpointSRV { add(name) { $0.srv = Self.weighted(records) } }
        }
        return out
    }

    /// `_tcp`, `_udp` or `_sctp` (TCP when unset, the API default).
    static func protocolLabel(_ value: String?) -> String { "_" + (value ?? "TCP").lowercased() }

    /// RFC 2782 weights spreading load evenly over the targets, as CoreDNS does
    /// (plugin/backend_lookup.go SRV: 100 / count, at least 1).
    static func weighted(_ records: [SRVData]) -> [SRVData] {
        let weight = UInt16(max(1, 100 / max(1, records.count)))
        return records.map { SRVData(priority: $0.priority, weight: weight, port: $0.port, target: $0.target) }
    }
}

/// A Service's namespace and name.
public struct ServiceKey: Hashable, Sendable, CustomStringConvertible {
    public var namespace: String
    public var name: String

    public init(namespace: String, name: String) {
        self.namespace = namespace
        self.name = name
    }

    public var description: String { "\(namespace)/\(name)" }
}
