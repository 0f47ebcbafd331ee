// Per-pod network setup and teardown: swiftlet's BridgeNetwork (rtnetlink from the C shim)
// against the same steps done with iproute2 in its fastest form, interleaved in one run.
// Driven by bench/pod-network.sh, which makes the node and pod namespaces; see there.
//
// Usage: pod-network-bench NODE_NETNS_NAME POD_NETNS_PREFIX PODS WARMUP STATE_DIR
//   the pods are the namespaces POD_NETNS_PREFIX<n>s (swiftlet) and POD_NETNS_PREFIX<n>i (ip),
//   n = 1...PODS, under /run/netns.
import Glibc
import NodeNetwork

func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) * 1e3 + Double(ts.tv_nsec) / 1e6
}

func fail(_ message: String) -> Never {
    let text = "pod-network-bench: \(message)\n"
    _ = text.withCString { write(2, $0, strlen($0)) }
    exit(1)
}

/// Runs a program to its end with posix_spawn + waitpid (Foundation's Process polls).
func spawn(_ argv: [String]) -> Int32 {
    var pid: pid_t = 0
    var cArgs = argv.map { strdup($0) } + [nil]
    defer { for arg in cArgs { free(arg) } }
    let rc = posix_spawn(&pid, argv[0], nil, nil, &cArgs, environ)
    guard rc == 0 else { fail("posix_spawn \(argv[0]): \(String(cString: strerror(rc)))") }
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    return status
}

func percentile(_ values: [Double], _ p: Double) -> Double {
    let sorted = values.sorted()
    guard !sorted.isEmpty else { return 0 }
    let rank = Int((p / 100 * Double(sorted.count - 1)).rounded())
    return sorted[rank]
}

let args = CommandLine.arguments
guard args.count == 6, let pods = Int(args[3]), let warmup = Int(args[4]), pods > warmup else {
    fail("usage: pod-network-bench NODE_NETNS POD_NETNS_PREFIX PODS WARMUP STATE_DIR (PODS > WARMUP)")
}
let (nodeName, podPrefix, stateDir) = (args[1], args[2], args[5])
let ip = "/usr/sbin/ip"
let nodeFd = open("/run/netns/\(nodeName)", O_RDONLY | O_CLOEXEC)
guard nodeFd >= 0 else { fail("open /run/netns/\(nodeName): \(String(cString: strerror(errno)))") }

let network: BridgeNetwork
do {
    network = try BridgeNetwork(config: NodeNetworkConfig(podCIDR: "10.42.0.0/24", stateDirectory: stateDir, nodeNetns: nodeFd))
    try network.ensureNode()
} catch {
    fail("\(error)")
}

var samples: [String: [Double]] = [:]

func openNamespace(_ name: String) -> Int32 {
    let fd = open("/run/netns/\(name)", O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { fail("open /run/netns/\(name): \(String(cString: strerror(errno)))") }
    return fd
}

/// Times one step, recording it under `name` unless warming up.
@MainActor
func timed(_ name: String, _ record: Bool, _ body: () throws -> Void) {
    let start = now()
    do { try body() } catch { fail("\(name): \(error)") }
    if record { samples[name, default: []].append(now() - start) }
}

for index in 1...pods {
    let record = index > warmup
    // Two fresh pod namespaces per round: one plumbed by swiftlet, one by ip. Which goes first
    // alternates, so neither always deletes the younger veth (the kernel's teardown cost
    // depends a little on what is still pending from the creation).
    let ours = "\(podPrefix)\(index)s", theirs = "\(podPrefix)\(index)i"
    let oursFd = openNamespace(ours)
    let uid = "bench-pod-\(index)"

    // swiftlet: allocate an address, veth with the peer made in the pod, address, lo/eth0 up,
    // default route; teardown deletes the veth and frees the address.
    let swiftletSetUp = { timed("swiftlet setup", record) { _ = try network.setUp(podUID: uid, netns: oursFd, hostPorts: []) } }
    let swiftletTearDown = { timed("swiftlet teardown", record) { try network.tearDown(podUID: uid) } }

    // iproute2, fastest form: one `ip` in the node namespace creates the veth (peer straight in
    // the pod namespace, enslaved and up), one `ip -batch` in the pod namespace does the rest.
    // The batch file is written beforehand (not timed).
    let veth = "swlb\(index)"
    let batch = "\(stateDir)/ip-batch-\(index)"
    guard let file = fopen(batch, "w") else { fail("fopen \(batch)") }
    fputs("link set lo up\nlink set eth0 up\naddr add 10.42.0.254/24 dev eth0\nroute add default via 10.42.0.1 dev eth0\n", file)
    fclose(file)
    let ipSetUp = {
        timed("ip setup", record) {
            let created = spawn([ip, "-n", nodeName, "link", "add", veth, "mtu", "1500", "master", "swiftlet0", "up",
                                 "type", "veth", "peer", "name", "eth0", "mtu", "1500", "netns", theirs])
            let configured = spawn([ip, "-n", theirs, "-batch", batch])
            if created != 0 || configured != 0 { fail("ip setup of pod \(index): status \(created), \(configured)") }
        }
    }
    let ipTearDown = {
        timed("ip teardown", record) {
            if spawn([ip, "-n", nodeName, "link", "del", veth]) != 0 { fail("ip link del \(veth) failed") }
        }
    }

    if index % 2 == 0 {
        swiftletSetUp(); ipSetUp(); swiftletTearDown(); ipTearDown()
    } else {
        ipSetUp(); swiftletSetUp(); ipTearDown(); swiftletTearDown()
    }
    unlink(batch)

    // The same with one hostPort: one nft transaction (libnftables, in process) each way.
    timed("+hostPort setup", record) {
        _ = try network.setUp(podUID: uid, netns: oursFd, hostPorts: [HostPortMapping(hostPort: 8080, containerPort: 80)])
    }
    timed("+hostPort teardown", record) { try network.tearDown(podUID: uid) }
    close(oursFd)
}
do { try network.removeNode() } catch { fail("removeNode: \(error)") }

func row(_ name: String, _ values: [Double], _ base: [Double]) -> String {
    let p50 = format3(percentile(values, 50))
    let p95 = format3(percentile(values, 95))
    let ratio = format3(percentile(values, 50) / max(percentile(base, 50), 0.000_001))
    let label = name + String(repeating: " ", count: max(0, 18 - name.count))
    return "| \(label) | \(values.count) | \(p50) | \(p95) | \(ratio)x |"
}

func format3(_ value: Double) -> String {
    let scaled = (value * 1000).rounded() / 1000
    var text = "\(scaled)"
    if let dot = text.firstIndex(of: ".") {
        let decimals = text.distance(from: dot, to: text.endIndex) - 1
        if decimals < 3 { text += String(repeating: "0", count: 3 - decimals) }
    }
    return text
}

print("| step               | runs | p50 ms | p95 ms | p50 vs swiftlet |")
print("|--------------------|-----:|-------:|-------:|----------------:|")
let setUps = samples["swiftlet setup"] ?? [], tearDowns = samples["swiftlet teardown"] ?? []
print(row("swiftlet setup", setUps, setUps))
print(row("ip setup", samples["ip setup"] ?? [], setUps))
print(row("swiftlet teardown", tearDowns, tearDowns))
print(row("ip teardown", samples["ip teardown"] ?? [], tearDowns))
print(row("+hostPort setup", samples["+hostPort setup"] ?? [], setUps))
print(row("+hostPort teardown", samples["+hostPort teardown"] ?? [], tearDowns))
