import KubeAPI
import NodeNetwork
import Testing
@testable import ServiceProxy

/// Hostile and odd input: every Service or EndpointSlice the proxy cannot program safely is
/// refused with a reason that names the field, and nothing of it reaches the table.
@Suite("Service and EndpointSlice validation")
struct ValidationTests {
    let cidr = IPv4Subnet("10.96.0.0/16")!
    let name = ServiceName(namespace: "default", name: "web")

    func verdict(_ service: Service) -> ServiceVerdict {
        ServiceValidation.validate(service, as: name, serviceCIDR: cidr)
    }

    func reason(_ service: Service) -> String? {
        if case .rejected(let reason) = verdict(service) { return reason }
        return nil
    }

    @Test func aNodePortServiceIsReadInFull() {
        let service = Objects.service("web", clusterIP: "10.96.0.10",
                                      ports: [Objects.port(80, name: "http", nodePort: 30080), Objects.port(53, name: "dns", protocol: "UDP")],
                                      type: "NodePort", affinityTimeout: 60, externalTrafficPolicy: "Local")
        let expected = ServiceInfo(service: name, clusterIP: IPv4Address("10.96.0.10")!,
                                   ports: [ServicePortInfo(name: "http", proto: .tcp, port: 80, nodePort: 30080),
                                           ServicePortInfo(name: "dns", proto: .udp, port: 53, nodePort: nil)],
                                   affinityTimeout: 60, externalPolicyLocal: true, internalPolicyLocal: false)
        #expect(verdict(service) == .proxied(expected))
        // Defaults: TCP, no affinity, Cluster policies; ClientIP without a timeout gets 3 hours.
        var plain = Objects.service("web", clusterIP: "10.96.0.11", ports: [Objects.port(80, protocol: nil)], sessionAffinity: "ClientIP")
        plain.spec.clusterIPs = nil
        guard case .proxied(let info) = verdict(plain) else { Issue.record("not proxied"); return }
        #expect(info.ports == [ServicePortInfo(name: "", proto: .tcp, port: 80, nodePort: nil)])
        #expect(info.affinityTimeout == 10800 && !info.externalPolicyLocal && !info.internalPolicyLocal)
    }

    @Test func loadBalancerAndExternalAddressesAreReadOnceEachAndGarbageIsRefused() {
        var lb = Objects.service("web", clusterIP: "10.96.0.10", ports: [Objects.port(80, nodePort: 30080)], type: "LoadBalancer")
        lb.spec.externalIPs = ["203.0.113.9"]
        lb.status = ServiceStatus(loadBalancer: LoadBalancerStatus(ingress: [
            LoadBalancerIngress(ip: "192.168.77.1", ipMode: "VIP"), LoadBalancerIngress(ip: "192.168.77.2"),
            LoadBalancerIngress(ip: "203.0.113.9"),  // also an external IP: once
            LoadBalancerIngress(ip: "192.168.77.3", ipMode: "Proxy"),  // a proxy in front: not DNATed here
            LoadBalancerIngress(hostname: "lb.example.com"), LoadBalancerIngress(ip: "2001:db8::1"),
        ]))
        guard case .proxied(let info) = verdict(lb) else { Issue.record("not proxied: \(verdict(lb))"); return }
        #expect(info.externalAddresses.map(\.description) == ["203.0.113.9", "192.168.77.1", "192.168.77.2"])
        #expect(info.externallyAccessible(info.ports[0]))

        // Status addresses count only for a LoadBalancer; external IPs for any type.
        var clusterIP = lb
        clusterIP.spec.type = "ClusterIP"
        clusterIP.spec.ports = [Objects.port(80)]
        guard case .proxied(let plain) = verdict(clusterIP) else { Issue.record("not proxied"); return }
        #expect(plain.externalAddresses.map(\.description) == ["203.0.113.9"])

        var garbled = lb
        garbled.status?.loadBalancer?.ingress?[1].ip = "192.168.77.256"
        #expect(reason(garbled) == "status.loadBalancer.ingress[1].ip \"192.168.77.256\": not an IP address")
        var hijack = lb
        hijack.spec.externalIPs = ["10.96.0.1"]
        #expect(reason(hijack) == "spec.externalIPs[0] 10.96.0.1: inside the service CIDR 10.96.0.0/16")
        var flood = lb
        flood.spec.externalIPs = (0..<300).map { "198.51.\($0 / 256).\($0 % 256)" }
        #expect(reason(flood) == "304 external and load-balancer addresses, more than the 256 this proxy accepts")
    }

