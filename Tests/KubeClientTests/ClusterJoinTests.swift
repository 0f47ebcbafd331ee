import APITestSupport
import Foundation
import KubeAPI
@testable import KubeClient
import ServerTestSupport
import Testing

@Suite struct ClusterJoinTests {
    static let fast = ClusterJoin.Retry(initialDelay: .milliseconds(100), maximumDelay: .milliseconds(200), maximumAttempts: 3)

    @Test func joiningStoresACredentialThatAuthenticatesAsTheNode() async throws {
        let agent = try ScratchDirectory()
        try await withTestCluster { cluster in
            let credential = try await ClusterJoin.join(server: cluster.server, token: cluster.joinToken, nodeName: "node-a",
                                                        dataDirectory: agent.path, logger: LogRecorder().logger, retry: Self.fast)
            #expect(credential.server == cluster.server)
            #expect(credential.caPEM == cluster.certificates.caCertificatePEM)
            #expect(credential.token.hasPrefix("node:node-a:"))
            #expect(NodeCredential.load(dataDirectory: agent.path) == credential)
            for file in ["node-password", "token", "ca.crt", "server"] {
                let mode = try FileManager.default.attributesOfItem(atPath: agent.path + "/credential/" + file)[.posixPermissions] as? Int
                #expect(mode == 0o600, "\(file)")
            }

            let client = try credential.makeClient()
            let review: JSONValue = try await client.create("/apis/authentication.k8s.io/v1/tokenreviews", JSONValue.object([
                "apiVersion": .string("authentication.k8s.io/v1"), "kind": .string("TokenReview"),
                "spec": .object(["token": .string(credential.token)]),
            ]))
            let secrets = await #expect(throws: APIClientError.self) { try await client.send("GET", "/api/v1/namespaces/kube-system/secrets") }
            await client.shutdown()
            #expect(review["status"]?["user"]?["username"]?.stringValue == "system:node:node-a")
            #expect(secrets?.isForbidden == true)

            // The server keeps the password's hash, not the password.
            try await withAdminClient(cluster) { admin in
                let secret: JSONValue = try await admin.get("/api/v1/namespaces/kube-system/secrets/node-a.node-password.swiftlet")
                let password = try String(contentsOfFile: agent.path + "/credential/node-password", encoding: .utf8)
                    .trimmingCharacters(in: .whitespacesAndNewlines)
                let stored = secret["data"]?["hash"]?.stringValue.flatMap { Data(base64Encoded: $0) }.map { String(decoding: $0, as: UTF8.self) }
                #expect(stored?.hasPrefix("sha256:") == true)
                #expect(stored?.contains(password) == false)
            }
        }
    }

