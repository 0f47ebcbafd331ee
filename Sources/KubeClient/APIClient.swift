import AsyncHTTPClient
import Foundation
import KubeAPI
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// A client of the Kubernetes API: REST calls and watches over HTTPS/1.1, trusting only the
/// cluster CA (full verification, host names and IP SANs included, for every server),
/// authenticated with a bearer token.
///
/// It talks to one server, or, made with a `ServerPool`, to the pool's pick at each request:
/// a request that cannot connect moves the pool on and is sent again to the next server, and
/// the pool cancels the requests of a server that stops answering (`APIClient+Servers.swift`).
///
/// Objects are decoded with Foundation's `JSONDecoder`, which ignores fields a type does not
/// model: server objects carry many (managedFields, status details) that `KubeAPI` leaves out.
/// Call `shutdown()` when done; it closes the connection pool.
public struct APIClient: Sendable {
    /// How a PATCH body is interpreted (the request's Content-Type).
    public enum PatchType: Sendable {
        /// RFC 7386 JSON merge patch.
        case merge
        /// Kubernetes' strategic merge patch (lists merged by key, such as containers by name).
        case strategicMerge
        /// RFC 6902 JSON patch (a list of operations).
        case json

        var contentType: String {
            switch self {
            case .merge: return "application/merge-patch+json"
            case .strategicMerge: return "application/strategic-merge-patch+json"
            case .json: return "application/json-patch+json"
            }
        }
    }

    /// `https://host:port`, without a trailing slash: the server the client was made for
    /// (with a pool, its default server; requests go to the pool's pick).
    public let server: String
    /// The servers to choose from at each request; nil: `server` only.
    public let pool: ServerPool?
    /// Plain requests' connections.
    let http: HTTPClient
    /// Watches' connections, one per watch (see init).
    let streams: HTTPClient
    /// At most this many plain requests at once to one server; more wait for a connection.
    static let requestConnections = 16
    /// Watches at once to one server (a connection each), far above what a client runs.
    static let streamConnections = 256
    /// The Authorization header sent with every request.
    let authorization: String?
    let requestTimeout: TimeAmount

    /// A client of `server` (`https://host:port`) that trusts only the CA certificates of
    /// `caPEM` and sends `bearerToken`. Requests other than watches fail after
    /// `requestTimeout`; connecting fails after 10 seconds.
    public init(server: String, caPEM: String, bearerToken: String?, requestTimeout: Duration = .seconds(60)) throws {
        let tls = try Self.pinnedTLS(caPEM: caPEM, server: server)
        self.init(server: server, tls: tls, authorization: bearerToken.map { "Bearer \($0)" }, requestTimeout: requestTimeout)
    }

    /// A client of the servers of `pool`, each verified against the CA certificates of
    /// `caPEM` (all servers of a cluster have serving certificates from the cluster CA, each
    /// for its own addresses). Run `pool.runHealthChecks(probe: client)` beside it.
    public init(pool: ServerPool, caPEM: String, bearerToken: String?, requestTimeout: Duration = .seconds(60)) throws {
        let tls = try Self.pinnedTLS(caPEM: caPEM, server: pool.defaultServer)
        self.init(server: pool.defaultServer, tls: tls, authorization: bearerToken.map { "Bearer \($0)" },
                  requestTimeout: requestTimeout, pool: pool)
    }