    @Test func sourceRangesAreReadForLoadBalancersOnlyAndGarbageIsRefused() {
        var lb = Objects.service("web", clusterIP: "10.96.0.10", ports: [Objects.port(80, nodePort: 30080)], type: "LoadBalancer")
        lb.spec.externalIPs = ["203.0.113.9"]
        lb.spec.loadBalancerSourceRanges = [" 10.0.0.5/8 ", "192.168.1.0/24", "10.0.0.0/8", "2001:db8::/32"]
        lb.status = ServiceStatus(loadBalancer: LoadBalancerStatus(ingress: [LoadBalancerIngress(ip: "192.168.77.1", ipMode: "VIP")]))
        guard case .proxied(let info) = verdict(lb) else { Issue.record("not proxied: \(verdict(lb))"); return }
        // Host bits cleared as Go's ParseCIDR does, each range once, IPv6 ones left to an IPv6 proxy.
        #expect(info.sourceRanges.map(\.description) == ["10.0.0.0/8", "192.168.1.0/24"])
        #expect(info.loadBalancerAddresses.map(\.description) == ["192.168.77.1"])
        // The firewall guards the load-balancer address, not the external IP.
        let program = ServiceProgram.build(info, slices: [], nodeName: "n1", clusterCIDR: IPv4Subnet("10.42.0.0/16")!, table: "t-0")
        let firewalled = program.elements.keys.filter { $0.map == .firewallIPs }.map(\.text)
        #expect(firewalled == ["192.168.77.1 . tcp . 80"])
        #expect(program.chains.first { $0.name.hasPrefix("firewall-") }?.rules.map(\.text) ==
                ["ip saddr 10.0.0.0/8 return", "ip saddr 192.168.1.0/24 return", "drop"])

        var onlyIPv6 = lb
        onlyIPv6.spec.loadBalancerSourceRanges = ["2001:db8::/32"]
        guard case .proxied(let closed) = verdict(onlyIPv6) else { Issue.record("not proxied"); return }
        #expect(closed.sourceRanges.map(\.description) == ["0.0.0.0/32"])
        var nodePort = lb
        nodePort.spec.type = "NodePort"
        guard case .proxied(let open) = verdict(nodePort) else { Issue.record("not proxied"); return }
        #expect(open.sourceRanges.isEmpty)