    @Test func aWrongCAHashFailsAtOnceWithK3sWording() async throws {
        let agent = try ScratchDirectory()
        try await withTestCluster { cluster in
            let wrong = String(repeating: "ab", count: 32)
            let recorder = LogRecorder()
            let error = await #expect(throws: JoinError.self) {
                _ = try await ClusterJoin.join(server: cluster.server, token: "K10\(wrong)::server:\(cluster.credentials.joinSecret)",
                                               nodeName: "node-a", dataDirectory: agent.path, logger: recorder.logger, retry: Self.fast)
            }
            #expect(error == .caHashMismatch(token: wrong, server: cluster.certificates.caHash))
            #expect(error?.description == "token CA hash does not match the Cluster CA certificate hash: \(wrong) != \(cluster.certificates.caHash)")
            #expect(recorder.recorded.isEmpty)
            #expect(NodeCredential.load(dataDirectory: agent.path) == nil)
        }
    }

    @Test func aWrongSecretIsRefusedWithoutRetrying() async throws {
        let agent = try ScratchDirectory()
        try await withTestCluster { cluster in
            let recorder = LogRecorder()
            let error = await #expect(throws: JoinError.self) {
                _ = try await ClusterJoin.join(server: cluster.server, token: "K10\(cluster.certificates.caHash)::server:wrong-secret",
                                               nodeName: "node-a", dataDirectory: agent.path, logger: recorder.logger, retry: Self.fast)
            }
            guard case .unauthorized(let server, _)? = error else {
                Issue.record("expected unauthorized, got \(String(describing: error))")
                return
            }
            #expect(server == cluster.server)
            #expect(recorder.recorded.isEmpty, "no retry: \(recorder.recorded)")
        }
    }

    @Test func anUnreachableServerIsRetriedUntilItAppears() async throws {
        let agent = try ScratchDirectory()
        let serverFiles = try ScratchDirectory()
        let port = try freePort()
        let recorder = LogRecorder()
        let server = "https://127.0.0.1:\(port)"
        // The token names the CA the server will have: a first run makes the CA and the secret.
        let token = try await withTestCluster(directory: serverFiles.path) { $0.joinToken }
        let patient = ClusterJoin.Retry(initialDelay: .milliseconds(100), maximumDelay: .milliseconds(200), maximumAttempts: 100)
        let join = Task {
            try await ClusterJoin.join(server: server, token: token, nodeName: "node-late", dataDirectory: agent.path,
                                       logger: recorder.logger, retry: patient)
        }
        // Let a few attempts fail, then start the server on the port the agent dials.
        // (Up to 30 s: a loaded machine may take that long for three attempts.)
        for _ in 0..<600 where recorder.recorded.count < 3 { try await Task.sleep(for: .milliseconds(50)) }
        let credential = try await withTestCluster(port: port, directory: serverFiles.path) { _ in try await join.value }
        #expect(credential.nodeName == "node-late")
        let retries = recorder.recorded.filter { $0.contains("cannot join \(server) yet (attempt ") }
        #expect(retries.count >= 3, "\(recorder.recorded)")
        #expect(retries.first?.contains("retrying in") == true)
    }

    @Test func rejoiningNeedsTheSamePassword() async throws {
        let machineA = try ScratchDirectory()
        let machineB = try ScratchDirectory()
        try await withTestCluster { cluster in
            let first = try await ClusterJoin.join(server: cluster.server, token: cluster.joinToken, nodeName: "node-a",
                                                   dataDirectory: machineA.path, logger: LogRecorder().logger, retry: Self.fast)
            // The same machine again: accepted, with a new token; the old one stops working.
            let second = try await ClusterJoin.join(server: cluster.server, token: cluster.joinToken, nodeName: "node-a",
                                                    dataDirectory: machineA.path, logger: LogRecorder().logger, retry: Self.fast)
            #expect(second.token != first.token)
            let old = try first.makeClient()
            let refused = await #expect(throws: APIClientError.self) { try await old.send("GET", "/api/v1/nodes") }
            await old.shutdown()
            #expect(refused?.isUnauthorized == true)

            // Another machine with the same name: refused, as k3s refuses a duplicate hostname.
            let error = await #expect(throws: JoinError.self) {
                _ = try await ClusterJoin.join(server: cluster.server, token: cluster.joinToken, nodeName: "node-a",
                                               dataDirectory: machineB.path, logger: LogRecorder().logger, retry: Self.fast)
            }
            guard case .rejected(_, let message)? = error else {
                Issue.record("expected rejected, got \(String(describing: error))")
                return
            }
            #expect(message.hasPrefix(#"nodes "node-a" is forbidden: Node password rejected, duplicate hostname or contents of '/var/lib/swiftlet/agent/credential/node-password' may not match server node-passwd entry"#), "\(message)")
        }
    }

    @Test func bootstrapTokensAreCreatedListedUsedAndDeleted() async throws {
        let agent = try ScratchDirectory()
        try await withTestCluster { cluster in
            try await withAdminClient(cluster) { admin in
                let token = BootstrapToken.generate(ttl: .seconds(3600), description: "for node-b")
                try await token.create(using: admin)
                let caHash = try await BootstrapToken.caHash(using: admin)
                #expect(caHash == cluster.certificates.caHash)
                let listed = try await BootstrapToken.list(using: admin)
                #expect(listed.map(\.token) == [token.token])
                #expect(listed.first?.description == "for node-b")
                #expect(abs((listed.first?.expiration ?? .distantPast).timeIntervalSince(token.expiration ?? .distantFuture)) < 1)

                let joinToken = token.joinToken(caHash: caHash)
                #expect(joinToken.hasPrefix("K10\(caHash)::"))
                let credential = try await ClusterJoin.join(server: cluster.server, token: joinToken, nodeName: "node-b",
                                                            dataDirectory: agent.path, logger: LogRecorder().logger, retry: Self.fast)
                #expect(credential.nodeName == "node-b")

                try await BootstrapToken.delete(joinToken, using: admin)
                #expect(try await BootstrapToken.list(using: admin).isEmpty)
                let error = await #expect(throws: JoinError.self) {
                    _ = try await ClusterJoin.join(server: cluster.server, token: joinToken, nodeName: "node-b",
                                                   dataDirectory: agent.path, logger: LogRecorder().logger, retry: Self.fast)
                }
                guard case .unauthorized? = error else {
                    Issue.record("expected unauthorized, got \(String(describing: error))")
                    return
                }
            }
        }
    }

    @Test func anExpiredBootstrapTokenIsRefused() async throws {
        let agent = try ScratchDirectory()
        try await withTestCluster { cluster in
            try await withAdminClient(cluster) { admin in
                let expired = BootstrapToken(id: "abcdef", secret: "0123456789abcdef", expiration: Date().addingTimeInterval(-60),
                                             description: "")
                try await expired.create(using: admin)
                let error = await #expect(throws: JoinError.self) {
                    _ = try await ClusterJoin.join(server: cluster.server, token: expired.joinToken(caHash: cluster.certificates.caHash),
                                                   nodeName: "node-c", dataDirectory: agent.path, logger: LogRecorder().logger,
                                                   retry: Self.fast)
                }
                guard case .unauthorized? = error else {
                    Issue.record("expected unauthorized, got \(String(describing: error))")
                    return
                }
            }
        }
    }

    @Test func aBareSecretJoinsWithAWarning() async throws {
        let agent = try ScratchDirectory()
        try await withTestCluster { cluster in
            let recorder = LogRecorder()
            let credential = try await ClusterJoin.join(server: cluster.server, token: cluster.credentials.joinSecret, nodeName: "node-d",
                                                        dataDirectory: agent.path, logger: recorder.logger, retry: Self.fast)
            #expect(credential.caPEM == cluster.certificates.caCertificatePEM)
            #expect(recorder.recorded.contains { $0.hasPrefix("warning: the join token does not include a CA hash") }, "\(recorder.recorded)")
        }
    }

    @Test func tokensParseInK3sForms() throws {
        let hash = String(repeating: "0f", count: 32)
        #expect(try JoinToken(parsing: "K10\(hash)::server:s3cret\n") == JoinToken(caHash: hash, secret: "s3cret"))
        #expect(try JoinToken(parsing: "K10\(hash)::abcdef.0123456789abcdef") == JoinToken(caHash: hash, secret: "abcdef.0123456789abcdef"))
        #expect(try JoinToken(parsing: "just-a-secret") == JoinToken(caHash: nil, secret: "just-a-secret"))
        #expect(throws: JoinError.self) { try JoinToken(parsing: "K10abc::server:x") }
        #expect(throws: JoinError.self) { try JoinToken(parsing: "K10\(hash)::no-password-here") }
        #expect(throws: JoinError.self) { try JoinToken(parsing: "K10\(hash)server:x") }
        #expect(throws: JoinError.self) { try JoinToken(parsing: "  ") }
        #expect(BootstrapToken.id(of: "K10\(hash)::abcdef.0123456789abcdef") == "abcdef")
        #expect(BootstrapToken.id(of: "abcdef") == "abcdef")
    }
}
