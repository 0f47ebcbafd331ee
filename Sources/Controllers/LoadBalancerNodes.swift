import ControllerRuntime
import Scheduler
import APIMachinery
import KubeAPI

/// The nodes that front swiftlet's load balancers, and the addresses they publish: every
/// agent serves Ingresses (its ingress proxy) and LoadBalancer Services (its service proxy)
/// on its own addresses, as k3s' Traefik and ServiceLB do, so the "load balancer" of an
/// Ingress or a Service is the set of Ready nodes' InternalIP addresses.
enum LoadBalancerNodes {
    /// A node whose agent runs with `--disable-ingress` is labelled with this, value
    /// `disabled`; its address is then not published for Ingresses. Any other value (or none)
    /// means the node serves them.
    static let ingressLabel = "node.swiftlet.io/ingress"
    static let ingressDisabled = "disabled"

    /// What of a node matters to the load balancer controllers: a change of anything else
    /// (heartbeats, capacity, images) wakes nobody.
    struct Member: Equatable, Sendable {
        let ready: Bool
        let addresses: [String]
        let servesIngress: Bool
    }

    static func member(_ node: KubeObject) -> Member {
        Member(ready: node.deletionTimestamp == nil && SchedulerPredicates.readyStatus(of: node) == "True",
               addresses: internalIPs(of: node), servesIngress: node.labels[ingressLabel] != ingressDisabled)
    }

    /// The node's `InternalIP` addresses, in the order the node lists them, without duplicates.
    static func internalIPs(of node: KubeObject) -> [String] {
        var seen: Set<String> = []
        return (node.value(at: ["status", "addresses"])?.arrayValue ?? []).compactMap { address in
            guard address["type"]?.stringValue == "InternalIP", let ip = address["address"]?.stringValue,
                  NameRules.isIPAddress(ip), seen.insert(ip).inserted else { return nil }
            return ip
        }
    }

    /// The addresses of the Ready nodes among `nodes` that `include` accepts, sorted by
    /// address (IPv4 numerically, then IPv6 as text), each once.
    static func addresses(of nodes: [KubeObject], include: (KubeObject, Member) -> Bool = { _, _ in true }) -> [String] {
        var all: Set<String> = []
        for node in nodes {
            let member = member(node)
            guard member.ready, include(node, member) else { continue }
            all.formUnion(member.addresses)
        }
        return sorted(Array(all))
    }

    static func sorted(_ addresses: [String]) -> [String] {
        addresses.sorted { first, second in
            switch (IPv4Text.parseIPv4(first), IPv4Text.parseIPv4(second)) {
            case let (a?, b?): return a < b
            case (.some, nil): return true
            case (nil, .some): return false
            case (nil, nil): return first < second
            }
        }
    }
}
