import ClusterDNS
import Foundation
import Glibc
import KubeAPI
import Testing
import TestSupport

/// The server in a network namespace answering real DNS clients: dig (UDP and TCP), busybox
/// nslookup from a pod namespace, glibc's resolver with a pod's resolv.conf (search list,
/// ndots:5) and dnspython. Root: makes network namespaces.
@Suite(.serialized, .ownThreads, .requires(getuid() == 0, "needs root for network namespaces"))
struct RealClientTests {
    static func store() throws -> ClusterRecordStore {
        let store = try ClusterRecordStore(nameserverAddresses: ["10.53.0.1"])
        store.replace(services: [
            Fixtures.service("web"),
            Fixtures.service("db", clusterIP: "None", ports: [ServicePort(name: "pg", port: 5432)]),
            Fixtures.service("many", clusterIP: "None"),
            Fixtures.service("kube-dns", namespace: "kube-system", clusterIP: "10.43.0.10",
                             ports: [ServicePort(name: "dns", protocol: "UDP", port: 53), ServicePort(name: "dns-tcp", protocol: "TCP", port: 53)]),
        ], endpointSlices: [
            Fixtures.slice("db-1", service: "db", endpoints: [Fixtures.endpoint("10.42.0.5", hostname: "db-0"),
                                                              Fixtures.endpoint("10.42.0.6")],
                           ports: [EndpointPort(name: "pg", protocol: "TCP", port: 5432)]),
            Fixtures.slice("many-1", service: "many", endpoints: (1...100).map { Fixtures.endpoint("10.42.1.\($0)") }),
        ])
        return store
    }

    @Test func digOverUDPAndTCP() throws {
        let lab = try DNSLab(addresses: ["10.53.0.1"])
        _ = try lab.server(Self.store())
        #expect(lab.dig(["web.default.svc.cluster.local"]) == "10.43.0.20\n")
        #expect(lab.dig(["+tcp", "web.default.svc.cluster.local"]) == "10.43.0.20\n")
        #expect(lab.dig(["_http._tcp.web.default.svc.cluster.local", "SRV"]) == "0 100 80 web.default.svc.cluster.local.\n")
        #expect(lab.dig(["-x", "10.43.0.20"]) == "web.default.svc.cluster.local.\n")
        #expect(lab.dig(["db-0.db.default.svc.cluster.local"]) == "10.42.0.5\n")
        #expect(Set(lab.dig(["db.default.svc.cluster.local"]).split(separator: "\n")) == ["10.42.0.5", "10.42.0.6"])
        #expect(lab.dig(["_dns._udp.kube-dns.kube-system.svc.cluster.local", "SRV"]) == "0 100 53 kube-dns.kube-system.svc.cluster.local.\n")
        #expect(lab.dig(["dns-version.cluster.local", "TXT"]) == "\"1.1.0\"\n")
        let nx = lab.dig(["nope.default.svc.cluster.local"], short: false)
        #expect(nx.contains("status: NXDOMAIN"))
        #expect(nx.contains("cluster.local.\t\t5\tIN\tSOA\tns.dns.cluster.local. hostmaster.cluster.local."))
        let nodata = lab.dig(["web.default.svc.cluster.local", "AAAA"], short: false)
        #expect(nodata.contains("status: NOERROR") && nodata.contains("ANSWER: 0"))
        // dig's own UDP size (1232 with EDNS) vs plain 512: 100 addresses only fit over TCP,
        // and dig falls back to TCP by itself when it sees TC.
        let big = lab.dig(["+ignore", "+noedns", "many.default.svc.cluster.local"], short: false)
        #expect(big.contains(" tc "))
        #expect(lab.dig(["many.default.svc.cluster.local"]).split(separator: "\n").count == 100)
        // No upstream configured: outside names fail cleanly.
        #expect(lab.dig(["example.org"], short: false).contains("status: SERVFAIL"))
    }

    @Test func busyboxNslookupFromAPodNamespace() throws {
        let lab = try DNSLab(addresses: [])
        try lab.addPod(podAddress: "10.53.0.2", nodeAddress: "10.53.0.1")
        _ = try lab.server(Self.store())
        let out = lab.run(["busybox", "nslookup", "web.default.svc.cluster.local", "10.53.0.1"], inPod: true)
        #expect(out.status == 0, "\(out.output)")
        #expect(out.output.contains("Address: 10.43.0.20"), "\(out.output)")
        let srv = lab.run(["busybox", "nslookup", "-type=SRV", "_pg._tcp.db.default.svc.cluster.local", "10.53.0.1"], inPod: true)
        #expect(srv.output.contains("5432 db-0.db.default.svc.cluster.local"), "\(srv.output)")
        let missing = lab.run(["busybox", "nslookup", "nope.default.svc.cluster.local", "10.53.0.1"], inPod: true)
        #expect(missing.output.contains("NXDOMAIN"), "\(missing.output)")
    }

