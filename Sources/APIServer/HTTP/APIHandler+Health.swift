import APIMachinery
import Hummingbird
import KubeAPI
import Synchronization

/// `/healthz`, `/livez` and `/readyz` as kube-apiserver answers them
/// (k8s.io/apiserver/pkg/server/healthz/healthz.go): the checks `ping` (the process answers)
/// and `etcd` (the store answers within 2 s; named so on SQLite too, as k3s' kine reports it).
/// All passing: `ok`, or with `?verbose` one `[+]<check> ok` line each and `<endpoint> check
/// passed`. One failing: 500 with every check listed, `[-]etcd failed: reason withheld` and
/// `<endpoint> check failed`. `/readyz/<check>` runs one. Agents pick the servers they use by
/// `/readyz`, so a server that lost its datastore is left for one that has it.
extension APIHandler {
    static let healthChecks = ["ping", "etcd"]
    static let storageCheckTimeout: Duration = .seconds(2)

    func health(_ parts: [String], verbose: Bool) async throws(APIError) -> Response {
        let endpoint = parts[0]
        if parts.count > 2 { throw APIError.pathNotFound() }
        if parts.count == 2 {
            guard Self.healthChecks.contains(parts[1]) else { throw APIError.pathNotFound() }
            guard await check(parts[1]) else {
                return Self.plain("internal server error: \(parts[1]) check failed", status: .internalServerError)
            }
            return Self.text("ok")
        }
        var lines: [String] = []
        var failed = false
        for name in Self.healthChecks {
            if await check(name) {
                lines.append("[+]\(name) ok")
            } else {
                failed = true
                lines.append("[-]\(name) failed: reason withheld")
            }
        }
        if failed {
            return Self.plain((lines + ["\(endpoint) check failed"]).joined(separator: "\n") + "\n", status: .internalServerError)
        }
        return Self.text(verbose ? (lines + ["\(endpoint) check passed"]).joined(separator: "\n") + "\n" : "ok")
    }

    /// Runs one check. The store's is shared by every caller for a second (each agent asks
    /// every server every second), and answers "failed" after `storageCheckTimeout` without
    /// waiting for the read (a store call need not end when cancelled).
    private func check(_ name: String) async -> Bool {
        guard name == "etcd" else { return true }
        let service = self.service
        let probe = storageHealth.current {
            Task {
                await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
                    let answer = FirstAnswer(continuation)
                    let read = Task { answer.resume((try? await service.checkStorage()) != nil) }
                    Task {
                        try? await Task.sleep(for: Self.storageCheckTimeout)
                        read.cancel()
                        answer.resume(false)
                    }
                }
            }
        }
        return await probe.value
    }

    static func plain(_ text: String, status: HTTPResponse.Status) -> Response {
        Response(status: status, headers: [.contentType: "text/plain; charset=utf-8"],
                 body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }
}

/// Resumes a continuation with the first answer only.
private final class FirstAnswer: Sendable {
    private let continuation: Mutex<CheckedContinuation<Bool, Never>?>

    init(_ continuation: CheckedContinuation<Bool, Never>) {
        self.continuation = Mutex(continuation)
    }

    func resume(_ value: Bool) {
        continuation.withLock { pending in
            pending?.resume(returning: value)
            pending = nil
        }
    }
}

/// The store check of the last second, shared by the health endpoints' callers.
final class StorageHealth: Sendable {
    private let last = Mutex<(started: ContinuousClock.Instant, probe: Task<Bool, Never>)?>(nil)
    static let reuse: Duration = .seconds(1)

    /// The probe started less than a second ago, or a new one from `start`.
    func current(_ start: () -> Task<Bool, Never>) -> Task<Bool, Never> {
        last.withLock { last in
            let now = ContinuousClock.now
            if let last, now - last.started < Self.reuse { return last.probe }
            let probe = start()
            last = (now, probe)
            return probe
        }
    }
}
