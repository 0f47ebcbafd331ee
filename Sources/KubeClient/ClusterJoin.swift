import AsyncHTTPClient
import Crypto
import Foundation
import Logging
import NIOSSL

/// Joins a node to a swiftlet server, as a k3s agent does
/// (https://github.com/k3s-io/k3s/blob/master/pkg/clientaccess/token.go):
/// 1. `GET /cacerts` without verification (nothing is trusted yet) and compare the SHA-256
///    of the bytes with the token's CA hash; a mismatch is fatal.
/// 2. Over TLS pinned to that CA, `POST /v1-swiftlet/node-credential` with HTTP Basic
///    authentication `node:<secret>` (k3s sends `node:<password>` the same way), body
///    `{"nodeName", "nodePassword"}`; the answer `{"token"}` is the node's bearer token.
///    The secret is never sent before the CA has been checked.
///
/// An unreachable server (or one answering 5xx) is retried with back-off, each attempt
/// logged, alternating with the servers the node learned before (`ServerListFile`); a
/// malformed token, a CA mismatch, 401 (wrong secret) and 403 (node name taken by another
/// machine) fail at once.
public struct ClusterJoin: Sendable {
    /// Back-off between attempts while the server cannot be reached.
    public struct Retry: Sendable {
        public var initialDelay: Duration
        public var maximumDelay: Duration
        /// Give up after this many attempts; nil retries until cancelled.
        public var maximumAttempts: Int?

        public init(initialDelay: Duration = .seconds(1), maximumDelay: Duration = .seconds(30), maximumAttempts: Int? = nil) {
            self.initialDelay = initialDelay
            self.maximumDelay = maximumDelay
            self.maximumAttempts = maximumAttempts
        }
    }

    /// The path of the credential endpoint on the server.
    public static let credentialPath = "/v1-swiftlet/node-credential"

    /// Joins `server` (`https://host:port`) as `nodeName` with a join or bootstrap token,
    /// stores the credential under `<dataDirectory>/credential/` and returns it.
    public static func join(server: String, token: String, nodeName: String, dataDirectory: String, logger: Logger,
                            retry: Retry = Retry()) async throws -> NodeCredential {
        let parsed = try JoinToken(parsing: token)
        guard let url = URL(string: server), url.scheme == "https", url.host != nil else {
            throw JoinError.failed("the server URL \(server) is not https://HOST:PORT")
        }
        let server = server.hasSuffix("/") ? String(server.dropLast()) : server
        let directory = NodeCredential.directory(dataDirectory: dataDirectory)
        try SecretFile.makeDirectory(directory)
        let password = try nodePassword(at: directory + "/node-password")

        // A restarted agent whose server is gone joins through a server it learned before (k3s'
        // agent bootstraps through its load balancer, which starts from the saved list). Only
        // with a token that pins the CA: every server must then prove the cluster's CA.
        let canonical = ServerAddress.normalize(server) ?? server
        let learned = parsed.caHash == nil ? [] : ServerListFile.load(path: ServerListFile.path(directory: directory),
                                                                      server: canonical, logger: logger)
        let candidates = [server] + learned.filter { $0 != canonical }
        var delay = retry.initialDelay
        var attempt = 1
        while true {
            let target = candidates[(attempt - 1) % candidates.count]
            do {
                let joined = try await attemptJoin(server: target, token: parsed, nodeName: nodeName, password: password, logger: logger)
                // The node's server stays the one it was given: the saved list belongs to it.
                let credential = NodeCredential(server: server, caPEM: joined.caPEM, token: joined.token, nodeName: nodeName)
                try credential.save(dataDirectory: dataDirectory)
                return credential
            } catch let error as RetryableJoinFailure {
                if let maximum = retry.maximumAttempts, attempt >= maximum {
                    throw JoinError.failed("cannot join \(server) after \(attempt) attempts: \(error.reason)")
                }
                logger.warning("cannot join \(target) yet (attempt \(attempt)): \(error.reason); retrying in \(delay)")
                // Every known server is tried once before waiting longer.
                if candidates.count == 1 || attempt % candidates.count == 0 {
                    try await Task.sleep(for: delay)
                    delay = min(delay * 2, retry.maximumDelay)
                }
                attempt += 1
            }
        }
    }

