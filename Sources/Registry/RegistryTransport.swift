import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// The HTTP side of pulls: one AsyncHTTPClient per TLS profile (the system's CAs; a host's extra
/// CA, client certificate or disabled verification from the registry file), each keeping its
/// own connection pool, so parallel blob downloads from one registry reuse connections.
///
/// Redirects are followed here, not by AsyncHTTPClient, so that credentials never leave the
/// registry: a blob answered with `307 Location: https://storage…` (S3, GCS behind Docker Hub) is
/// fetched from there without the `Authorization` header, as Docker and containerd do.
actor RegistryTransport {
    private var clients: [RegistryConfig.TLSSettings?: HTTPClient] = [:]
    private var closed = false

    /// Idle time after which a stalled response fails (and a blob download resumes).
    let readTimeout: TimeAmount
    let connectTimeout: TimeAmount
    /// Most redirects followed for one request (Go's net/http and containerd: 10).
    static let maxRedirects = 10

    init(readTimeout: Duration = .seconds(30), connectTimeout: Duration = .seconds(15)) {
        self.readTimeout = .nanoseconds(Int64(readTimeout.components.seconds) * 1_000_000_000
                                        + readTimeout.components.attoseconds / 1_000_000_000)
        self.connectTimeout = .nanoseconds(Int64(connectTimeout.components.seconds) * 1_000_000_000
                                           + connectTimeout.components.attoseconds / 1_000_000_000)
    }

    /// Closes every connection; no request may follow.
    func shutdown() async {
        closed = true
        let all = Array(clients.values)
        clients = [:]
        for client in all { try? await client.shutdown() }
    }

    /// The client for a host's TLS settings, made on first use. A CA or key file that cannot be
    /// loaded is an error naming it.
    func client(for tls: RegistryConfig.TLSSettings?) throws -> HTTPClient {
        guard !closed else { throw RegistryError(.invalidInput, "the registry client has been shut down") }
        if let client = clients[tls] { return client }
        var configuration = HTTPClient.Configuration(
            tlsConfiguration: try Self.tlsConfiguration(tls), redirectConfiguration: .disallow,
            timeout: .init(connect: connectTimeout, read: readTimeout),
            // Layers are compressed already; a Content-Encoding would break digests anyway.
            decompression: .disabled)
        configuration.httpVersion = .http1Only
        configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 16)
        // Connection failures are reported at once; the puller decides about other endpoints.
        configuration.connectionPool.retryConnectionEstablishment = false
        let client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
        clients[tls] = client
        return client
    }

    static func tlsConfiguration(_ settings: RegistryConfig.TLSSettings?) throws -> TLSConfiguration {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.minimumTLSVersion = .tlsv12
        guard let settings else { return tls }
        if let caFile = settings.caFile {
            // Added to the system's CAs, as containerd's CRI plugin does with ca_file.
            do {
                let certificates = try NIOSSLCertificate.fromPEMFile(caFile)
                guard !certificates.isEmpty else { throw RegistryError(.invalidInput, "no certificate in it") }
                tls.additionalTrustRoots = [.certificates(certificates)]
            } catch {
                throw RegistryError(.invalidInput, "cannot load the CA file \(caFile): \(error)")
            }
        }
        if let certFile = settings.certFile, let keyFile = settings.keyFile {
            do {
                tls.certificateChain = try NIOSSLCertificate.fromPEMFile(certFile).map { .certificate($0) }
            } catch {
                throw RegistryError(.invalidInput, "cannot load the client certificate \(certFile): \(error)")
            }
            do {
                tls.privateKey = .privateKey(try NIOSSLPrivateKey(file: keyFile, format: .pem))
            } catch {
                throw RegistryError(.invalidInput, "cannot load the client key \(keyFile): \(error)")
            }
        }
        if settings.insecureSkipVerify { tls.certificateVerification = .none }
        return tls
    }
}

/// One request's answer after redirects: status, headers and the streaming body.
struct RegistryResponse {
    var status: HTTPResponseStatus
    var headers: HTTPHeaders
    var body: HTTPClientResponse.Body
    /// The URL that answered (after redirects).
    var url: String

    /// The body read whole, up to `limit` bytes (a manifest, a token, an error document).
    func collect(limit: Int, what: String) async throws -> [UInt8] {
        do {
            var buffer = try await body.collect(upTo: limit)
            return buffer.readBytes(length: buffer.readableBytes) ?? []
        } catch let error as NIOTooManyBytesError {
            _ = error
            throw RegistryError(.invalidContent, "\(what) is larger than \(limit) bytes")
        } catch {
            throw RegistryTransport.transportError(error, method: "GET", url: url)
        }
    }

    /// Reads and drops the rest of the body, so the connection can be reused (small bodies only).
    func discard() async {
        _ = try? await body.collect(upTo: 64 * 1024)
    }
}

