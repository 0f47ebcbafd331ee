import APIMachinery
import APITestSupport
@testable import ControllerRuntime
@testable import Controllers
@testable import Scheduler
import Foundation
import Logging
import Synchronization
import Testing

/// Leader election on a Lease, on a frozen clock: who leads depends on the clock the test moves,
/// not on how fast a loaded machine runs the candidates.
@Suite struct LeaderElectorTests {
    /// Counts terms started and ended.
    final class Terms: Sendable {
        private let state = Mutex((started: 0, ended: 0))
        var started: Int { state.withLock { $0.started } }
        var ended: Int { state.withLock { $0.ended } }

        func lead() async {
            state.withLock { $0.started += 1 }
            while !Task.isCancelled { try? await Task.sleep(for: .milliseconds(20)) }
            state.withLock { $0.ended += 1 }
        }
    }

    /// `crashes`: stopping it leaves the lease as a dead process would.
    private func elector(_ api: TestAPI, _ identity: String, _ clock: TestClock, crashes: Bool = false) -> LeaderElector {
        var settings = LeaderElector.Settings(identity: identity)
        settings.retryPeriod = .milliseconds(50)
        settings.releaseOnCancel = !crashes
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        return LeaderElector(client: api.client, settings: settings, clock: clock.controllerClock, logger: logger)
    }

    private func lease(_ api: TestAPI) async throws -> KubeObject? {
        try await api.client.get(.leases, namespace: "kube-system", name: "kube-controller-manager")
    }

    @Test func aSecondCandidateTakesOverOnlyAfterTheLeaseExpires() async throws {
        try await withTestAPI { api in
            let clock = TestClock(frozenAt: Date(timeIntervalSince1970: 1_800_000_000))
            let first = Terms(), second = Terms()
            let a = Task { await elector(api, "server-a", clock, crashes: true).run(whileLeading: first.lead) }
            _ = try await eventually({ first.started }, until: { $0 == 1 })
            #expect(try await lease(api)?.string(at: ["spec", "holderIdentity"]) == "server-a")
            #expect(try await lease(api)?.int(at: ["spec", "leaseDurationSeconds"]) == 15)

            let b = Task { await elector(api, "server-b", clock).run(whileLeading: second.lead) }
            // However many times b tries, the clock has not moved: a's lease is not expired.
            try await Task.sleep(for: .milliseconds(500))
            #expect(second.started == 0)

            // a dies (stops renewing); 16 s later by b's clock, b takes the lease.
            a.cancel()
            await a.value
            #expect(first.ended == 1)
            clock.advance(by: 16)
            _ = try await eventually({ second.started }, until: { $0 == 1 })
            #expect(second.started == 1)
            let taken = try await lease(api)
            #expect(taken?.string(at: ["spec", "holderIdentity"]) == "server-b")
            #expect(taken?.int(at: ["spec", "leaseTransitions"]) == 1)
            b.cancel()
            await b.value
        }
    }

    @Test func aStoppedLeaderReleasesTheLeaseForTheNextAtOnce() async throws {
        try await withTestAPI { api in
            let clock = TestClock(frozenAt: Date(timeIntervalSince1970: 1_800_000_000))
            let first = Terms(), second = Terms()
            let a = Task { await elector(api, "server-a", clock).run(whileLeading: first.lead) }
            _ = try await eventually({ first.started }, until: { $0 == 1 })
            a.cancel()
            await a.value
            let released = try await lease(api)
            #expect(released?.string(at: ["spec", "holderIdentity"]) == "")
            #expect(released?.int(at: ["spec", "leaseDurationSeconds"]) == 1)
            // No clock change needed: an empty lease is free.
            let b = Task { await elector(api, "server-b", clock).run(whileLeading: second.lead) }
            _ = try await eventually({ second.started }, until: { $0 == 1 })
            #expect(try await lease(api)?.string(at: ["spec", "holderIdentity"]) == "server-b")
            b.cancel()
            await b.value
        }
    }

    @Test func aLeaderWhoseLeaseIsTakenStopsLeading() async throws {
        try await withTestAPI { api in
            let clock = TestClock(frozenAt: Date(timeIntervalSince1970: 1_800_000_000))
            let terms = Terms()
            let a = Task { await elector(api, "server-a", clock).run(whileLeading: terms.lead) }
            _ = try await eventually({ terms.started }, until: { $0 == 1 })
            // Another process writes itself in (as one whose clock judged a's lease expired would).
            // (a renews every 50 ms: retry on its Conflicts.)
            _ = try await eventually({ () -> Bool in
                guard var lease = try await self.lease(api) else { return false }
                lease.set(.string("server-c"), at: ["spec", "holderIdentity"])
                lease.set(.string("2027-01-15T08:00:00.000000Z"), at: ["spec", "renewTime"])
                return (try? await api.client.update(.leases, lease)) != nil
            }, until: { $0 })
            _ = try await eventually({ terms.ended }, until: { $0 == 1 })
            #expect(terms.ended == 1)
            // The frozen clock never lets c's lease expire: a stays a candidate.
            try await Task.sleep(for: .milliseconds(300))
            #expect(terms.started == 1)
            #expect(try await self.lease(api)?.string(at: ["spec", "holderIdentity"]) == "server-c")
            a.cancel()
            await a.value
        }
    }

    @Test func twoCandidatesAtOnceElectExactlyOne() async throws {
        try await withTestAPI { api in
            let clock = TestClock(frozenAt: Date(timeIntervalSince1970: 1_800_000_000))
            let terms = [Terms(), Terms(), Terms()]
            let tasks = (0..<3).map { index in
                Task { await elector(api, "server-\(index)", clock).run(whileLeading: terms[index].lead) }
            }
            _ = try await eventually({ terms.map(\.started).reduce(0, +) }, until: { $0 >= 1 })
            try await Task.sleep(for: .milliseconds(300))
            #expect(terms.map(\.started).reduce(0, +) == 1)
            let holder = try await lease(api)?.string(at: ["spec", "holderIdentity"])
            let leader = terms.firstIndex { $0.started == 1 }
            #expect(holder == leader.map { "server-\($0)" })
            for task in tasks { task.cancel() }
            for task in tasks { await task.value }
        }
    }
}
