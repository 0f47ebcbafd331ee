import AsyncHTTPClient
import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import Synchronization

extension APIClient {
    /// Runs one request (`operation`, given the server to use) against the pool's pick, or
    /// against `server` without a pool, and turns its failure into an `APIClientError`.
    ///
    /// With a pool the request is registered with its server, so that the pool can cancel it
    /// when the server turns unhealthy, and a failure to connect or a timeout moves the pool
    /// on. The request is then sent again to the next server (each server once, within the
    /// same `deadline`) when that is safe: when it never reached a server (no connection, or
    /// no TLS session with a certificate of the cluster CA for that address), or when it is
    /// `resendable` (a GET). A write the pool cancelled may have been applied, so it fails
    /// and its caller decides, as client-go leaves retries of writes to callers; etcd's client
    /// retries a mutation only when no connection was made, the same rule. A GET whose kept-alive
    /// connection closed under it is sent once more, to whichever server is the pick.
    func perform<T: Sendable>(_ method: String, _ path: String, deadline: NIODeadline, resendable: Bool,
                              _ operation: @escaping @Sendable (String) async throws -> T) async throws -> T {
        guard let pool else {
            do {
                return try await operation(server)
            } catch {
                throw transportError(method, path, on: server, error)
            }
        }
        var tried: Set<String> = []
        var resentOnItsServer = false
        while true {
            let (target, epoch) = await pool.pick()
            tried.insert(target)
            let abandoned = AbandonedFlag()
            let task = Task { try await operation(target) }
            let registration = pool.requests.register(server: target, epoch: epoch) {
                abandoned.set()
                task.cancel()
            }
            if registration == nil {
                // The pool gave this server up between the pick and now.
                abandoned.set()
                task.cancel()
            }
            do {
                let result = try await withTaskCancellationHandler { try await task.value } onCancel: { task.cancel() }
                pool.requests.unregister(registration)
                return result
            } catch {
                pool.requests.unregister(registration)
                if Task.isCancelled { throw CancellationError() }
                // An answer (the server works), or a watch that streamed already: not sent again.
                if error is APIClientError { throw error }
                let wasAbandoned = abandoned.isSet
                let unconnected = Self.failedToConnect(error)
                let timedOut = Self.timedOut(error)
                // Closed under the request twice in a row: a server on its way down that still
                // accepts connections (seen in ServerFailoverTests when it stops), moved away from
                // like one that refuses them.
                let closedAgain = resendable && !timedOut && !wasAbandoned && !unconnected && resentOnItsServer
                if wasAbandoned || unconnected || timedOut || closedAgain {
                    await pool.reportFailure(target, reason: wasAbandoned ? "it stopped answering its health checks" : Self.describe(error))
                }
                let next = await pool.current
                let resend: Bool
                if unconnected || (wasAbandoned && resendable) || closedAgain {
                    resend = !tried.contains(next)
                } else if resendable, !timedOut, !wasAbandoned, !resentOnItsServer {
                    // A connection that closed under the request (a server restarting, or the
                    // end of a kept-alive connection): Go's HTTP transport sends an idempotent
                    // request again once in that case, and so do we, to the pick.
                    resentOnItsServer = true
                    resend = true
                } else {
                    resend = false
                }
                if resend, NIODeadline.now() < deadline { continue }
                if wasAbandoned {
                    throw APIClientError.transport("\(method.uppercased()) \(target)\(path) failed: \(target) stopped answering its health checks")
                }
                throw transportError(method, path, on: target, error)
            }
        }
    }

    /// Whether `error` means no connection was made, so nothing was sent: refused, unreachable,
    /// timed out while connecting, or a TLS handshake that failed (a certificate not from the
    /// cluster CA, or not for that address). AsyncHTTPClient reports a connection it could not
    /// make as NIO's connect error, a connect timeout or the TLS error of the handshake.
    static func failedToConnect(_ error: any Error) -> Bool {
        // Only errors that cannot happen once a connection carried a request: a write resent
        // after one of those could be applied twice, and a watch resent would repeat events.
        if let error = error as? HTTPClientError {
            return [.connectTimeout, .tlsHandshakeTimeout].contains(error)
        }
        if error is NIOConnectionError || error is NIOSSLExtraError { return true }  // connect; TLS host name check
        if let error = error as? NIOSSLError {
            switch error {
            case .handshakeFailed, .unableToValidateCertificate, .noCertificateToValidate, .cannotMatchULabel, .cannotFindPeerIP:
                return true
            default:
                return false  // uncleanShutdown and the like: the connection was up
            }
        }
        if let error = error as? ChannelError, case .connectTimeout = error { return true }
        if let error = error as? IOError {
            return [ECONNREFUSED, EADDRNOTAVAIL].contains(error.errnoCode)
        }
        return false
    }

    /// Whether `error` is a deadline that passed: the server took too long to answer.
    static func timedOut(_ error: any Error) -> Bool {
        guard let error = error as? HTTPClientError else { return false }
        return [.deadlineExceeded, .readTimeout, .connectTimeout].contains(error)
    }
}

extension APIClient: ServerProbe {
    /// `GET /readyz` (open without credentials, as kube-apiserver serves it) answered 2xx
    /// within `timeout`, over the same pinned TLS as every request.
    public func isReady(_ server: String, timeout: Duration) async -> Bool {
        var request = HTTPClientRequest(url: server + "/readyz")
        request.headers.add(name: "User-Agent", value: "swiftlet")
        let (seconds, attoseconds) = timeout.components
        let deadline = NIODeadline.now() + .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
        do {
            let response = try await http.execute(request, deadline: deadline)
            _ = try await response.body.collect(upTo: 64 * 1024)
            return (200..<300).contains(Int(response.status.code))
        } catch {
            return false
        }
    }
}

/// Set when the pool cancels a request, to tell that cancellation from the caller's.
private final class AbandonedFlag: Sendable {
    private let flag = Atomic(false)

    func set() { flag.store(true, ordering: .sequentiallyConsistent) }
    var isSet: Bool { flag.load(ordering: .sequentiallyConsistent) }
}
