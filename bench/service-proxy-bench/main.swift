// The service proxy's rule-update cost against kube-proxy-style nft text through libnftables,
// in one run. Driven by bench/service-proxy.sh, which makes the namespaces; see there.
//
// Usage:
//   service-proxy-bench rules OURS_NETNS PEER_NETNS SINGLE_NETNS SERVICES ENDPOINTS_PER_SERVICE ROUNDS
//     Programs SERVICES services of ENDPOINTS_PER_SERVICE endpoints each with ServiceProxy in
//     OURS_NETNS and times its full and one-service syncs; the same with all services in one
//     table (shards: 1) in SINGLE_NETNS; writes the same ruleset as nft text (what kube-proxy's
//     nftables mode writes) through libnftables in PEER_NETNS and times a full regeneration and
//     a one-service change there. Prints markdown table rows.
//   service-proxy-bench program NETNS SERVICES ENDPOINTS_PER_SERVICE CLUSTER_IP POD_IP [SHARDS]
//     Programs SERVICES filler services plus CLUSTER_IP:80 -> POD_IP:8080 and exits, leaving
//     the table for the data-path benchmark.
import CShims
import Glibc
import KubeAPI
import NodeNetwork
import ServiceProxy

func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) * 1e3 + Double(ts.tv_nsec) / 1e6
}

func fail(_ message: String) -> Never {
    let text = "service-proxy-bench: \(message)\n"
    _ = text.withCString { write(2, $0, strlen($0)) }
    exit(1)
}

func percentile(_ values: [Double], _ p: Double) -> Double {
    let sorted = values.sorted()
    guard !sorted.isEmpty else { return 0 }
    return sorted[Int((p / 100 * Double(sorted.count - 1)).rounded())]
}

