import APITestSupport
import Controllers
import Foundation

/// `withControllerCluster` served over HTTP as well, for tests that drive the controllers
/// with real kubectl (`cluster.kubectl()`).
package func withServedControllerCluster<T: Sendable>(settings: ControllerSettings = .forTests,
                                                      _ body: @Sendable (ControllerTestCluster) async throws -> T) async throws -> T {
    try await withTestServer { server in
        try await withControllers(on: server.api, settings: settings, body)
    }
}

/// `withRolloutCluster` served over HTTP as well, for tests that drive the rollouts with real
/// kubectl (`Kubectl(api: cluster.api)`).
package func withServedRolloutCluster<T: Sendable>(readyAfter: Duration? = .zero,
                                                   _ body: @Sendable (RolloutCluster) async throws -> T) async throws -> T {
    try await withTestServer { server in
        try await withRolloutControllers(on: server.api, readyAfter: readyAfter, body)
    }
}

extension Kubectl {
    /// kubectl against `api`, which must be served over HTTP (`withTestServer` and the
    /// `withServed...` clusters).
    package init(binary: String = Kubectl.defaultBinary, api: TestAPI) throws {
        guard let port = api.port else {
            throw TestFailure("kubectl needs the API served over HTTP: use withTestServer or a withServed... cluster")
        }
        try self.init(binary: binary, port: port, directory: api.directory)
    }
}

extension ControllerTestCluster {
    /// kubectl against this cluster's API (a `withServedControllerCluster`).
    package func kubectl(_ binary: String = Kubectl.defaultBinary) throws -> Kubectl {
        try Kubectl(binary: binary, api: api)
    }
}
