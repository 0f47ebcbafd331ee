import APIServer
import APITestSupport
import Foundation
@testable import KubeClient
import Logging
import Server
import ServerTestSupport
import Storage
import TestSupport

/// Two API servers over one store, as two `swiftlet server`s on a shared datastore: one
/// cluster CA, a serving certificate of its own for each (both for 127.0.0.1), the same
/// credentials; each reached through a `TCPRelay` the test can cut off.
struct ServerPair: Sendable {
    let certificates: ServerCertificates
    let credentials: ClusterCredentials
    /// The relays in front of server A and server B: what the pool knows.
    let a: TCPRelay
    let b: TCPRelay
    /// The servers' own ports, for clients the test keeps out of the failover.
    let portA: Int
    let portB: Int

    var caPEM: String { certificates.caCertificatePEM }

    /// An admin client of server B, directly (the test's writer, never cut off).
    func adminOfB() throws -> APIClient {
        try APIClient(server: "https://127.0.0.1:\(portB)", caPEM: caPEM, bearerToken: credentials.adminToken)
    }

    /// An admin client through `pool`.
    func client(through pool: ServerPool) throws -> APIClient {
        try APIClient(pool: pool, caPEM: caPEM, bearerToken: credentials.adminToken)
    }

    /// An admin client through a pool that knows A and B and starts on A.
    func clientThroughBoth() async throws -> (ServerPool, APIClient) {
        let pool = ServerPool(server: a.url, directory: nil, logger: LogRecorder().logger)
        await pool.update(servers: [a.url, b.url])
        return (pool, try client(through: pool))
    }
}

/// Runs `body` with two API servers over one SQLite store, stopped afterwards.
func withServerPair<T: Sendable>(_ body: @Sendable (ServerPair) async throws -> T) async throws -> T {
    let scratch = try ScratchDirectory()
    let tls = scratch.path + "/tls"
    let certificates = try await ServerCertificates.loadOrCreate(directory: tls, dnsNames: [], ipAddresses: [])
    // The second server signs its own serving certificate with the same CA, as a second
    // `swiftlet server` with the cluster's CA files does.
    let second = try await ServerCertificates.loadOrCreate(directory: tls, dnsNames: [], ipAddresses: [])
    let credentials = try ClusterCredentials.loadOrCreate(directory: scratch.path + "/cred")
    let serviceAccounts = try ServiceAccountIssuer.loadOrCreate(directory: tls)
    var logger = Logger(label: "test-server")
    logger.logLevel = .critical
    let serverLogger = logger
    func configuration(_ serving: ServerCertificates) -> APIServerConfiguration {
        APIServerConfiguration(host: "127.0.0.1", port: 0, gitVersion: "v1.32.0+swiftlet.1",
                               tls: TLSMaterial(certificatePEM: serving.servingCertificatePEM, keyPEM: serving.servingKeyPEM),
                               authenticator: Authenticator(credentials: credentials, serviceAccounts: serviceAccounts),
                               caCertificatePEM: certificates.caCertificatePEM, kubeletClientToken: credentials.kubeletClientToken)
    }
    let first = configuration(certificates)
    let other = configuration(second)
    return try await closing(try SQLiteStorage(path: scratch.path + "/state.db")) { storage in
        let planeA = try await ControlPlane(storage: storage)
        let planeB = try await ControlPlane(storage: storage)
        return try await whileServing("server A", run: { try await planeA.apiServer(first, logger: serverLogger).run(onListening: $0) }) { portA in
            try await whileServing("server B", run: { try await planeB.apiServer(other, logger: serverLogger).run(onListening: $0) }) { portB in
                let a = try await TCPRelay.start(to: portA)
                let b = try await TCPRelay.start(to: portB)
                return try await withCleanup({
                    try await body(ServerPair(certificates: certificates, credentials: credentials, a: a, b: b, portA: portA, portB: portB))
                }, cleanup: {
                    await a.close()
                    await b.close()
                })
            }.get()
        }.get()
    }
}

/// Runs `body` with `pool`'s health checks going (through `client`), then stops them and
/// shuts the client down.
func withHealthChecks<T: Sendable>(_ pool: ServerPool, client: APIClient,
                                   _ body: () async throws -> T) async throws -> T {
    let outcome = await whileChecking(pool, client: client, body)
    await client.shutdown()
    return try outcome.get()
}

/// `body`'s outcome, with the health checks running meanwhile (cancelled when it returns).
private func whileChecking<T: Sendable>(_ pool: ServerPool, client: APIClient,
                                        _ body: () async throws -> T) async -> Result<T, any Error> {
    async let _: Void = pool.runHealthChecks(probe: client)
    do {
        return .success(try await body())
    } catch {
        return .failure(error)
    }
}

/// Waits until `condition` holds, checking every 50 ms, for at most `timeout`.
func waitUntil(_ what: String, timeout: Duration = .seconds(15), _ condition: @Sendable () async throws -> Bool) async throws {
    let end = ContinuousClock.now + timeout
    while ContinuousClock.now < end {
        if try await condition() { return }
        try await Task.sleep(for: .milliseconds(50))
    }
    throw TestFailure("timed out after \(timeout) waiting until \(what)")
}
