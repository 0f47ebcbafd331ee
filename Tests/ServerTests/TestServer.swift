@testable import APIRegistry
@testable import APIServer
import APITestSupport
import Foundation
import Logging
import Storage

/// Runs an API server over a fresh SQLite store on 127.0.0.1 with a random port for the
/// duration of `body`, then stops it and removes its files, even when `body` throws.
func withTestServer<T: Sendable>(tls: TLSMaterial? = nil, authenticator: Authenticator? = nil, caCertificatePEM: String? = nil,
                                  _ body: @Sendable (TestServerHandle) async throws -> T) async throws -> T {
    let directory = try TemporaryDirectory()
    let storage = try SQLiteStorage(path: directory.path + "/state.db")
    let service = try APIService(storage: storage)
    try await service.bootstrap()
    var logger = Logger(label: "test-server")
    logger.logLevel = .critical
    let server = APIServer(service: service,
                           configuration: APIServerConfiguration(host: "127.0.0.1", port: 0, gitVersion: "v1.32.0+swiftlet.1", tls: tls,
                                                                 authenticator: authenticator, caCertificatePEM: caCertificatePEM),
                           logger: logger)
    let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
    let result: Result<T, any Error> = await withTaskGroup(of: Result<T, any Error>?.self) { group in
        group.addTask {
            do {
                try await server.run { port in continuation.yield(port) }
            } catch {
                continuation.finish()
                return .failure(error)
            }
            return nil
        }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else {
            group.cancelAll()
            let failure = await group.next()
            return (failure ?? nil) ?? .failure(TestFailure("the test server did not start"))
        }
        let handle = TestServerHandle(port: port, service: service, storage: storage, directory: directory.path)
        let outcome: Result<T, any Error>
        do {
            outcome = .success(try await body(handle))
        } catch {
            outcome = .failure(error)
        }
        group.cancelAll()
        await storage.close()
        return outcome
    }
    return try result.get()
}

/// What a test gets of a running server.
struct TestServerHandle: Sendable {
    let port: Int
    let service: APIService
    let storage: SQLiteStorage
    let directory: String

    var client: HTTPTestClient { HTTPTestClient(port: port) }
}
