import ControllerRuntime
import Scheduler
import APIMachinery
import Foundation
import KubeAPI
import Logging
import Synchronization

/// kube-controller-manager's node IPAM (the `RangeAllocator`): every Node without
/// `spec.podCIDR` gets the next free /`nodeCIDRMaskSize` of `clusterCIDR` in `spec.podCIDR`
/// and `spec.podCIDRs`. What is taken is rebuilt from the Nodes at start (the Nodes are the
/// only record), and a deleted Node's range is free again. An exhausted cluster CIDR gives
/// the node a `CIDRNotAvailable` event and no range. IPv4 only.
/// See https://github.com/kubernetes/kubernetes/blob/master/pkg/controller/nodeipam/ipam/range_allocator.go
struct NodeIPAMController: Controller {
    let name = "node-ipam"
    private let client: any ResourceClient
    private let nodes: Informer
    private let queue = WorkQueue()
    private let logger: Logger
    private let ranges: ControllerState<CIDRRanges>?

    init(client: any ResourceClient, informers: Informers, settings: ControllerSettings, logger: Logger) {
        self.client = client
        self.nodes = informers.informer(.nodes)
        self.logger = logger
        let ranges = CIDRRanges(clusterCIDR: settings.clusterCIDR, maskSize: settings.nodeCIDRMaskSize).map { ControllerState($0) }
        self.ranges = ranges
        if ranges == nil {
            logger.error("node IPAM disabled: the cluster CIDR \(settings.clusterCIDR) cannot be split into /\(settings.nodeCIDRMaskSize) ranges")
        }
        let queue = self.queue
        let nodes = self.nodes
        nodes.addHandler { event in
            switch event {
            case .added(let node), .updated(_, let node):
                if (node.string(at: ["spec", "podCIDR"]) ?? "").isEmpty { Task { await queue.add(Informer.key(of: node)) } }
            case .deleted(let node):
                if let cidr = node.string(at: ["spec", "podCIDR"]) {
                    _ = ranges?.withLock { $0.release(cidr) }
                }
                // A range came free: nodes waiting for one may get it now.
                let waiting = nodes.list().filter { ($0.string(at: ["spec", "podCIDR"]) ?? "").isEmpty }.map(Informer.key(of:))
                Task { for key in waiting { await queue.add(key) } }
            }
        }
    }

    func run() async {
        guard let ranges else { return }
        // The informers have synced: every range in use is on a Node.
        ranges.withLock { ranges in
            for node in nodes.list() {
                for cidr in Self.podCIDRs(of: node) { ranges.occupy(cidr) }
            }
        }
        await runWorkers(name: name, queue: queue, workers: 1, logger: logger) { key in try await sync(name: key) }
    }

    private static func podCIDRs(of node: KubeObject) -> [String] {
        var cidrs = node.value(at: ["spec", "podCIDRs"])?.arrayValue?.compactMap(\.stringValue) ?? []
        if let single = node.string(at: ["spec", "podCIDR"]), !cidrs.contains(single) { cidrs.append(single) }
        return cidrs
    }

    private func sync(name: String) async throws(APIError) {
        guard let ranges, var node = try await client.get(.nodes, namespace: nil, name: name) else { return }
        if !(node.string(at: ["spec", "podCIDR"]) ?? "").isEmpty {
            ranges.withLock { ranges in Self.podCIDRs(of: node).forEach { ranges.occupy($0) } }
            return
        }
        guard let cidr = ranges.withLock({ $0.allocate() }) else {
            await client.recordEvent(about: node, type: "Normal", reason: "CIDRNotAvailable",
                                     message: "Node \(name) status is now: CIDRNotAvailable", component: "cidrAllocator")
            return
        }
        node.set(.string(cidr), at: ["spec", "podCIDR"])
        node.set(.array([.string(cidr)]), at: ["spec", "podCIDRs"])
        do {
            _ = try await client.update(.nodes, node)
            logger.info("node pod CIDR allocated", metadata: ["node": "\(name)", "podCIDR": "\(cidr)"])
        } catch {
            ranges.withLock { _ = $0.release(cidr) }
            throw error
        }
    }
}

/// The /`maskSize` ranges of a cluster CIDR and which are taken (upstream's `CidrSet`):
/// allocation goes round from after the last one handed out, so a released range is not
/// reused at once.
struct CIDRRanges: Sendable {
    private let base: UInt32
    private let clusterPrefix: Int
    private let maskSize: Int
    private var used: Set<Int> = []
    private var next = 0

    init?(clusterCIDR: String, maskSize: Int) {
        guard let (address, prefix) = IPv4Text.parseCIDR(clusterCIDR), maskSize >= prefix, maskSize <= 32,
              maskSize - prefix <= 24 else { return nil }
        self.clusterPrefix = prefix
        self.maskSize = maskSize
        self.base = prefix == 0 ? 0 : address & (UInt32.max << UInt32(32 - prefix))
    }

    var count: Int { 1 << (maskSize - clusterPrefix) }

    private func cidr(_ index: Int) -> String {
        let address = base &+ (UInt32(index) << UInt32(32 - maskSize))
        return "\(IPv4Text.format(address))/\(maskSize)"
    }

    /// The index of `cidr` if it is one of our ranges.
    private func index(of cidr: String) -> Int? {
        guard let (address, prefix) = IPv4Text.parseCIDR(cidr), prefix == maskSize, address >= base else { return nil }
        let index = Int((address - base) >> UInt32(32 - maskSize))
        return index < count ? index : nil
    }

    mutating func allocate() -> String? {
        for offset in 0..<count {
            let candidate = (next + offset) % count
            if used.insert(candidate).inserted {
                next = (candidate + 1) % count
                return cidr(candidate)
            }
        }
        return nil
    }

    mutating func occupy(_ cidr: String) {
        if let index = index(of: cidr) { used.insert(index) }
    }

    @discardableResult
    mutating func release(_ cidr: String) -> Bool {
        guard let index = index(of: cidr) else { return false }
        return used.remove(index) != nil
    }
}
