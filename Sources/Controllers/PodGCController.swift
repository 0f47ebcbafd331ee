import ControllerRuntime
import Scheduler
import APIMachinery
import Foundation
import KubeAPI
import Logging

/// kube-controller-manager's pod garbage collector, every `podGCPeriod`:
/// - pods bound to a node that no longer exists are force-deleted (grace 0): no agent will
///   ever finish them;
/// - terminating pods that were never scheduled are force-deleted;
/// - finished pods (Succeeded, Failed) beyond `terminatedPodGCThreshold` are deleted, oldest first.
/// See https://github.com/kubernetes/kubernetes/blob/master/pkg/controller/podgc/gc_controller.go
struct PodGCController: Controller {
    let name = "pod-gc"
    private let client: any ResourceClient
    private let pods: Informer
    private let nodes: Informer
    private let settings: ControllerSettings
    private let logger: Logger

    init(client: any ResourceClient, informers: Informers, settings: ControllerSettings, logger: Logger) {
        self.client = client
        self.pods = informers.informer(.pods)
        self.nodes = informers.informer(.nodes)
        self.settings = settings
        self.logger = logger
    }

    func run() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: settings.podGCPeriod)
            await collect()
        }
    }

    /// One pass.
    func collect() async {
        let all = pods.list()
        await collectTerminated(all)
        await collectOrphaned(all)
        for pod in all where pod.deletionTimestamp != nil && (pod.string(at: ["spec", "nodeName"]) ?? "").isEmpty {
            await forceDelete(pod, why: "unscheduled and terminating")
        }
    }

    private func collectTerminated(_ all: [KubeObject]) async {
        let threshold = settings.terminatedPodGCThreshold
        let terminated = all.filter { SchedulerPredicates.isTerminal($0) && $0.deletionTimestamp == nil }
        guard threshold > 0, terminated.count > threshold else { return }
        let oldest = terminated.sorted { ($0.creationTimestamp ?? "") < ($1.creationTimestamp ?? "") }
        for pod in oldest.prefix(terminated.count - threshold) {
            await forceDelete(pod, why: "terminated pods over the threshold of \(threshold)")
        }
    }

    private func collectOrphaned(_ all: [KubeObject]) async {
        let known = Set(nodes.list().compactMap(\.name))
        var checked: [String: Bool] = [:]
        for pod in all {
            guard let node = pod.string(at: ["spec", "nodeName"]), !node.isEmpty, !known.contains(node) else { continue }
            // The cache may lag a node just registered: ask the store before deleting.
            if checked[node] == nil {
                checked[node] = ((try? await client.get(.nodes, namespace: nil, name: node)) ?? nil) != nil
            }
            if checked[node] == false {
                await forceDelete(pod, why: "bound to node \(node), which no longer exists")
            }
        }
    }

    private func forceDelete(_ pod: KubeObject, why: String) async {
        logger.info("deleting pod", metadata: ["pod": "\(pod.namespace ?? "")/\(pod.name ?? "")", "reason": "\(why)"])
        do {
            try await client.delete(.pods, namespace: pod.namespace, name: pod.name ?? "", gracePeriodSeconds: 0, preconditionUID: pod.uid)
        } catch {
            logger.warning("pod GC failed", metadata: ["pod": "\(pod.namespace ?? "")/\(pod.name ?? "")", "error": "\(error)"])
        }
    }
}