    /// A client with any TLS settings and Authorization header (the join handshake uses
    /// Basic authentication, and fetches `/cacerts` before it can verify anything).
    init(server: String, tls: TLSConfiguration, authorization: String?, requestTimeout: Duration = .seconds(60),
         pool: ServerPool? = nil) {
        self.server = server.hasSuffix("/") ? String(server.dropLast()) : server
        self.pool = pool
        var configuration = HTTPClient.Configuration(
            tlsConfiguration: tls, redirectConfiguration: .disallow,
            // No read timeout: a watch may be quiet for minutes. Plain requests get a deadline instead.
            timeout: .init(connect: .seconds(10), read: nil))
        configuration.httpVersion = .http1Only
        // Fail a connection attempt at once instead of retrying until the deadline: callers
        // (the join loop, the agent's sync loops) retry on their own terms and log why.
        configuration.connectionPool.retryConnectionEstablishment = false
        // Watches hold a connection each for as long as they run (the agent has six), and over
        // HTTP/1.1 a connection carries one request at a time: on one pool the watches took six
        // of its eight connections, and a node starting 100 pods queued its token requests,
        // status updates and events on the other two (the pods' sandboxes waited seconds for
        // their tokens). So watches get a pool of their own, and requests up to
        // `requestConnections` at once (kubelet sends its requests over one HTTP/2 connection,
        // limited by its QPS and burst, 50/100).
        var requests = configuration
        requests.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = Self.requestConnections
        self.http = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: requests)
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = Self.streamConnections
        self.streams = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
        self.authorization = authorization
        let (seconds, attoseconds) = requestTimeout.components
        self.requestTimeout = .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }

    /// TLS that trusts only the CA certificates in `caPEM`. The peer's name is checked against
    /// the host of each request's URL (AsyncHTTPClient verifies the hostname, or the IP SANs
    /// for an IP address, per connection), so one configuration verifies every server of a
    /// pool against its own address.
    static func pinnedTLS(caPEM: String, server: String) throws -> TLSConfiguration {
        let roots: [NIOSSLCertificate]
        do {
            roots = try NIOSSLCertificate.fromPEMBytes(Array(caPEM.utf8))
        } catch {
            throw APIClientError.transport("the CA bundle for \(server) is not PEM certificates: \(error)")
        }
        guard !roots.isEmpty else {
            throw APIClientError.transport("the CA bundle for \(server) holds no certificate")
        }
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.trustRoots = .certificates(roots)
        tls.certificateVerification = .fullVerification
        tls.minimumTLSVersion = .tlsv12
        return tls
    }

    /// Closes the connections. The client cannot be used afterwards.
    public func shutdown() async {
        try? await http.shutdown()
        try? await streams.shutdown()
    }

    // MARK: - Raw requests

    /// Sends one request to `path` (with its query, such as `/api/v1/pods?limit=10`) and
    /// returns the body of a 2xx answer; any other status is `APIClientError.status`.
    @discardableResult
    public func send(_ method: String, _ path: String, body: Data? = nil,
                     contentType: String = "application/json") async throws -> Data {
        let deadline = NIODeadline.now() + requestTimeout
        let (status, data) = try await perform(method, path, deadline: deadline, resendable: method.uppercased() == "GET") {
            (server: String) async throws -> (HTTPResponseStatus, Data) in
            let response = try await self.start(method, path, on: server, body: body, contentType: contentType, deadline: deadline)
            let bytes = try await response.body.collect(upTo: 256 * 1024 * 1024)
            return (response.status, Data(bytes.readableBytesView))
        }
        guard (200..<300).contains(Int(status.code)) else {
            throw Self.statusError(code: Int(status.code), phrase: status.reasonPhrase, body: data)
        }
        return data
    }

    /// Starts a request to `server` and returns once the response head arrived (the body
    /// streams). Errors are AsyncHTTPClient's and NIO's, for `perform` to judge.
    /// `stream`: a watch, sent on the watches' connections.
    func start(_ method: String, _ path: String, on server: String, body: Data?, contentType: String,
               deadline: NIODeadline, stream: Bool = false) async throws -> HTTPClientResponse {
        var request = HTTPClientRequest(url: server + (path.hasPrefix("/") ? path : "/" + path))
        request.method = HTTPMethod(rawValue: method.uppercased())
        request.headers.add(name: "Accept", value: "application/json")
        request.headers.add(name: "User-Agent", value: "swiftlet")
        if let authorization {
            request.headers.add(name: "Authorization", value: authorization)
        }
        if let body {
            request.headers.add(name: "Content-Type", value: contentType)
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        return try await (stream ? streams : http).execute(request, deadline: deadline)
    }

    /// A transport failure in words that name the server and the request.
    func transportError(_ method: String, _ path: String, on server: String, _ error: any Error) -> any Error {
        if error is CancellationError || error is APIClientError { return error }
        if let error = error as? HTTPClientError, error == .cancelled { return CancellationError() }
        return APIClientError.transport("\(method.uppercased()) \(server)\(path) failed: \(Self.describe(error))")
    }

    /// The error of a non-2xx answer, from its `Status` body when it has one.
    static func statusError(code: Int, phrase: String, body: Data) -> APIClientError {
        if let status = try? JSONDecoder().decode(StatusBody.self, from: body), status.kind == "Status" || status.message != nil {
            return .status(code: code, reason: status.reason ?? "", message: status.message ?? phrase)
        }
        let text = String(decoding: body.prefix(512), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return .status(code: code, reason: "", message: text.isEmpty ? phrase : text)
    }

    static func describe(_ error: any Error) -> String {
        if let error = error as? HTTPClientError {
            switch error {
            case .connectTimeout: return "connection timed out"
            case .deadlineExceeded: return "no answer before the deadline"
            case .remoteConnectionClosed: return "the server closed the connection"
            default: return "\(error)"
            }
        }
        if let error = error as? NIOConnectionError, let first = error.connectionErrors.first {
            return describe(first.error)
        }
        if let error = error as? IOError {
            // "Connection refused", not NIO's "connection reset (error set): ... (errno: 111)".
            return String(cString: strerror(error.errnoCode))
        }
        return "\(error)"
    }

    // MARK: - Typed helpers

    /// GETs `path` and decodes the answer.
    public func get<T: Decodable>(_ path: String, as type: T.Type = T.self) async throws -> T {
        try decode(type, from: try await send("GET", path), path: path)
    }

    /// POSTs `object` to the collection at `path` and returns the created object.
    public func create<T: Codable>(_ path: String, _ object: T) async throws -> T {
        try decode(T.self, from: try await send("POST", path, body: try encode(object)), path: path)
    }

    /// PUTs `object` at `path` (the object or its `/status`); stale resourceVersions are
    /// `isConflict` errors.
    public func update<T: Codable>(_ path: String, _ object: T) async throws -> T {
        try decode(T.self, from: try await send("PUT", path, body: try encode(object)), path: path)
    }

    /// PATCHes `path` with a JSON body of the given type and returns the patched object.
    public func patch<T: Decodable>(_ path: String, type: PatchType, body: Data, as result: T.Type = T.self) async throws -> T {
        try decode(result, from: try await send("PATCH", path, body: body, contentType: type.contentType), path: path)
    }

    /// PATCHes `path` with `body` encoded as JSON.
    public func patch<T: Decodable, Body: Encodable>(_ path: String, type: PatchType, body: Body,
                                                     as result: T.Type = T.self) async throws -> T {
        try await patch(path, type: type, body: try encode(body), as: result)
    }

    /// DELETEs the object at `path`, with a grace period (nil: the object's own) and a UID
    /// precondition (the delete fails with a conflict if the object was replaced meanwhile).
    public func delete(path: String, gracePeriodSeconds: Int? = nil, preconditionUID: String? = nil) async throws {
        var options: [String: JSONValue] = ["kind": .string("DeleteOptions"), "apiVersion": .string("v1")]
        if let gracePeriodSeconds { options["gracePeriodSeconds"] = .int(Int64(gracePeriodSeconds)) }
        if let preconditionUID { options["preconditions"] = .object(["uid": .string(preconditionUID)]) }
        try await send("DELETE", path, body: try encode(JSONValue.object(options)))
    }

    func encode<T: Encodable>(_ value: T) throws -> Data {
        do {
            return try JSONEncoder().encode(value)
        } catch {
            throw APIClientError.decoding("cannot encode \(T.self) as JSON: \(error)")
        }
    }

    /// Objects come without `metadata.managedFields` (`CodingUserInfoKey.stripManagedFields`):
    /// this client's users read objects and patch what they write (an update that leaves the
    /// field out keeps the stored one), and decoding the server's apply bookkeeping for every
    /// watched pod cost CPU and memory for nothing.
    static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.userInfo[.stripManagedFields] = true
        return decoder
    }()

    func decode<T: Decodable>(_ type: T.Type, from data: Data, path: String) throws -> T {
        do {
            return try Self.decoder.decode(type, from: data)
        } catch {
            throw APIClientError.decoding("the answer of \(server)\(path) is not a \(T.self): \(Self.describe(decoding: error))")
        }
    }

    static func describe(decoding error: any Error) -> String {
        guard let error = error as? DecodingError else { return "\(error)" }
        func path(_ context: DecodingError.Context) -> String {
            let text = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
            return text.isEmpty ? "" : " at \(text.dropFirst(text.hasPrefix(".") ? 1 : 0))"
        }
        switch error {
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
            return context.debugDescription + path(context)
        case .keyNotFound(let key, let context):
            return "missing \(key.stringValue)" + path(context)
        @unknown default:
            return "\(error)"
        }
    }
}

/// The fields of a Kubernetes `Status` a client acts on.
struct StatusBody: Decodable {
    var kind: String?
    var status: String?
    var message: String?
    var reason: String?
    var code: Int?
}