        var garbled = lb
        garbled.spec.loadBalancerSourceRanges = ["10.0.0.0/33"]
        #expect(reason(garbled) == "spec.loadBalancerSourceRanges[0] \"10.0.0.0/33\": not a CIDR")
        garbled.spec.loadBalancerSourceRanges = ["everyone"]
        #expect(reason(garbled) == "spec.loadBalancerSourceRanges[0] \"everyone\": not a CIDR")
        var flood = lb
        flood.spec.loadBalancerSourceRanges = (0..<300).map { "10.\($0 / 256).\($0 % 256).0/24" }
        #expect(reason(flood) == "spec.loadBalancerSourceRanges: 300 ranges, more than the 256 this proxy accepts")
    }

    @Test func servicesTheProxyDoesNotHandleAreIgnoredNotRefused() {
        let headless = Objects.service("web", clusterIP: "None", ports: [Objects.port(80)])
        let pending = Objects.service("web", clusterIP: nil, ports: [Objects.port(80)])
        let external = Objects.service("web", clusterIP: nil, ports: [Objects.port(80)], type: "ExternalName")
        let ipv6 = Objects.service("web", clusterIP: "fd00::10", ports: [Objects.port(80)])
        for service in [headless, pending, external, ipv6] {
            guard case .ignored = verdict(service) else {
                Issue.record("\(String(describing: service.spec.clusterIP)) \(String(describing: service.spec.type)): \(verdict(service))")
                continue
            }
        }
    }

    @Test func impossibleServicesAreRefusedWithTheField() {
        let bad: [(Service, String)] = [
            (Objects.service("web", clusterIP: "10.96.0.10", ports: [Objects.port(0)]), "spec.ports[0].port 0: must be between 1 and 65535"),
            (Objects.service("web", clusterIP: "10.96.0.10", ports: [Objects.port(70000)]), "spec.ports[0].port 70000"),
            (Objects.service("web", clusterIP: "10.96.0.10", ports: [Objects.port(80, protocol: "ICMP")]),
             "spec.ports[0].protocol \"ICMP\": must be TCP, UDP or SCTP"),
            (Objects.service("web", clusterIP: "10.96.0.10", ports: [Objects.port(80, protocol: "tcp")]), "spec.ports[0].protocol \"tcp\""),
            (Objects.service("web", clusterIP: "10.0.0.10", ports: [Objects.port(80)]),
             "spec.clusterIP 10.0.0.10: outside the service CIDR 10.96.0.0/16"),
            (Objects.service("web", clusterIP: "10.96.0.1; flush ruleset", ports: [Objects.port(80)]),
             "spec.clusterIP \"10.96.0.1; flush ruleset\": not an IPv4 address"),
            (Objects.service("web", clusterIP: "10.96.0.010", ports: [Objects.port(80)]), "not an IPv4 address"),
            (Objects.service("web", clusterIP: "10.96.0.10", ports: (1...5000).map { Objects.port(Int32($0), name: "p\($0)") }),
             "spec.ports: 5000 ports, more than the 256 this proxy accepts"),
            (Objects.service("web", clusterIP: "10.96.0.10", ports: []), "spec.ports: a proxied service needs at least one port"),
            (Objects.service("web", clusterIP: "10.96.0.10", ports: [Objects.port(80, name: "a"), Objects.port(80, name: "b")]),
             "port 80/TCP is listed twice"),
            (Objects.service("web", clusterIP: "10.96.0.10", ports: [Objects.port(80), Objects.port(81)]),
             "spec.ports[0].name: required when a service has more than one port"),
            (Objects.service("web", clusterIP: "10.96.0.10", ports: [Objects.port(80, name: "a"), Objects.port(81, name: "a")]),
             "spec.ports[1].name \"a\": duplicate"),
            (Objects.service("web", clusterIP: "10.96.0.10", ports: [Objects.port(80, name: "Web/../x")]), "spec.ports[0].name \"Web/../x\""),
            (Objects.service("web", clusterIP: "10.96.0.10", ports: [Objects.port(80, nodePort: 30080)]),
             "only NodePort and LoadBalancer services have node ports"),
            (Objects.service("web", clusterIP: "10.96.0.10", ports: [Objects.port(80, nodePort: 70000)], type: "NodePort"),
             "spec.ports[0].nodePort 70000"),
            (Objects.service("web", clusterIP: "10.96.0.10", ports: [Objects.port(80, name: "a", nodePort: 30080),
                                                                     Objects.port(81, name: "b", nodePort: 30080)], type: "NodePort"),
             "spec.ports[1].nodePort 30080/TCP: used twice"),
            (Objects.service("web", clusterIP: "10.96.0.10", ports: [Objects.port(80)], affinityTimeout: 0),
             "timeoutSeconds 0: must be between 1 and 86400"),
            (Objects.service("web", clusterIP: "10.96.0.10", ports: [Objects.port(80)], affinityTimeout: 90000), "timeoutSeconds 90000"),
            (Objects.service("web", clusterIP: "10.96.0.10", ports: [Objects.port(80)], sessionAffinity: "Sticky"),
             "spec.sessionAffinity \"Sticky\": must be None or ClientIP"),
            (Objects.service("web", clusterIP: "10.96.0.10", ports: [Objects.port(80)], externalTrafficPolicy: "Global"),
             "spec.externalTrafficPolicy \"Global\": must be Cluster or Local"),
            (Objects.service("web", clusterIP: "10.96.0.10", ports: [Objects.port(80)], internalTrafficPolicy: "local"),
             "spec.internalTrafficPolicy \"local\""),
            (Objects.service("web", clusterIP: "10.96.0.10", ports: [Objects.port(80)], type: "Bogus"), "spec.type \"Bogus\""),
        ]
        for (service, expected) in bad {
            let reason = reason(service)
            #expect(reason?.contains(expected) == true, "expected \(expected), got \(String(describing: reason))")
        }
        var mismatch = Objects.service("web", clusterIP: "10.96.0.10", ports: [Objects.port(80)])
        mismatch.spec.clusterIPs = ["10.96.0.11"]
        #expect(reason(mismatch)?.contains("spec.clusterIPs[0] \"10.96.0.11\": must equal spec.clusterIP") == true)
    }

    @Test func namesMustBeKubernetesNamesAndAreQuotedInReasons() {
        let cases: [(String?, String?, String)] = [
            (nil, "default", "metadata.name: missing"),
            ("web", nil, "metadata.namespace: missing"),
            ("Web", "default", "metadata.name \"Web\": a DNS-1035 label"),
            ("1web", "default", "metadata.name \"1web\": a DNS-1035 label"),
            ("web\n\u{1b}[31m", "default", "metadata.name \"web\\u{a}\\u{1b}[31m\""),
            ("web", "kube system", "metadata.namespace \"kube system\""),
            (String(repeating: "a", count: 64), "default", "must be no more than 63 characters"),
        ]
        for (serviceName, namespace, expected) in cases {
            var service = Objects.service("web", clusterIP: "10.96.0.10", ports: [Objects.port(80)])
            service.metadata.name = serviceName
            service.metadata.namespace = namespace
            guard case .failure(let failure) = ServiceValidation.name(of: service) else {
                Issue.record("accepted \(String(describing: serviceName))")
                continue
            }
            #expect(failure.reason.contains(expected), "\(failure.reason)")
        }
        #expect(ServiceValidation.quoted(String(repeating: "x", count: 100)).hasSuffix("\"..."))
    }

    @Test func slicesKeepTheirEndpointsAndPorts() {
        let slice = Objects.slice("web-abc", service: "web",
                                  ports: [Objects.slicePort(8080, name: "http"), Objects.slicePort(53, name: "dns", protocol: "UDP"),
                                          EndpointPort(name: "all", protocol: "TCP", port: nil)],
                                  endpoints: [Objects.endpoint("10.42.0.5", node: "n1"),
                                              Objects.endpoint("10.42.1.7", node: "n2", ready: false, serving: true, terminating: true)])
        let verdict = SliceValidation.validate(slice, as: SliceName(namespace: "default", name: "web-abc"), serviceCIDR: cidr)
        let expected = SliceInfo(service: name,
                                 ports: [.init(name: "http", proto: .tcp, port: 8080), .init(name: "dns", proto: .udp, port: 53)],
                                 endpoints: [.init(address: IPv4Address("10.42.0.5")!, ready: true, serving: true, terminating: false, nodeName: "n1"),
                                             .init(address: IPv4Address("10.42.1.7")!, ready: false, serving: true, terminating: true, nodeName: "n2")])
        #expect(verdict == .accepted(expected))
    }

    @Test func garbageSlicesAreRefusedAndForeignOnesIgnored() {
        func check(_ slice: EndpointSlice) -> SliceVerdict {
            SliceValidation.validate(slice, as: SliceName(namespace: "default", name: "web-abc"), serviceCIDR: cidr)
        }
        let port = [Objects.slicePort(8080)]
        let refused: [([Endpoint], [EndpointPort], String)] = [
            ([Objects.endpoint("10.0.0.300", node: nil)], port, "endpoints[0].addresses[0] \"10.0.0.300\": not an IPv4 address"),
            ([Objects.endpoint("abc; flush ruleset", node: nil)], port, "not an IPv4 address"),
            ([Objects.endpoint("fd00::1", node: nil)], port, "not an IPv4 address"),
            ([Objects.endpoint("127.0.0.1", node: nil)], port, "127.0.0.1: loopback addresses cannot be endpoints"),
            ([Objects.endpoint("0.0.0.0", node: nil)], port, "unspecified"),
            ([Objects.endpoint("169.254.169.254", node: nil)], port, "link-local"),
            ([Objects.endpoint("224.0.0.1", node: nil)], port, "multicast"),
            ([Objects.endpoint("10.96.0.10", node: nil)], port, "inside the service CIDR 10.96.0.0/16"),
            ([Endpoint(addresses: [])], port, "endpoints[0].addresses: empty"),
            ([Objects.endpoint("10.42.0.5", node: "Node_1")], port, "endpoints[0].nodeName \"Node_1\""),
            ((0..<1001).map { Objects.endpoint("10.42.\($0 / 250).\($0 % 250 + 1)", node: nil) }, port, "endpoints: 1001"),
            ([Objects.endpoint("10.42.0.5", node: nil)], [Objects.slicePort(0)], "ports[0].port 0"),
            ([Objects.endpoint("10.42.0.5", node: nil)], [Objects.slicePort(8080, protocol: "ICMP")], "ports[0].protocol \"ICMP\""),
            ([Objects.endpoint("10.42.0.5", node: nil)], [Objects.slicePort(8080, name: "HTTP")], "ports[0].name \"HTTP\""),
            ([Objects.endpoint("10.42.0.5", node: nil)], [Objects.slicePort(80), Objects.slicePort(81)], "is listed twice"),
        ]
        for (endpoints, ports, expected) in refused {
            let verdict = check(Objects.slice("web-abc", service: "web", ports: ports, endpoints: endpoints))
            guard case .rejected(let reason) = verdict else {
                Issue.record("not refused (\(expected)): \(verdict)")
                continue
            }
            #expect(reason.contains(expected), "\(reason)")
        }
        var badLabel = Objects.slice("web-abc", service: "web;drop", ports: port, endpoints: [])
        guard case .rejected(let reason) = check(badLabel) else { Issue.record("bad label accepted"); return }
        #expect(reason.contains("label kubernetes.io/service-name \"web;drop\""))
        badLabel.metadata.labels = [:]
        guard case .ignored = check(badLabel) else { Issue.record("unlabelled slice not ignored"); return }
        for type in ["IPv6", "FQDN"] {
            guard case .ignored = check(Objects.slice("web-abc", service: "web", ports: port, endpoints: [], addressType: type)) else {
                Issue.record("\(type) not ignored")
                continue
            }
        }
        guard case .rejected = check(Objects.slice("web-abc", service: "web", ports: port, endpoints: [], addressType: "IPX")) else {
            Issue.record("addressType IPX accepted")
            return
        }
    }

    @Test func configurationMistakesAreRefused() {
        func config(_ change: (inout ServiceProxyConfig) -> Void) -> ServiceProxyConfig {
            var config = ServiceProxyConfig(nodeName: "n1", nodeAddresses: [IPv4Address("192.168.1.10")!],
                                            clusterCIDR: IPv4Subnet("10.42.0.0/16")!, serviceCIDR: IPv4Subnet("10.96.0.0/16")!)
            change(&config)
            return config
        }
        #expect(throws: Never.self) { try config { _ in }.validate() }
        let mistakes: [(ServiceProxyConfig, String)] = [
            (config { $0.table = "Swiftlet Proxy" }, "table name"),
            (config { $0.table = "x; flush ruleset" }, "table name"),
            (config { $0.nodeName = "" }, "node name"),
            (config { $0.serviceCIDR = IPv4Subnet("10.42.128.0/20")! }, "overlaps the cluster CIDR"),
            (config { $0.clusterCIDR = IPv4Subnet("0.0.0.0/0")! }, "cluster CIDR 0.0.0.0/0"),
            (config { $0.masqueradeMark = 0x4001 }, "single bit"),
            (config { $0.nodeAddresses = [IPv4Address("127.0.0.1")!] }, "loopback"),
        ]
        for (config, expected) in mistakes {
            do {
                try config.validate()
                Issue.record("accepted: \(expected)")
            } catch {
                #expect("\(error)".contains(expected), "\(error)")
            }
        }
    }
}
