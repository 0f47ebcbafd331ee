import ClusterDNS
import Foundation
import Glibc
import Testing
import TestSupport
@testable import ClusterDNS

/// Forwarding against real resolvers in the lab's namespace: dnsmasq serving a local zone
/// (answers, the cache surviving the upstream's death, SERVFAIL when every upstream is gone,
/// TCP when the upstream truncates), and a hostile upstream sending mismatched and spoofed
/// replies before the real one. Root: network namespaces.
@Suite(.serialized, .ownThreads, .requires(getuid() == 0, "needs root for network namespaces"))
struct ForwarderTests {
    static func store() throws -> ClusterRecordStore {
        let store = try ClusterRecordStore()
        store.replace(services: [Fixtures.service("web"),
                                 Fixtures.service("ext", clusterIP: nil, ports: [], type: "ExternalName",
                                                  externalName: "www.example.org")], endpointSlices: [])
        return store
    }

    @Test func forwardsCachesAndFailsOver() throws {
        let lab = try DNSLab(addresses: ["10.53.0.1", "10.53.0.8", "10.53.0.9"])
        var big = (1...100).map { "host-record=big.example.org,192.0.2.\($0)" }
        big += ["host-record=www.example.org,192.0.2.80", "host-record=api.example.org,192.0.2.81",
                "host-record=later.example.org,192.0.2.82", "local=/example.org/"]
        let upstream = try lab.dnsmasq(address: "10.53.0.9", big)
        // 10.53.0.8 has nothing listening: every attempt there is refused at once (ICMP).
        let server = try lab.server(Self.store(), upstreams: ["10.53.0.8", "10.53.0.9"])
        #expect(lab.dig(["api.example.org"]) == "192.0.2.81\n")
        #expect(lab.dig(["+tcp", "API.Example.org"]) == "192.0.2.81\n")
        // ExternalName: the CNAME, then the upstream's address for its target.
        #expect(lab.dig(["ext.default.svc.cluster.local"]) == "www.example.org.\n192.0.2.80\n")
        // Too big for one datagram upstream: the forwarder asks again over TCP; the client
        // gets TC over UDP and everything over TCP.
        #expect(lab.dig(["+tcp", "big.example.org"]).split(separator: "\n").count == 100)
        #expect(lab.dig(["+ignore", "+noedns", "big.example.org"], short: false).contains(" tc "))
        #expect((server.forwarderStatistics?.tcpRetries ?? 0) >= 1)
        // Negative answers come back with the upstream's code.
        #expect(lab.dig(["nothing.example.org"], short: false).contains("status: NXDOMAIN"))

        // The upstream dies: cached answers are still served, with their TTL counting down.
        lab.kill(upstream)
        let cached = lab.dig(["api.example.org"], short: false)
        #expect(cached.contains("192.0.2.81"), "\(cached)")
        #expect(!cached.contains("\t300\tIN"), "TTLs must be capped at 30 s and aged: \(cached)")
        // What was never asked now fails: SERVFAIL once both attempts failed.
        let failed = lab.dig(["later.example.org"], short: false)
        #expect(failed.contains("status: SERVFAIL"), "\(failed)")
        #expect((server.forwarderStatistics?.failed ?? 0) >= 1)
    }

