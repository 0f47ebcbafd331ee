// Per-pod network setup and teardown: swiftlet's BridgeNetwork (rtnetlink from the C shim)
// against the same steps done with iproute2 in its fastest form, interleaved in one run.
// Driven by bench/pod-network.sh, which makes the node and pod namespaces; see there.
//
// Usage: pod-network-bench NODE_NETNS_NAME POD_NETNS_PREFIX PODS WARMUP STATE_DIR
//   the pods are the namespaces POD_NETNS_PREFIX1 ... POD_NETNS_PREFIX<PODS> under /run/netns.
import Glibc
import Network

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

var samples: [String: [Double]] = ["swiftlet setup": [], "swiftlet teardown": [], "ip setup": [], "ip teardown": []]
for index in 1...pods {
    let podName = "\(podPrefix)\(index)"
    let podFd = open("/run/netns/\(podName)", O_RDONLY | O_CLOEXEC)
    guard podFd >= 0 else { fail("open /run/netns/\(podName): \(String(cString: strerror(errno)))") }
    let uid = "bench-pod-\(index)"
    let record = index > warmup

    // swiftlet: allocate an address, veth with the peer made in the pod, address, lo/eth0 up,
    // default route; then delete the veth and free the address.
    var t0 = now()
    let status: PodNetworkStatus
    do { status = try network.setUp(podUID: uid, netns: podFd, hostPorts: []) } catch { fail("setUp: \(error)") }
    var t1 = now()
    do { try network.tearDown(podUID: uid) } catch { fail("tearDown: \(error)") }
    var t2 = now()
    if record {
        samples["swiftlet setup", default: []].append(t1 - t0)
        samples["swiftlet teardown", default: []].append(t2 - t1)
    }

    // iproute2, fastest form: one `ip` in the node namespace creates the veth (peer straight in
    // the pod namespace, enslaved and up), one `ip -batch` in the pod namespace does the rest.
    // The batch file is written beforehand (not timed); ip gets the address swiftlet chose.
    let veth = "swlb\(index)"
    let batch = "\(stateDir)/ip-batch-\(index)"
    let commands = "link set lo up\nlink set eth0 up\naddr add \(status.ips[0])/24 dev eth0\nroute add default via 10.42.0.1 dev eth0\n"
    let file = fopen(batch, "w")
    guard let file else { fail("fopen \(batch)") }
    fputs(commands, file)
    fclose(file)
    t0 = now()
    let created = spawn([ip, "-n", nodeName, "link", "add", veth, "mtu", "1500", "master", "swiftlet0", "up",
                         "type", "veth", "peer", "name", "eth0", "mtu", "1500", "netns", podName])
    let configured = spawn([ip, "-n", podName, "-batch", batch])
    t1 = now()
    let deleted = spawn([ip, "-n", nodeName, "link", "del", veth])
    t2 = now()
    guard created == 0, configured == 0, deleted == 0 else { fail("ip failed for pod \(index): \(created) \(configured) \(deleted)") }
    unlink(batch)
    close(podFd)
    if record {
        samples["ip setup", default: []].append(t1 - t0)
        samples["ip teardown", default: []].append(t2 - t1)
    }
}
do { try network.removeNode() } catch { fail("removeNode: \(error)") }

func row(_ name: String, _ values: [Double], _ base: [Double]) -> String {
    let p50 = format3(percentile(values, 50))
    let p95 = format3(percentile(values, 95))
    let ratio = format3(percentile(values, 50) / max(percentile(base, 50), 0.000_001))
    let label = name + String(repeating: " ", count: max(0, 17 - name.count))
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

print("| step              | runs | p50 ms | p95 ms | p50 vs swiftlet |")
print("|-------------------|-----:|-------:|-------:|----------------:|")
let setUps = samples["swiftlet setup"] ?? [], tearDowns = samples["swiftlet teardown"] ?? []
print(row("swiftlet setup", setUps, setUps))
print(row("ip setup", samples["ip setup"] ?? [], setUps))
print(row("swiftlet teardown", tearDowns, tearDowns))
print(row("ip teardown", samples["ip teardown"] ?? [], tearDowns))
