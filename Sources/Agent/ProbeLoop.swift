import Foundation
import KubeAPI
import Runtime

/// One probe of one container start (kubelet's prober worker, pkg/kubelet/prober/worker.go):
/// waits initialDelaySeconds, then probes every periodSeconds; the result flips after
/// successThreshold consecutive successes or failureThreshold consecutive failures, and only
/// flips are reported to the worker (every failure is an Unhealthy Event). Liveness starts as
/// success, readiness and startup as failure.
struct ProbeLoop: Sendable {
    let probe: Probe
    let kind: PodWorker.ProbeKind
    let container: RunningContainer
    let spec: Container
    let sandbox: RunningSandbox
    let prober: Prober
    let worker: PodWorker

    func start() -> Task<Void, Never> {
        Task {
            let delay = Int64(probe.initialDelaySeconds ?? 0)
            let period = Int64(max(probe.periodSeconds ?? 10, 1))
            let successThreshold = Int(max(probe.successThreshold ?? 1, 1))
            let failureThreshold = Int(max(probe.failureThreshold ?? 3, 1))
            if delay > 0 { try? await Task.sleep(for: .seconds(delay)) }
            var result = kind == .liveness
            var successes = 0
            var failures = 0
            while !Task.isCancelled {
                let outcome = await prober.run(probe, container: container, spec: spec, sandbox: sandbox)
                if Task.isCancelled { return }
                var message = ""
                switch outcome {
                case .success:
                    successes += 1
                    failures = 0
                case .failure(let why):
                    failures += 1
                    successes = 0
                    message = why
                    // kubelet's prober records every failed probe, not only the flips; a repeat
                    // of the same message counts up on one Event.
                    let kindName = kind.rawValue.prefix(1).uppercased() + kind.rawValue.dropFirst()
                    await worker.record("Warning", "Unhealthy", "\(kindName) probe failed: \(why)", container: container.name)
                }
                let next = successes >= successThreshold ? true : (failures >= failureThreshold ? false : result)
                if next != result {
                    result = next
                    worker.send(.probe(name: container.name, attempt: container.attempt, kind: kind, success: next, message: message))
                    // A failed liveness or startup probe ends this start; a passed startup probe
                    // hands over to liveness and readiness.
                    if (kind != .readiness && !next) || (kind == .startup && next) { return }
                }
                try? await Task.sleep(for: .seconds(period))
            }
        }
    }
}
