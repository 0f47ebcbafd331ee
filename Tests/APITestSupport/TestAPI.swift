import APIRegistry
import Foundation
import Storage

/// A store a test can inspect and close: SQLite here, etcd in ServerTestSupport.
package protocol TestStorage: Storage {
    /// Watches connected to the store's event window.
    var watcherCount: Int { get }
    func close() async
}

extension SQLiteStorage: TestStorage {}

/// The Kubernetes API over a fresh SQLite store in a scratch directory, in process: what the
/// registry and controller tests work on, and what `ServerTestSupport`'s test server serves.
package struct TestAPI: Sendable {
    package let service: APIService
    package let storage: any TestStorage
    /// The scratch directory: the store, and the kubeconfigs and caches of kubectl.
    package let directory: String
    /// The port the API is served on over HTTP, when it is (`withTestServer`).
    package let port: Int?

    package init(service: APIService, storage: any TestStorage, directory: String, port: Int?) {
        self.service = service
        self.storage = storage
        self.directory = directory
        self.port = port
    }

    /// The API's own client, as the controllers use it.
    package var client: InProcessClient { InProcessClient(service: service) }
}

/// Runs `body` with the API over a new store (bootstrapped as `swiftlet server` does), then
/// closes the store and removes its directory, even when `body` throws.
package func withTestAPI<T: Sendable>(historyCapacity: Int = SQLiteStorage.defaultHistoryCapacity,
                                      _ body: @Sendable (TestAPI) async throws -> T) async throws -> T {
    try await withScratchDirectory(nil) { directory in
        let storage = try SQLiteStorage(path: directory + "/state.db", historyCapacity: historyCapacity)
        return try await withCleanup({
            let service = try APIService(storage: storage)
            try await service.bootstrap()
            return try await body(TestAPI(service: service, storage: storage, directory: directory, port: nil))
        }, cleanup: { await storage.close() })
    }
}

/// Runs `body`, then `cleanup` whether `body` threw or not: an async `defer`.
package func withCleanup<T>(_ body: () async throws -> T, cleanup: () async -> Void) async throws -> T {
    do {
        let result = try await body()
        await cleanup()
        return result
    } catch {
        await cleanup()
        throw error
    }
}

/// Runs `body` in `directory`, or in a new `TemporaryDirectory` removed afterwards when nil.
package func withScratchDirectory<T>(_ directory: String?, _ body: (String) async throws -> T) async throws -> T {
    if let directory {
        return try await body(directory)
    }
    let scratch = try TemporaryDirectory()
    return try await body(scratch.path)
}