extension RegistryTransport {
    /// Sends `method url` with `headers`; follows redirects, sending `authorization` only to
    /// the origin it was meant for.
    func send(_ method: HTTPMethod, _ url: String, headers: HTTPHeaders, body: [UInt8]? = nil, authorization: String?,
              tls: RegistryConfig.TLSSettings?) async throws -> RegistryResponse {
        var current = url
        let origin = Self.origin(of: url)
        for _ in 0...Self.maxRedirects {
            var request = HTTPClientRequest(url: current)
            request.method = method
            request.headers = headers
            request.headers.replaceOrAdd(name: "User-Agent", value: "swiftlet")
            if let body { request.body = .bytes(ByteBuffer(bytes: body)) }
            let sameOrigin = Self.origin(of: current) == origin
            if let authorization, sameOrigin {
                request.headers.replaceOrAdd(name: "Authorization", value: authorization)
            }
            // The registry's own TLS settings apply to it; redirect targets elsewhere are
            // public storage verified against the system's CAs.
            let client = try client(for: sameOrigin ? tls : nil)
            let response: HTTPClientResponse
            do {
                response = try await client.execute(request, deadline: .now() + .hours(6))
            } catch {
                throw Self.transportError(error, method: method.rawValue, url: current)
            }
            let code = response.status.code
            guard [301, 302, 303, 307, 308].contains(code), let location = response.headers.first(name: "Location") else {
                return RegistryResponse(status: response.status, headers: response.headers, body: response.body, url: current)
            }
            _ = try? await response.body.collect(upTo: 64 * 1024)
            guard let next = URL(string: location, relativeTo: URL(string: current))?.absoluteURL,
                  let scheme = next.scheme?.lowercased(), scheme == "https" || scheme == "http"
            else {
                throw RegistryError(.server, "\(method.rawValue) \(current): redirect to an invalid location \"\(location)\"")
            }
            // Never from HTTPS down to plain HTTP (Go's client allows it; credentials and
            // content integrity do not need it).
            if current.lowercased().hasPrefix("https:"), scheme == "http" {
                throw RegistryError(.server, "\(method.rawValue) \(current): refusing a redirect from HTTPS to plain HTTP (\(next.absoluteString))")
            }
            current = next.absoluteString
        }
        throw RegistryError(.server, "\(method.rawValue) \(url): stopped after \(Self.maxRedirects) redirects")
    }

    /// `scheme://host:port`, lowercased, the unit credentials are scoped to.
    static func origin(of url: String) -> String? {
        guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased(),
              let host = components.host?.lowercased()
        else { return nil }
        let port = components.port ?? (scheme == "https" ? 443 : 80)
        return "\(scheme)://\(host):\(port)"
    }

    /// A transport failure worded as Go's net/http and containerd word it:
    /// `failed to do request: Head "URL": dial tcp HOST:PORT: connect: connection refused`.
    static func transportError(_ error: any Error, method: String, url: String) -> any Error {
        if error is CancellationError { return error }
        if let error = error as? HTTPClientError, error == .cancelled { return CancellationError() }
        if let error = error as? RegistryError { return error }
        let verb = method.prefix(1).uppercased() + method.dropFirst().lowercased()
        let hostPort = URLComponents(string: url).map { c in
            "\(c.host ?? ""):\(c.port ?? (c.scheme == "http" ? 80 : 443))"
        } ?? url
        return RegistryError(.unavailable, "failed to do request: \(verb) \"\(url)\": \(describe(error, hostPort: hostPort))")
    }

    static func describe(_ error: any Error, hostPort: String) -> String {
        if let error = error as? HTTPClientError {
            switch error {
            case .connectTimeout: return "dial tcp \(hostPort): i/o timeout"
            case .readTimeout: return "read tcp \(hostPort): i/o timeout"
            case .deadlineExceeded: return "context deadline exceeded"
            case .remoteConnectionClosed: return "EOF (the server closed the connection)"
            default: return "\(error)"
            }
        }
        if let error = error as? NIOConnectionError {
            if let first = error.connectionErrors.first { return describe(first.error, hostPort: hostPort) }
            if let dns = error.dnsAError ?? error.dnsAAAAError {
                return "dial tcp: lookup \(hostPort.split(separator: ":").first ?? ""): \(dns)"
            }
        }
        if let error = error as? IOError {
            let text: String
            switch error.errnoCode {
            case ECONNREFUSED: text = "connection refused"
            case EHOSTUNREACH: text = "no route to host"
            case ENETUNREACH: text = "network is unreachable"
            case ETIMEDOUT: text = "i/o timeout"
            case ECONNRESET: return "read tcp \(hostPort): connection reset by peer"
            default: text = String(cString: strerror(error.errnoCode)).lowercased()
            }
            return "dial tcp \(hostPort): connect: \(text)"
        }
        if let error = error as? NIOSSLError {
            return "tls: " + describeTLS("\(error)")
        }
        if let error = error as? NIOSSLExtraError {
            return "tls: failed to verify certificate: x509: \(error)"
        }
        return "\(error)"
    }

    /// BoringSSL's verification failures in the words Go's crypto/x509 uses for the common ones.
    static func describeTLS(_ text: String) -> String {
        if text.contains("CERTIFICATE_VERIFY_FAILED") {
            // BoringSSL does not say which check failed; these are the ones it makes.
            return "failed to verify certificate: x509: certificate not trusted: signed by an unknown authority, "
                + "expired or not yet valid (CERTIFICATE_VERIFY_FAILED)"
        }
        if text.contains("WRONG_VERSION_NUMBER") {
            return "first record does not look like a TLS handshake (is the endpoint plain HTTP?)"
        }
        return text
    }
}