    /// glibc's stub resolver with the resolv.conf kubelet writes for a pod in `default`: short
    /// names walk the search list (NXDOMAIN for each wrong guess) until the service's name.
    @Test func glibcResolverWithAPodsResolvConf() throws {
        let lab = try DNSLab(addresses: [])
        try lab.addPod(podAddress: "10.53.0.2", nodeAddress: "10.53.0.1")
        _ = try lab.server(Self.store())
        let resolv = "\(lab.root)/resolv.conf"
        try """
            search default.svc.cluster.local svc.cluster.local cluster.local
            nameserver 10.53.0.1
            options ndots:5
            """.write(toFile: resolv, atomically: true, encoding: .utf8)
        // A private mount namespace so the bind mount over /etc/resolv.conf stays ours.
        let script = """
            mount --bind \(resolv) /etc/resolv.conf && \
            getent hosts web && getent hosts kube-dns.kube-system && getent ahostsv4 db-0.db | head -1 && \
            /usr/bin/python3 -c 'import socket; print(socket.gethostbyname("web.default"))'; \
            getent hosts nope || echo missing
            """
        let out = lab.run(["unshare", "-m", "sh", "-c", script], inPod: true)
        let lines = out.output.split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ") }
        #expect(lines.contains("10.43.0.20 web.default.svc.cluster.local"), "\(out.output)")
        #expect(lines.contains("10.43.0.10 kube-dns.kube-system.svc.cluster.local"), "\(out.output)")
        #expect(lines.contains { $0.hasPrefix("10.42.0.5 ") }, "\(out.output)")
        #expect(lines.contains("10.43.0.20"), "\(out.output)")
        #expect(lines.last == "missing", "\(out.output)")
    }

    @Test func dnspythonOverUDPAndTCP() throws {
        let lab = try DNSLab(addresses: ["10.53.0.1"])
        _ = try lab.server(Self.store())
        let script = """
            import dns.message, dns.query, dns.rdatatype, dns.flags
            def ask(name, rdtype, tcp=False, edns=-1):
                q = dns.message.make_query(name, rdtype, use_edns=edns)
                return (dns.query.tcp if tcp else dns.query.udp)(q, "10.53.0.1", timeout=3)
            r = ask("_pg._tcp.db.default.svc.cluster.local", "SRV")
            print("srv", sorted(str(x) for x in r.answer[0]), sorted(str(x) for a in r.additional for x in a))
            r = ask("5.0.42.10.in-addr.arpa", "PTR")
            print("ptr", [str(x) for x in r.answer[0]])
            r = ask("many.default.svc.cluster.local", "A")
            print("udp", bool(r.flags & dns.flags.TC), sum(len(a) for a in r.answer))
            r = ask("many.default.svc.cluster.local", "A", tcp=True)
            print("tcp", bool(r.flags & dns.flags.TC), sum(len(a) for a in r.answer))
            r = ask("nope.cluster.local", "A", edns=0)
            print("nx", dns.rcode.to_text(r.rcode()), r.edns, r.authority[0].rdtype == dns.rdatatype.SOA)
            """
        let out = lab.run(["/usr/bin/python3", "-c", script])
        #expect(out.status == 0, "\(out.output)")
        #expect(out.output.contains("srv ['0 50 5432 10-42-0-6.db.default.svc.cluster.local.', '0 50 5432 db-0.db.default.svc.cluster.local.'] ['10.42.0.5', '10.42.0.6']"), "\(out.output)")
        #expect(out.output.contains("ptr ['db-0.db.default.svc.cluster.local.']"), "\(out.output)")
        #expect(out.output.contains("udp True"), "\(out.output)")
        #expect(out.output.contains("tcp False 100"), "\(out.output)")
        #expect(out.output.contains("nx NXDOMAIN 0 True"), "\(out.output)")
    }

    /// A change in the store shows in the next answer (no restart, no cache in between).
    @Test func updatesAreServedAtOnce() throws {
        let lab = try DNSLab(addresses: ["10.53.0.1"])
        let store = try Self.store()
        _ = try lab.server(store)
        #expect(lab.dig(["api.default.svc.cluster.local"]) == "")
        store.apply(Fixtures.service("api", clusterIP: "10.43.0.77"))
        #expect(lab.dig(["api.default.svc.cluster.local"]) == "10.43.0.77\n")
        store.deleteService(namespace: "default", name: "api")
        #expect(lab.dig(["api.default.svc.cluster.local"], short: false).contains("NXDOMAIN"))
    }
}
