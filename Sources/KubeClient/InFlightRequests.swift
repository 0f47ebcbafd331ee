import Synchronization

/// The requests running against each API server, so that the pool can cancel those of a
/// server it gives up on. k3s' load balancer keeps the same per-server map of open
/// connections and closes them "to force clients to switch over"
/// (pkg/agent/loadbalancer/servers.go, `closeAll`): a machine that died sends no RST, so a
/// watch on it would otherwise wait forever and a plain request until its deadline.
///
/// Each server has an epoch that `abandon` advances. A request reads the epoch when it picks
/// its server and registers with it; if the server was abandoned in between, registering
/// fails and the request must not go ahead, so none slips past an abandon.
final class InFlightRequests: Sendable {
    /// One registered request: where to find it again.
    struct Registration: Sendable {
        let server: String
        let id: Int
    }

    private struct State {
        var nextID = 0
        var cancels: [String: [Int: @Sendable () -> Void]] = [:]
        var epochs: [String: Int] = [:]
    }

    private let state = Mutex(State())

    /// The server's current epoch, to pass to `register`.
    func epoch(of server: String) -> Int {
        state.withLock { $0.epochs[server, default: 0] }
    }

    /// Registers a request started on `server` when its epoch was `epoch`; `cancel` stops it.
    /// Nil when the server was abandoned since: the caller must pick again.
    func register(server: String, epoch: Int, cancel: @escaping @Sendable () -> Void) -> Registration? {
        state.withLock { state in
            guard state.epochs[server, default: 0] == epoch else { return nil }
            state.nextID += 1
            state.cancels[server, default: [:]][state.nextID] = cancel
            return Registration(server: server, id: state.nextID)
        }
    }

    /// Forgets a request that ended.
    func unregister(_ registration: Registration?) {
        guard let registration else { return }
        state.withLock { state in
            state.cancels[registration.server]?[registration.id] = nil
            if state.cancels[registration.server]?.isEmpty == true { state.cancels[registration.server] = nil }
        }
    }

    /// Cancels every request running against `server` and advances its epoch; returns how
    /// many there were.
    @discardableResult
    func abandon(_ server: String) -> Int {
        let cancels = state.withLock { state in
            state.epochs[server, default: 0] += 1
            return state.cancels.removeValue(forKey: server).map { Array($0.values) } ?? []
        }
        // Outside the lock: a cancellation handler may run code that registers again.
        for cancel in cancels { cancel() }
        return cancels.count
    }

    /// How many requests run against `server` now.
    func count(on server: String) -> Int {
        state.withLock { $0.cancels[server]?.count ?? 0 }
    }
}