func openNetns(_ name: String) -> Int32 {
    let fd = open("/run/netns/\(name)", O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { fail("open /run/netns/\(name): \(String(cString: strerror(errno)))") }
    return fd
}

let serviceCIDR = IPv4Subnet("10.96.0.0/12")!
let clusterCIDR = IPv4Subnet("10.64.0.0/11")!

/// A distinct pod address in 10.64.0.0/11 for every index (never .0 or .255).
func endpointIP(_ index: Int) -> String {
    let block = index / 254
    return "10.\(64 + block / 256).\(block % 256).\(index % 254 + 1)"
}

/// Service i: ClusterIP, port 80 -> 8080, endpoints i*m ..< (i+1)*m (a third of them local).
func objects(services: Int, endpoints: Int, generation: [Int: Int] = [:]) -> ([Service], [EndpointSlice]) {
    var result: ([Service], [EndpointSlice]) = ([], [])
    for i in 0..<services {
        let name = "svc-\(i)"
        result.0.append(Service(metadata: ObjectMeta(name: name, namespace: "bench"),
                                spec: ServiceSpec(ports: [ServicePort(name: "http", protocol: "TCP", port: 80, targetPort: .int(8080))],
                                                  clusterIP: "10.96.\(i / 250).\(i % 250 + 1)")))
        result.1.append(slice(i, endpoints: endpoints, generation: generation[i] ?? 0))
    }
    return result
}

func slice(_ i: Int, endpoints: Int, generation: Int) -> EndpointSlice {
    let addresses = (0..<endpoints).map { k -> Endpoint in
        // A new generation replaces the service's first endpoint with another address.
        let index = k == 0 && generation > 0 ? 1_000_000 + i * 64 + generation % 64 : i * endpoints + k
        return Endpoint(addresses: [endpointIP(index)], conditions: EndpointConditions(ready: true),
                        nodeName: k % 3 == 0 ? "n1" : "n2")
    }
    return EndpointSlice(metadata: ObjectMeta(name: "svc-\(i)-1", namespace: "bench",
                                              labels: [EndpointSlice.serviceNameLabel: "svc-\(i)"]),
                         endpoints: addresses, ports: [EndpointPort(name: "http", protocol: "TCP", port: 8080)])
}

func proxy(_ netns: Int32, shards: Int = 16) -> ServiceProxy {
    do {
        return try ServiceProxy(config: ServiceProxyConfig(nodeName: "n1", nodeAddresses: [IPv4Address("192.168.200.1")!],
                                                           clusterCIDR: clusterCIDR, serviceCIDR: serviceCIDR, netns: netns,
                                                           shards: shards))
    } catch { fail("ServiceProxy: \(error)") }
}

func row(_ what: String, _ values: [Double], baseline: Double? = nil) {
    let p50 = percentile(values, 50), p95 = percentile(values, 95)
    let ratio = baseline.map { String(format: "%.2fx", p50 / $0) } ?? "1.00x"
    print("| \(what) | \(values.count) | \(String(format: "%.1f", p50)) | \(String(format: "%.1f", p95)) | \(ratio) |")
}

// MARK: kube-proxy-style nft text (the peer)

/// The same ruleset as nft text, shaped as kube-proxy's nftables mode writes it on a full sync:
/// base chains and maps refreshed, maps flushed, every service and endpoint chain added,
/// flushed and refilled, every element added again.
func peerText(services: Int, endpoints: Int, only: Int? = nil, generation: [Int: Int] = [:]) -> String {
    let t = "ip kube-proxy"
    var lines: [String] = []
    if only == nil {
        lines += [
            "add table \(t)",
            "add chain \(t) nat-prerouting { type nat hook prerouting priority dstnat; policy accept; }",
            "add chain \(t) nat-output { type nat hook output priority -100; policy accept; }",
            "add chain \(t) nat-postrouting { type nat hook postrouting priority srcnat; policy accept; }",
            "flush chain \(t) nat-prerouting", "flush chain \(t) nat-output", "flush chain \(t) nat-postrouting",
            "add chain \(t) services", "flush chain \(t) services",
            "add chain \(t) mark-for-masquerade", "flush chain \(t) mark-for-masquerade",
            "add chain \(t) masquerading", "flush chain \(t) masquerading",
            "add map \(t) service-ips { type ipv4_addr . inet_proto . inet_service : verdict; }",
            "flush map \(t) service-ips",
            "add rule \(t) nat-prerouting jump services", "add rule \(t) nat-output jump services",
            "add rule \(t) nat-postrouting jump masquerading",
            "add rule \(t) mark-for-masquerade meta mark set meta mark or 0x4000",
            "add rule \(t) masquerading meta mark & 0x4000 == 0 return",
            "add rule \(t) masquerading meta mark set meta mark xor 0x4000",
            "add rule \(t) masquerading masquerade fully-random",
            "add rule \(t) services ip daddr . meta l4proto . th dport vmap @service-ips",
        ]
    }
    for i in only.map({ [$0] }) ?? Array(0..<services) {
        let ip = "10.96.\(i / 250).\(i % 250 + 1)"
        let chain = "service-bench/svc-\(i)/tcp/http"
        lines += ["add chain \(t) \(chain)", "flush chain \(t) \(chain)",
                  "add rule \(t) \(chain) ip daddr \(ip) tcp dport 80 ip saddr != \(clusterCIDR) jump mark-for-masquerade"]
        var targets: [String] = []
        for k in 0..<endpoints {
            let gen = generation[i] ?? 0
            let index = k == 0 && gen > 0 ? 1_000_000 + i * 64 + gen % 64 : i * endpoints + k
            let address = endpointIP(index)
            let endpoint = "endpoint-bench/svc-\(i)/tcp/http__\(address)/8080"
            targets.append(endpoint)
            lines += ["add chain \(t) \(endpoint)", "flush chain \(t) \(endpoint)",
                      "add rule \(t) \(endpoint) ip saddr \(address) jump mark-for-masquerade",
                      "add rule \(t) \(endpoint) meta l4proto tcp dnat to \(address):8080"]
        }
        let vmap = targets.enumerated().map { "\($0.offset) : goto \($0.element)" }.joined(separator: ", ")
        lines.append("add rule \(t) \(chain) numgen random mod \(endpoints) vmap { \(vmap) }")
        if only != nil { lines.append("delete element \(t) service-ips { \(ip) . tcp . 80 }") }
        lines.append("add element \(t) service-ips { \(ip) . tcp . 80 : goto \(chain) }")
    }
    return lines.joined(separator: "\n") + "\n"
}

func nft(_ context: OpaquePointer, _ netns: Int32, _ text: String) {
    var output: UnsafePointer<CChar>? = nil, error: UnsafePointer<CChar>? = nil
    guard sl_nft_run(context, netns, text, &output, &error) == 0 else {
        fail("nft: \(error.map { String(cString: $0) } ?? "?")")
    }
}

// MARK: Commands

/// Full syncs and one-service syncs of a ServiceProxy (update + sync, an endpoint replaced).
func measure(_ sp: ServiceProxy, services: Int, endpoints: Int, rounds: Int, fullRounds: Int? = nil) async -> (first: Double, full: [Double], partial: [Double], commands: Int) {
    let (svcs, slices) = objects(services: services, endpoints: endpoints)
    await sp.replaceAll(services: svcs, slices: slices)
    var start = now()
    do { try await sp.sync() } catch { fail("first sync: \(error)") }
    let first = now() - start
    var full: [Double] = []
    for _ in 0..<(fullRounds ?? max(1, rounds / 5)) {
        start = now()
        do { try await sp.sync(full: true) } catch { fail("full sync: \(error)") }
        full.append(now() - start)
    }
    var partial: [Double] = []
    var commands = 0
    for round in 1...rounds {
        let i = (round * 7919) % services
        start = now()
        await sp.update(slice: slice(i, endpoints: endpoints, generation: round))
        do { commands = max(commands, try await sp.sync().commands) } catch { fail("partial sync: \(error)") }
        partial.append(now() - start)
    }
    return (first, full, partial, commands)
}

func rules(_ args: [String]) async {
    guard args.count == 8, let services = Int(args[5]), let endpoints = Int(args[6]), let rounds = Int(args[7]) else {
        fail("usage: service-proxy-bench rules OURS_NETNS PEER_NETNS SINGLE_NETNS SERVICES ENDPOINTS_PER_SERVICE ROUNDS")
    }
    let ours = openNetns(args[2]), peer = openNetns(args[3]), single = openNetns(args[4])
    let label = "\(services) svc / \(services * endpoints) ep"
    let sharded = await measure(proxy(ours), services: services, endpoints: endpoints, rounds: rounds)
    let oneTable = await measure(proxy(single, shards: 1), services: services, endpoints: endpoints, rounds: rounds)
    let (first, full, partial, commands) = sharded
    var start = now()

    var step: UnsafePointer<CChar>? = nil
    guard let context = sl_nft_new(peer, &step) else { fail("nft_ctx_new: \(String(cString: step!))") }
    let text = peerText(services: services, endpoints: endpoints)
    start = now()
    nft(context, peer, text)
    let peerFirst = now() - start
    var peerFull: [Double] = []
    for _ in 0..<max(1, rounds / 5) {
        start = now()
        nft(context, peer, peerText(services: services, endpoints: endpoints))
        peerFull.append(now() - start)
    }
    var peerPartial: [Double] = []
    for round in 1...rounds {
        let i = (round * 7919) % services
        start = now()
        nft(context, peer, peerText(services: services, endpoints: endpoints, only: i, generation: [i: round]))
        peerPartial.append(now() - start)
    }
    sl_nft_free(context)

    print("| \(label): ServiceProxy first sync (tables created) | 1 | \(String(format: "%.1f", first)) | | |")
    print("| \(label): nft text first load | 1 | \(String(format: "%.1f", peerFirst)) | | |")
    row("\(label): ServiceProxy full sync", full)
    row("\(label): ServiceProxy full sync, one table", oneTable.full, baseline: percentile(full, 50))
    row("\(label): nft text full regeneration (kube-proxy style)", peerFull, baseline: percentile(full, 50))
    row("\(label): ServiceProxy 1 service changed (\(commands) netlink commands)", partial)
    row("\(label): ServiceProxy 1 service changed, one table", oneTable.partial, baseline: percentile(partial, 50))
    row("\(label): nft text 1 service changed", peerPartial, baseline: percentile(partial, 50))
}

func program(_ args: [String]) async {
    guard args.count == 7 || args.count == 8, let services = Int(args[3]), let endpoints = Int(args[4]) else {
        fail("usage: service-proxy-bench program NETNS SERVICES ENDPOINTS_PER_SERVICE CLUSTER_IP POD_IP [SHARDS]")
    }
    let sp = proxy(openNetns(args[2]), shards: args.count == 8 ? Int(args[7]) ?? 16 : 16)
    var (svcs, slices) = objects(services: services, endpoints: endpoints)
    svcs.append(Service(metadata: ObjectMeta(name: "target", namespace: "bench"),
                        spec: ServiceSpec(ports: [ServicePort(name: "http", protocol: "TCP", port: 80, targetPort: .int(8080))],
                                          clusterIP: args[5])))
    slices.append(EndpointSlice(metadata: ObjectMeta(name: "target-1", namespace: "bench",
                                                     labels: [EndpointSlice.serviceNameLabel: "target"]),
                                endpoints: [Endpoint(addresses: [args[6]], conditions: EndpointConditions(ready: true), nodeName: "n1")],
                                ports: [EndpointPort(name: "http", protocol: "TCP", port: 8080)]))
    await sp.replaceAll(services: svcs, slices: slices)
    do { try await sp.sync() } catch { fail("sync: \(error)") }
    let rejected = await sp.rejections()
    if !rejected.isEmpty { fail("refused: \(rejected)") }
}

/// `partial NETNS SERVICES ENDPOINTS ROUNDS [SHARDS]`: only the one-service syncs (for profiling).
func partial(_ args: [String]) async {
    guard args.count >= 6, let services = Int(args[3]), let endpoints = Int(args[4]), let rounds = Int(args[5]) else {
        fail("usage: service-proxy-bench partial NETNS SERVICES ENDPOINTS_PER_SERVICE ROUNDS [SHARDS]")
    }
    let result = await measure(proxy(openNetns(args[2]), shards: args.count > 6 ? Int(args[6]) ?? 16 : 16),
                               services: services, endpoints: endpoints, rounds: rounds, fullRounds: 0)
    row("\(services) svc / \(services * endpoints) ep: ServiceProxy 1 service changed", result.partial)
}

let args = CommandLine.arguments
switch args.count > 1 ? args[1] : "" {
case "rules": await rules(args)
case "partial": await partial(args)
case "program": await program(args)
default: fail("usage: service-proxy-bench rules|program ... (see bench/service-proxy.sh)")
}
