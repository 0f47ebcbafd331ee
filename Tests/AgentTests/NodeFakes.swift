import Foundation
import KubeAPI
import Synchronization
@testable import Agent

/// An in-memory API server for nodes and leases: resourceVersions, conflicts on stale
/// updates, status and main resource kept apart as the real server does, and failures on demand.
actor FakeNodeAPI: NodeAPI {
    var nodes: [String: Node] = [:]
    var leases: [String: Lease] = [:]
    private var revision = 100
    /// Calls in order ("createNode", "getNode", "updateNodeStatus", ...).
    private(set) var calls: [String] = []
    /// Errors the next calls of a method throw, first first.
    private var failures: [String: [NodeAPIError]] = [:]
    /// Statuses written through updateNodeStatus, in order.
    private(set) var statusWrites: [NodeStatus] = []
    /// What the server sets on a Node it creates (its node IPAM).
    var assignPodCIDR: String?

    func fail(_ method: String, with errors: NodeAPIError...) {
        failures[method, default: []] += errors
    }

    func count(_ method: String) -> Int { calls.filter { $0 == method }.count }

    func put(_ node: Node) {
        var node = node
        node.metadata.resourceVersion = nextVersion()
        if node.metadata.uid == nil { node.metadata.uid = "uid-\(node.metadata.name ?? "")" }
        nodes[node.metadata.name ?? ""] = node
    }

    /// A change made by someone else (a controller, kubectl): the agent's copy becomes stale.
    func edit(node name: String, _ change: (inout Node) -> Void) {
        guard var node = nodes[name] else { return }
        change(&node)
        node.metadata.resourceVersion = nextVersion()
        nodes[name] = node
    }

    func delete(node name: String) { nodes[name] = nil }

    private func nextVersion() -> String {
        revision += 1
        return String(revision)
    }

    private func record(_ method: String) throws {
        calls.append(method)
        if var queue = failures[method], !queue.isEmpty {
            let error = queue.removeFirst()
            failures[method] = queue
            throw error
        }
    }

    func getNode(name: String) async throws -> Node? {
        try record("getNode")
        return nodes[name]
    }

    func createNode(_ node: Node) async throws -> Node {
        try record("createNode")
        let name = node.metadata.name ?? ""
        guard nodes[name] == nil else { throw NodeAPIError.alreadyExists("nodes \"\(name)\" already exists") }
        var created = node
        created.metadata.uid = "uid-\(name)"
        if let assignPodCIDR { created.spec.podCIDR = assignPodCIDR }
        put(created)
        return nodes[name] ?? created
    }

    func updateNode(_ node: Node) async throws -> Node {
        try record("updateNode")
        let name = node.metadata.name ?? ""
        guard var stored = nodes[name] else { throw NodeAPIError.notFound("nodes \"\(name)\" not found") }
        guard node.metadata.resourceVersion == stored.metadata.resourceVersion else { throw conflict(name) }
        stored.metadata = node.metadata
        stored.spec = node.spec
        put(stored)
        return nodes[name] ?? stored
    }

    func updateNodeStatus(_ node: Node) async throws -> Node {
        try record("updateNodeStatus")
        let name = node.metadata.name ?? ""
        guard var stored = nodes[name] else { throw NodeAPIError.notFound("nodes \"\(name)\" not found") }
        guard node.metadata.resourceVersion == stored.metadata.resourceVersion else { throw conflict(name) }
        stored.status = node.status
        statusWrites.append(node.status)
        put(stored)
        return nodes[name] ?? stored
    }

    func getLease(namespace: String, name: String) async throws -> Lease? {
        try record("getLease")
        return leases["\(namespace)/\(name)"]
    }

    func createLease(_ lease: Lease) async throws -> Lease {
        try record("createLease")
        let key = "\(lease.metadata.namespace ?? "")/\(lease.metadata.name ?? "")"
        guard leases[key] == nil else { throw NodeAPIError.alreadyExists("leases \"\(key)\" already exists") }
        var created = lease
        created.metadata.resourceVersion = nextVersion()
        leases[key] = created
        return created
    }

    func updateLease(_ lease: Lease) async throws -> Lease {
        try record("updateLease")
        let key = "\(lease.metadata.namespace ?? "")/\(lease.metadata.name ?? "")"
        guard let stored = leases[key] else { throw NodeAPIError.notFound("leases \"\(key)\" not found") }
        guard lease.metadata.resourceVersion == stored.metadata.resourceVersion else { throw conflict(key) }
        var updated = lease
        updated.metadata.resourceVersion = nextVersion()
        leases[key] = updated
        return updated
    }

    /// Someone else renewed the lease: the agent's copy becomes stale.
    func touch(lease key: String) {
        leases[key]?.metadata.resourceVersion = nextVersion()
    }

    private func conflict(_ name: String) -> NodeAPIError {
        .conflict("Operation cannot be fulfilled on \(name): the object has been modified; please apply your changes to the latest version and try again")
    }
}

