import NIOSSL

/// How to reach an etcd cluster.
public struct EtcdClientSettings: Sendable {
    public var endpoints: [EtcdEndpoint]
    /// PEM CA bundle that signed the members' serving certificates (`--datastore-cafile`).
    public var caFile: String?
    /// PEM client certificate and key, for members started with `--client-cert-auth`.
    public var certFile: String?
    public var keyFile: String?
    /// kube-apiserver waits 20 s to dial; a shorter wait moves to the next member sooner.
    public var dialTimeout: Duration = .seconds(5)
    /// One unary call; etcd itself gives up on a proposal after about 7 s (`ErrTimeout`).
    public var requestTimeout: Duration = .seconds(15)
    public var keepaliveTime: Duration = .seconds(30)
    public var keepaliveTimeout: Duration = .seconds(10)
    /// The largest reply accepted (kube-apiserver: `math.MaxInt32`).
    public var maximumReplyBytes = Int(Int32.max)

    public init(endpoints: [EtcdEndpoint], caFile: String? = nil, certFile: String? = nil, keyFile: String? = nil) {
        self.endpoints = endpoints
        self.caFile = caFile
        self.certFile = certFile
        self.keyFile = keyFile
    }
}

/// etcd's v3 API over the members of one cluster: the KV, Watch and Maintenance calls swiftlet
/// needs, one HTTP/2 connection per member, used in turn when one fails.
///
/// Reads go to the next member when one is unreachable or answers Unavailable (no leader, a
/// stopping member). Writes do only when their request cannot have reached etcd, as clientv3
/// retries them (`isSafeRetryMutableRPC` in clientv3/retry.go): a write that timed out may have
/// been applied, and repeating it could apply it twice; the caller sees the error.
public actor EtcdClient {
    public nonisolated let settings: EtcdClientSettings
    private let tls: NIOSSLContext?
    private var connections: [Int: GRPCConnection] = [:]
    private var connecting: [Int: Task<GRPCConnection, any Error>] = [:]
    /// The member that answered last; calls start there.
    private var preferred = 0

    public init(settings: EtcdClientSettings) throws(EtcdConfigurationError) {
        guard !settings.endpoints.isEmpty else { throw EtcdConfigurationError("no etcd endpoint given") }
        self.settings = settings
        if settings.endpoints.contains(where: \.usesTLS) || settings.caFile != nil || settings.certFile != nil {
            tls = try Self.tlsContext(settings)
        } else {
            tls = nil
        }
    }

    /// Closes every connection; later calls reconnect.
    public func close() {
        for task in connecting.values { task.cancel() }
        connecting.removeAll()
        for connection in connections.values { connection.close() }
        connections.removeAll()
    }

    // MARK: - Calls

    /// The cluster's current revision: a linearizable read, so it needs a leader (tests and
    /// readiness checks use it to know the cluster serves).
    public func currentRevision() async throws(EtcdError) -> Int64 {
        try await range(EtcdRangeRequest(key: EtcdStorage.compactRevisionKey, countOnly: true)).header.revision
    }

    func range(_ request: EtcdRangeRequest) async throws(EtcdError) -> EtcdRangeResponse {
        let reply = try await call("/etcdserverpb.KV/Range", ProtoWriter.encode { request.encode(into: &$0) }, idempotent: true)
        return try EtcdRangeResponse(bytes: reply)
    }

    /// A transaction; `idempotent` only for read-only ones.
    func txn(_ request: EtcdTxnRequest, idempotent: Bool = false) async throws(EtcdError) -> EtcdTxnResponse {
        let reply = try await call("/etcdserverpb.KV/Txn", ProtoWriter.encode { request.encode(into: &$0) }, idempotent: idempotent)
        return try EtcdTxnResponse(bytes: reply)
    }

    func compact(_ request: EtcdCompactionRequest) async throws(EtcdError) {
        _ = try await call("/etcdserverpb.KV/Compact", ProtoWriter.encode { request.encode(into: &$0) }, idempotent: false)
    }

    /// A connection for a streaming call (a watch), trying the members in turn.
    func streamConnection() async throws(EtcdError) -> GRPCConnection {
        var lastError = EtcdError.connection(endpoint: "etcd", reason: "no endpoints")
        for attempt in 0..<settings.endpoints.count {
            let index = (preferred + attempt) % settings.endpoints.count
            do {
                let connection = try await connection(at: index)
                preferred = index
                return connection
            } catch {
                lastError = error
            }
        }
        throw lastError
    }

    /// Tells the client a connection failed mid-stream, so the next call picks another member.
    func streamFailed(_ connection: GRPCConnection) {
        guard let index = settings.endpoints.firstIndex(of: connection.endpoint) else { return }
        avoid(index, closing: connection)
    }

    /// One call, moved to the next member when it may be. When every member failed in a way
    /// worth retrying (none reachable, or none with a leader while the members elect one after
    /// the leader died), the pass is repeated with a short, growing pause until the request
    /// timeout, as clientv3's retry interceptor repeats safe calls until their deadline
    /// (clientv3/retry_interceptor.go): a read during an etcd election waits, it does not fail.
    private func call(_ method: String, _ request: [UInt8], idempotent: Bool) async throws(EtcdError) -> [UInt8] {
        let deadline = ContinuousClock.now + settings.requestTimeout
        var pause = Duration.milliseconds(50)
        while true {
            do {
                return try await callOnce(method, request, idempotent: idempotent)
            } catch let failure {
                guard failure.retryAll, ContinuousClock.now + pause < deadline, !Task.isCancelled else { throw failure.error }
                try? await Task.sleep(for: pause)
                pause = min(pause * 2, .milliseconds(800))
            }
        }
    }

    /// Why a pass over the members failed, and whether another pass may help.
    private struct PassFailure: Error {
        let error: EtcdError
        let retryAll: Bool
    }

    private func callOnce(_ method: String, _ request: [UInt8], idempotent: Bool) async throws(PassFailure) -> [UInt8] {
        var lastError = EtcdError.connection(endpoint: "etcd", reason: "no endpoints")
        for attempt in 0..<settings.endpoints.count {
            let index = (preferred + attempt) % settings.endpoints.count
            let connection: GRPCConnection
            do {
                connection = try await self.connection(at: index)
            } catch {
                lastError = error
                continue
            }
            do {
                let reply = try await connection.unary(method, request, timeout: settings.requestTimeout,
                                                       maximumReplyBytes: settings.maximumReplyBytes)
                preferred = index
                return reply
            } catch {
                lastError = error.error
                dropIfBroken(index, connection, error.error)
                guard !error.requestSent || (idempotent && error.error.isRetryableRead) else {
                    throw PassFailure(error: error.error, retryAll: false)
                }
            }
        }
        // Every member failed before the request reached it, or with an answer a read may repeat.
        throw PassFailure(error: lastError, retryAll: true)
    }

    /// After a failed call: a broken connection is closed, and a member that is unreachable, has
    /// no leader or eats packets (Unavailable, deadline) is not tried first next time.
    private func dropIfBroken(_ index: Int, _ connection: GRPCConnection, _ error: EtcdError) {
        switch error {
        case .connection:
            avoid(index, closing: connection)
        case .status(let code, _, _) where code == EtcdError.Code.deadlineExceeded || code == EtcdError.Code.unavailable:
            avoid(index, closing: connection.isActive ? nil : connection)
        default:
            if !connection.isActive { avoid(index, closing: connection) }
        }
    }

    /// Moves calls to the next member; closes `connection` (when given) so member `index` is
    /// dialled again when its turn comes.
    private func avoid(_ index: Int, closing connection: GRPCConnection?) {
        if let connection {
            if connections[index] === connection { connections[index] = nil }
            connection.close()
        }
        if preferred == index { preferred = (index + 1) % settings.endpoints.count }
    }

    private func connection(at index: Int) async throws(EtcdError) -> GRPCConnection {
        if let existing = connections[index], existing.isActive { return existing }
        let task: Task<GRPCConnection, any Error>
        if let pending = connecting[index] {
            task = pending
        } else {
            let endpoint = settings.endpoints[index]
            let tls = self.tls, settings = self.settings
            task = Task { try await GRPCConnection.connect(to: endpoint, tls: tls, settings: settings) }
            connecting[index] = task
        }
        do {
            let connection = try await task.value
            if connecting[index] == task { connecting[index] = nil }
            connections[index] = connection
            return connection
        } catch {
            if connecting[index] == task { connecting[index] = nil }
            throw (error as? EtcdError) ?? .connection(endpoint: settings.endpoints[index].description, reason: "\(error)")
        }
    }

    private static func tlsContext(_ settings: EtcdClientSettings) throws(EtcdConfigurationError) -> NIOSSLContext {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.applicationProtocols = ["h2"]
        tls.minimumTLSVersion = .tlsv12
        do {
            if let caFile = settings.caFile {
                tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(caFile))
            }
            switch (settings.certFile, settings.keyFile) {
            case (let certFile?, let keyFile?):
                tls.certificateChain = try NIOSSLCertificate.fromPEMFile(certFile).map { .certificate($0) }
                tls.privateKey = .privateKey(try NIOSSLPrivateKey(file: keyFile, format: .pem))
            case (nil, nil):
                break
            default:
                throw EtcdConfigurationError("an etcd client certificate needs both --datastore-certfile and --datastore-keyfile")
            }
            return try NIOSSLContext(configuration: tls)
        } catch let error as EtcdConfigurationError {
            throw error
        } catch {
            throw EtcdConfigurationError("etcd TLS settings (CA \(settings.caFile ?? "system"), certificate \(settings.certFile ?? "none")): \(error)")
        }
    }
}