    /// A hostile upstream (Python, in the lab): for each query it first sends a reply with the
    /// wrong id, then one with our id but another question, both claiming 6.6.6.6, then the
    /// real answer. It also logs the source port and id of every query it gets.
    @Test func spoofedRepliesAreIgnoredAndQueriesAreRandomized() throws {
        let lab = try DNSLab(addresses: ["10.53.0.1", "10.53.0.7"])
        let script = """
            import socket, struct, sys
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.bind(("10.53.0.7", 53))
            log = open(sys.argv[1], "a", buffering=1)
            def name(q):
                i, parts = 12, []
                while q[i]:
                    parts.append(q[i+1:i+1+q[i]]); i += 1 + q[i]
                return i + 1
            def reply(qid, question, addr):
                header = struct.pack(">HHHHHH", qid, 0x8180, 1, 1, 0, 0)
                answer = b"\\xc0\\x0c" + struct.pack(">HHIH", 1, 1, 300, 4) + socket.inet_aton(addr)
                return header + question + answer
            while True:
                q, peer = s.recvfrom(4096)
                qid = struct.unpack(">H", q[:2])[0]
                end = name(q) + 4
                question = q[12:end]
                log.write("%d %d\\n" % (peer[1], qid))
                s.sendto(reply(qid ^ 0x5555, question, "6.6.6.6"), peer)
                other = b"\\x05other" + question[question[0] + 1:]
                s.sendto(reply(qid, other, "6.6.6.6"), peer)
                s.sendto(reply(qid, question, "192.0.2.1"), peer)
            """
        let path = "\(lab.root)/spoofer.py"
        try script.write(toFile: path, atomically: true, encoding: .utf8)
        let log = "\(lab.root)/queries.log"
        _ = try lab.spawn(["/usr/bin/python3", path, log], log: "\(lab.root)/spoofer.out")
        let server = try lab.server(Self.store(), upstreams: ["10.53.0.7"])
        #expect(lab.waitUntil { lab.dig(["probe.example.org"]) == "192.0.2.1\n" })
        for i in 0..<40 {
            let answer = lab.dig(["name-\(i).example.org"])
            #expect(answer == "192.0.2.1\n", "name-\(i): \(answer)")
        }
        // Cached, still the real answer.
        #expect(lab.dig(["name-3.example.org"]) == "192.0.2.1\n")
        #expect((server.forwarderStatistics?.ignoredReplies ?? 0) >= 80)
        let lines = (try String(contentsOfFile: log, encoding: .utf8)).split(separator: "\n")
        let ports = Set(lines.map { $0.split(separator: " ")[0] })
        let ids = Set(lines.map { $0.split(separator: " ")[1] })
        #expect(lines.count >= 41)
        #expect(ports.count >= lines.count - 3, "source ports repeat: \(ports.count) of \(lines.count)")
        #expect(ids.count >= lines.count - 3, "ids repeat: \(ids.count) of \(lines.count)")
    }

    /// A silent upstream (it reads queries and never answers): the first query times out there
    /// and moves on; later queries start at the upstream that answered.
    @Test func aSilentUpstreamIsPassedOver() throws {
        let lab = try DNSLab(addresses: ["10.53.0.1", "10.53.0.6", "10.53.0.9"])
        _ = try lab.dnsmasq(address: "10.53.0.9", (0..<5).map { "host-record=n\($0).example.org,192.0.2.\($0 + 1)" })
        let script = """
            import socket, sys
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.bind(("10.53.0.6", 53))
            log = open(sys.argv[1], "a", buffering=1)
            while True:
                s.recvfrom(4096)
                log.write("query\\n")
            """
        let path = "\(lab.root)/silent.py"
        try script.write(toFile: path, atomically: true, encoding: .utf8)
        let log = "\(lab.root)/silent.log"
        FileManager.default.createFile(atPath: log, contents: nil)
        _ = try lab.spawn(["/usr/bin/python3", path, log], log: "\(lab.root)/silent.out")
        #expect(lab.waitUntil { lab.run(["sh", "-c", "ss -uln | grep -q 10.53.0.6:53"]).status == 0 })
        _ = try lab.server(Self.store(), upstreams: ["10.53.0.6", "10.53.0.9"], attemptTimeoutMs: 400)
        for i in 0..<5 {
            #expect(lab.dig(["n\(i).example.org"]) == "192.0.2.\(i + 1)\n")
        }
        let queries = (try String(contentsOfFile: log, encoding: .utf8)).split(separator: "\n").count
        #expect(queries == 1, "the silent upstream got \(queries) queries")
    }
}
