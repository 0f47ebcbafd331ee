import APIMachinery
import APIRegistry
import Controllers
import Foundation
import Logging

/// Runs the Job and CronJob controllers and the garbage collector over `api` (in process, or
/// also served over HTTP) while `body` runs, and stops them before returning. There is no
/// kubelet: tests finish pods by writing their status, and move `clock` for time rules.
package func withWorkloadControllers<T: Sendable>(on api: TestAPI, clock: TestClock, podFailureBackoff: Duration = .zero,
                                                  cronTimeZone: TimeZone = TimeZone(identifier: "UTC") ?? .current,
                                                  _ body: @Sendable (RolloutCluster) async throws -> T) async throws -> T {
    let client = api.client
    var logger = Logger(label: "workload-tests")
    logger.logLevel = .critical
    let informers = Informers(client: client, logger: logger)
    let controllers: [any Controller] = [
        JobController(client: client, informers: informers, logger: logger, clock: clock.controllerClock, podFailureBackoff: podFailureBackoff),
        CronJobController(client: client, informers: informers, logger: logger, clock: clock.controllerClock, defaultTimeZone: cronTimeZone),
        GarbageCollector(client: client, informers: informers, logger: logger),
    ]
    let running = Task {
        await withTaskGroup(of: Void.self) { group in
            let all = informers.all
            for informer in all { group.addTask { await informer.run() } }
            for informer in all { await informer.waitForSync() }
            for controller in controllers { group.addTask { await controller.run() } }
        }
    }
    let cluster = RolloutCluster(api: api, kubelet: TestKubelet(client: client, readyAfter: nil, clock: clock), clock: clock)
    let result: Result<T, any Error>
    do { result = .success(try await body(cluster)) } catch { result = .failure(error) }
    running.cancel()
    await running.value
    return try result.get()
}

/// Runs `body` while a loop plays the kubelet of every node: pods bound to a node become
/// Running and Ready, pods marked for deletion are removed (grace period over).
package func withFakeKubelets<T: Sendable>(client: InProcessClient, _ body: @Sendable () async throws -> T) async throws -> T {
    let kubelet = TestKubelet(client: client, readyAfter: .zero)
    let loop = Task {
        while !Task.isCancelled {
            let pods = (try? await client.list(.pods, namespace: nil).items) ?? []
            for pod in pods where !(pod.string(at: ["spec", "nodeName"]) ?? "").isEmpty {
                if pod.deletionTimestamp != nil {
                    _ = try? await client.delete(.pods, namespace: pod.namespace, name: pod.name ?? "", gracePeriodSeconds: 0, preconditionUID: pod.uid)
                } else if pod.string(at: ["status", "phase"]) != "Running" {
                    try? await kubelet.setStatus(pod, ready: true)
                }
            }
            try? await Task.sleep(for: .milliseconds(50))
        }
    }
    let result: Result<T, any Error>
    do { result = .success(try await body()) } catch { result = .failure(error) }
    loop.cancel()
    await loop.value
    return try result.get()
}
