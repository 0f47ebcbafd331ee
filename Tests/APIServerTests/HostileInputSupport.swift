@testable import APIMachinery
@testable import APIRegistry
@testable import APIServer
import APITestSupport
import Foundation
import KubeAPI
import ServerTestSupport
import Storage
import Testing

/// A cluster served over HTTPS with its CA and tokens (as `swiftlet server` runs it), an HTTPS
/// client of it, and checks that the store stays readable: what the regression tests of
/// issue 10 send hostile requests to.
struct HostileCluster: Sendable {
    let cluster: TestCluster
    let client: HTTPSTestClient

    var adminToken: String { cluster.credentials.adminToken }

    /// A request as the admin, with `body` sent as `contentType`.
    func admin(_ method: String, _ path: String, _ body: String? = nil, contentType: String = "application/json",
               headers: [String: String] = [:]) async throws -> HTTPTestResponse {
        try await admin(method, path, bytes: body.map { Array($0.utf8) }, contentType: contentType, headers: headers)
    }

    func admin(_ method: String, _ path: String, bytes: [UInt8]?, contentType: String = "application/json",
               headers: [String: String] = [:]) async throws -> HTTPTestResponse {
        var all = headers
        all["Authorization"] = "Bearer \(adminToken)"
        if bytes != nil { all["Content-Type"] = contentType }
        return try await client.send(method, path, headers: all, body: bytes)
    }

    /// Joins `node` through the node-credential endpoint, as an agent does, and returns its
    /// bearer token (`system:node:<node>`).
    func join(_ node: String) async throws -> String {
        let basic = Data("node:\(cluster.credentials.joinSecret)".utf8).base64EncodedString()
        let response = try await client.send("POST", "/v1-swiftlet/node-credential",
                                             headers: ["Authorization": "Basic \(basic)", "Content-Type": "application/json"],
                                             body: Array(#"{"nodeName":"\#(node)","nodePassword":"password-of-\#(node)-machine"}"#.utf8))
        guard response.status == 200, let token = try response.json()["token"]?.stringValue else {
            throw TestFailure("join of \(node) failed: \(response.status) \(response.text)")
        }
        return token
    }

    /// Every entry of the store is a JSON object, and every resource lists with 200 over HTTPS.
    func expectStoreReadable(sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let entries = try await cluster.handle.storage.list(prefix: "/registry/")
        for entry in entries.objects {
            guard case .object? = try? JSONParser.parse(entry.value) else {
                Issue.record("the store holds an entry that is not a JSON object at \(entry.key): \(String(decoding: entry.value.prefix(200), as: UTF8.self))",
                             sourceLocation: sourceLocation)
                continue
            }
        }
        for resource in cluster.service.registry.resources where resource.verbs.contains("list") {
            let path = (resource.group.isEmpty ? "/api/v1/" : "/apis/\(resource.groupVersion)/") + resource.name
            let response = try await admin("GET", path)
            #expect(response.status == 200, "GET \(path): \(response.text.prefix(300))", sourceLocation: sourceLocation)
            #expect(response.headers["warning"] == nil, "GET \(path) warns: \(response.headers["warning"] ?? "")", sourceLocation: sourceLocation)
        }
    }
}

/// Runs `body` against a fresh HTTPS cluster (files in `directory` when given, so a second
/// call is the same cluster restarted).
func withHostileCluster<T: Sendable>(directory: String? = nil, _ body: @Sendable (HostileCluster) async throws -> T) async throws -> T {
    try await withTestCluster(directory: directory) { cluster in
        try await withHTTPSClient(cluster) { client in
            try await body(HostileCluster(cluster: cluster, client: client))
        }
    }
}

/// The `message` of a Status answer (the raw text when it is not one).
func message(_ response: HTTPTestResponse) -> String {
    (try? response.json()["message"]?.stringValue) ?? response.text
}

/// Whether an error answer is a Kubernetes Status with a reason and a message.
func isStatus(_ response: HTTPTestResponse, code: Int) -> Bool {
    guard let status = try? response.json() else { return false }
    return status["kind"]?.stringValue == "Status" && status["code"]?.intValue == Int64(code)
        && !(status["message"]?.stringValue ?? "").isEmpty
}
