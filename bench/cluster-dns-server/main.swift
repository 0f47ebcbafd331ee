// bench/cluster-dns.sh: the agent's cluster DNS server on its own, with the records of a JSON
// file, so dnsperf can load it beside unbound and dnsmasq. Not part of the agent.
//
//   cluster-dns-server --listen 10.99.0.1:53 [--netns /run/netns/X] --records FILE
//                      [--resolv-conf FILE] [--workers N] [--zone cluster.local]
// FILE: {"services": [v1.Service...], "endpointSlices": [discovery.k8s.io/v1 EndpointSlice...]}
// Runs until SIGTERM or SIGINT; prints "ready" once serving.
import ClusterDNS
import Foundation
import Glibc
import KubeAPI

struct Records: Decodable {
    var services: [Service]
    var endpointSlices: [EndpointSlice]
}

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("cluster-dns-server: \(message)\n".utf8))
    exit(2)
}

var listen: [SocketAddress] = []
var netns: String?
var recordsPath: String?
var resolvConf = "/etc/resolv.conf"
var workers = 1
var zone = "cluster.local"
var arguments = CommandLine.arguments.dropFirst().makeIterator()
while let flag = arguments.next() {
    guard let value = arguments.next() else { fail("\(flag) needs a value") }
    switch flag {
    case "--listen":
        guard let colon = value.lastIndex(of: ":"), let port = UInt16(value[value.index(after: colon)...]) else {
            fail("--listen wants ADDRESS:PORT, got \(value)")
        }
        do { listen.append(try SocketAddress(host: String(value[..<colon]), port: port)) } catch { fail("\(error)") }
    case "--netns": netns = value
    case "--records": recordsPath = value
    case "--resolv-conf": resolvConf = value
    case "--workers": workers = Int(value) ?? 1
    case "--zone": zone = value
    default: fail("unknown flag \(flag)")
    }
}
guard !listen.isEmpty else { fail("--listen is required") }
do {
    let store = try ClusterRecordStore(zone: zone)
    if let recordsPath {
        let data = try Data(contentsOf: URL(fileURLWithPath: recordsPath))
        let records = try JSONDecoder().decode(Records.self, from: data)
        store.replace(services: records.services, endpointSlices: records.endpointSlices)
    } else {
        store.markSynced()
    }
    let config = DNSServerConfig(listen: listen, networkNamespace: netns, udpWorkers: workers,
                                 upstream: UpstreamConfig(resolvConf: resolvConf))
    let server = DNSServer(config: config, records: store)
    try server.start()
    var blocked = sigset_t()
    sigemptyset(&blocked)
    sigaddset(&blocked, SIGTERM)
    sigaddset(&blocked, SIGINT)
    pthread_sigmask(SIG_BLOCK, &blocked, nil)
    print("ready udp=\(server.udpAddresses) tcp=\(server.tcpAddresses) upstreams=\(server.upstreams) names=\(store.snapshot.nameCount)")
    fflush(nil)
    var signal: Int32 = 0
    sigwait(&blocked, &signal)
    server.stop()
} catch {
    fail("\(error)")
}