    /// A failure worth retrying: the server is down, restarting or unreachable.
    struct RetryableJoinFailure: Error {
        let reason: String
    }

    static func attemptJoin(server: String, token: JoinToken, nodeName: String, password: String,
                            logger: Logger) async throws -> NodeCredential {
        let caPEM = try await fetchCACertificates(server: server)
        let caHash = SHA256.hash(data: Data(caPEM.utf8)).map { String(format: "%02x", $0) }.joined()
        if let expected = token.caHash {
            guard expected == caHash else { throw JoinError.caHashMismatch(token: expected, server: caHash) }
        } else {
            // k3s: "Cluster CA certificate is not trusted by the host CA bundle, but the token
            // does not include a CA hash."
            logger.warning("the join token does not include a CA hash, so the cluster CA served by \(server) (sha256 \(caHash)) is trusted without verification; use the full K10... token to verify it")
        }

        let basic = Data("node:\(token.secret)".utf8).base64EncodedString()
        let client: APIClient
        do {
            client = APIClient(server: server, tls: try APIClient.pinnedTLS(caPEM: caPEM, server: server), authorization: "Basic \(basic)",
                               requestTimeout: .seconds(30))
        } catch {
            throw JoinError.failed("\(server) served a CA bundle that cannot be used: \(error)")
        }
        let answer: Data
        do {
            let body = try JSONEncoder().encode(["nodeName": nodeName, "nodePassword": password])
            answer = try await withShutdown(client) { try await $0.send("POST", credentialPath, body: body) }
        } catch let error as APIClientError {
            switch error {
            case .status(401, _, let message): throw JoinError.unauthorized(server: server, message: message)
            case .status(403, _, let message): throw JoinError.rejected(server: server, message: message)
            case .status(let code, _, let message) where code >= 500 || code == 429:
                throw RetryableJoinFailure(reason: "\(code) \(message)")
            case .status(let code, _, let message):
                throw JoinError.failed("\(server)\(credentialPath) answered \(code): \(message); is it a swiftlet server?")
            case .transport(let text): throw RetryableJoinFailure(reason: text)
            case .decoding(let text): throw JoinError.failed(text)
            }
        }
        struct Answer: Decodable { var token: String }
        guard let issued = try? JSONDecoder().decode(Answer.self, from: answer), !issued.token.isEmpty else {
            throw JoinError.failed("\(server)\(credentialPath) answered without a token")
        }
        return NodeCredential(server: server, caPEM: caPEM, token: issued.token, nodeName: nodeName)
    }

    /// The server's CA bundle, fetched without verifying anything (it is checked against
    /// the token's hash afterwards).
    static func fetchCACertificates(server: String) async throws -> String {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.certificateVerification = .none
        let client = APIClient(server: server, tls: tls, authorization: nil, requestTimeout: .seconds(30))
        do {
            let data = try await withShutdown(client) { try await $0.send("GET", "/cacerts") }
            guard let text = String(data: data, encoding: .utf8), text.contains("-----BEGIN CERTIFICATE-----") else {
                throw JoinError.failed("\(server)/cacerts did not answer a PEM CA bundle; is it a swiftlet server?")
            }
            return text
        } catch let error as APIClientError {
            switch error {
            case .status(let code, _, let message) where code >= 500 || code == 429:
                throw RetryableJoinFailure(reason: "\(code) \(message)")
            case .status(let code, _, let message):
                throw JoinError.failed("\(server)/cacerts answered \(code) (\(message)); is it a swiftlet server?")
            case .transport(let text), .decoding(let text):
                throw RetryableJoinFailure(reason: text)
            }
        }
    }

    /// The node password: made once (32 random bytes, hex) and reused, so the server knows
    /// this machine when it joins again.
    static func nodePassword(at path: String) throws -> String {
        if let existing = try? String(contentsOfFile: path, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines),
           !existing.isEmpty {
            return existing
        }
        var generator = SystemRandomNumberGenerator()
        let password = (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
        try SecretFile.write(password + "\n", to: path)
        return password
    }

    /// Runs `body` with `client` and shuts the client down afterwards, whatever happens.
    public static func withShutdown<T: Sendable>(_ client: APIClient, _ body: (APIClient) async throws -> T) async throws -> T {
        do {
            let result = try await body(client)
            await client.shutdown()
            return result
        } catch {
            await client.shutdown()
            throw error
        }
    }
}