/// A clock that moves only when told to, or by the sleeps it is asked for.
final class ManualClock: NodeClock {
    private let current: Mutex<Date>
    private let slept = Mutex<[Duration]>([])

    init(_ start: Date = Date(timeIntervalSince1970: 1_795_341_600)) {
        current = Mutex(start)
    }

    func now() -> Date { current.withLock { $0 } }

    func advance(seconds: TimeInterval) {
        current.withLock { $0 = $0.addingTimeInterval(seconds) }
    }

    var sleeps: [Duration] { slept.withLock { $0 } }

    /// Moves time forward by the duration at once, after a real millisecond so loops yield.
    func sleep(for duration: Duration) async throws {
        try await Task.sleep(for: .milliseconds(1))
        slept.withLock { $0.append(duration) }
        advance(seconds: NodeStatusReporter.seconds(duration))
    }
}

/// A made-up machine whose readings tests change.
final class FakeNodeHost: NodeHost {
    let machine: NodeMachineInfo
    private let current: Mutex<NodeResourceSample>
    let internalIP: String?

    static let gib: Int64 = 1024 * 1024 * 1024

    init(internalIP: String? = "192.0.2.10") {
        machine = NodeMachineInfo(cpus: 2, memoryBytes: 8 * Self.gib, machineID: "0123456789abcdef", systemUUID: "UUID-1",
                                  bootID: "boot-1", kernelVersion: "6.1.0-27-amd64",
                                  osImage: "Debian GNU/Linux 12 (bookworm)", architecture: "amd64")
        let disk = FilesystemStats(capacityBytes: 100 * Self.gib, availableBytes: 60 * Self.gib, inodes: 1_000_000, inodesFree: 900_000)
        current = Mutex(NodeResourceSample(memoryAvailableBytes: 6 * Self.gib, nodefs: disk, imagefs: disk,
                                           maxPIDs: 32768, runningProcesses: 300))
        self.internalIP = internalIP
    }

    func change(_ body: (inout NodeResourceSample) -> Void) {
        current.withLock { body(&$0) }
    }

    func machineInfo() throws -> NodeMachineInfo { machine }
    func sample() -> NodeResourceSample { current.withLock { $0 } }
    func detectInternalIP() -> String? { internalIP }
}

/// Values handed to onPodCIDR, and whether the next call fails.
final class PodCIDRRecorder: Sendable {
    private let state = Mutex<(seen: [String], failNext: Bool)>(([], false))

    var seen: [String] { state.withLock { $0.seen } }

    func failNext() { state.withLock { $0.failNext = true } }

    func take(_ cidr: String) throws {
        let fail = state.withLock { value -> Bool in
            value.seen.append(cidr)
            defer { value.failNext = false }
            return value.failNext
        }
        if fail { throw NodeHostError("bridge setup failed for \(cidr)") }
    }
}
