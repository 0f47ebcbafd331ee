import APIRegistry
import APIServer
import APITestSupport
import Foundation
import TestSupport
import Logging
import Server
import Storage

/// Runs the API server as `swiftlet server` assembles it (`ControlPlane`), over a fresh
/// store (SQLite, or a real etcd with `backend: .etcd`), on 127.0.0.1 (`port` 0: any free one) for the duration of `body`, then stops
/// it and closes the store, even when `body` throws. Its files go in `directory`, or in a
/// scratch directory removed afterwards.
///
/// Plain HTTP without authentication unless `tls` and `authenticator` are given (see
/// `withTestCluster` for the CA and credentials `swiftlet server` makes).
package func withTestServer<T: Sendable>(tls: TLSMaterial? = nil, authenticator: Authenticator? = nil,
                                         caCertificatePEM: String? = nil, kubeletClientToken: String? = nil,
                                         port: Int = 0, historyCapacity: Int = SQLiteStorage.defaultHistoryCapacity,
                                         directory: String? = nil, backend: TestBackend = .sqlite,
                                         _ body: @Sendable (TestServerHandle) async throws -> T) async throws -> T {
    try await withScratchDirectory(directory) { directory in
        try await withTestStorage(backend, directory: directory, historyCapacity: historyCapacity) { storage in
            let controlPlane = try await ControlPlane(storage: storage)
            return try await serve(controlPlane, storage: storage, directory: directory, configuration: APIServerConfiguration(
                host: "127.0.0.1", port: port, gitVersion: "v1.32.0+swiftlet.1", tls: tls, authenticator: authenticator,
                caCertificatePEM: caCertificatePEM, kubeletClientToken: kubeletClientToken), body).get()
        }
    }
}

/// Runs the API server until `body` is done; the server stops (its task is cancelled) before
/// this returns.
private func serve<T: Sendable>(_ controlPlane: ControlPlane, storage: any TestStorage, directory: String,
                                configuration: APIServerConfiguration,
                                _ body: @Sendable (TestServerHandle) async throws -> T) async -> Result<T, any Error> {
    var logger = Logger(label: "test-server")
    logger.logLevel = .critical
    let server = controlPlane.apiServer(configuration, logger: logger)
    return await whileServing("the test server", run: { try await server.run(onListening: $0) }) { port in
        try await body(TestServerHandle(api: TestAPI(service: controlPlane.service, storage: storage, directory: directory, port: port),
                                        controlPlane: controlPlane))
    }
}

/// What a test gets of a running server.
package struct TestServerHandle: Sendable {
    /// The API in process, with the port it is served on.
    package let api: TestAPI
    package let controlPlane: ControlPlane

    package var port: Int { api.port ?? 0 }
    package var service: APIService { api.service }
    package var storage: any TestStorage { api.storage }
    package var directory: String { api.directory }

    /// A plain HTTP/1.1 client of the server.
    package var client: HTTPTestClient { HTTPTestClient(port: port) }
}
