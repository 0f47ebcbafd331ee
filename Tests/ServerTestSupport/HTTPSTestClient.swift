import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL

/// An HTTPS client of a test cluster that trusts only the cluster's CA and sends exactly the
/// method, headers and body it is given (odd Authorization headers, hostile bodies), returning
/// the status, headers and body of any answer. Shut it down when done (`withHTTPSClient`).
package final class HTTPSTestClient: Sendable {
    let http: HTTPClient
    package let server: String

    package init(server: String, caPEM: String) throws {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(Array(caPEM.utf8)))
        tls.certificateVerification = .fullVerification
        var configuration = HTTPClient.Configuration(tlsConfiguration: tls, redirectConfiguration: .disallow)
        configuration.httpVersion = .http1Only
        http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        self.server = server
    }

    package func shutdown() async {
        try? await http.shutdown()
    }

    /// Sends one request; `headers` are sent as given (an `Authorization` header too).
    package func send(_ method: String, _ path: String, headers: [String: String] = [:], body: [UInt8]? = nil,
                      timeout: Duration = .seconds(120)) async throws -> HTTPTestResponse {
        var request = HTTPClientRequest(url: server + path)
        request.method = HTTPMethod(rawValue: method)
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        // One connection per request, as HTTPTestClient does: a request never lands on a
        // connection the server is closing (after a watch ends, or an early error answer).
        request.headers.replaceOrAdd(name: "Connection", value: "close")
        if let body { request.body = .bytes(ByteBuffer(bytes: body)) }
        let response = try await http.execute(request, timeout: .nanoseconds(Int64(timeout.components.seconds) * 1_000_000_000))
        let bytes = try await response.body.collect(upTo: 256 * 1024 * 1024)
        var fields: [String: String] = [:]
        for header in response.headers {
            let name = header.name.lowercased()
            fields[name] = fields[name].map { $0 + ", " + header.value } ?? header.value
        }
        return HTTPTestResponse(status: Int(response.status.code), headers: fields, body: Array(bytes.readableBytesView))
    }

    /// `send` with a bearer token and a body of `contentType`.
    package func call(_ token: String, _ method: String, _ path: String, _ body: String? = nil,
                      contentType: String = "application/json") async throws -> HTTPTestResponse {
        var headers = ["Authorization": "Bearer \(token)"]
        if body != nil { headers["Content-Type"] = contentType }
        return try await send(method, path, headers: headers, body: body.map { Array($0.utf8) })
    }
}

/// Runs `body` with an HTTPS client of `cluster`, shutting the client down afterwards.
package func withHTTPSClient<T: Sendable>(_ cluster: TestCluster, _ body: (HTTPSTestClient) async throws -> T) async throws -> T {
    let client = try HTTPSTestClient(server: cluster.server, caPEM: cluster.certificates.caCertificatePEM)
    do {
        let result = try await body(client)
        await client.shutdown()
        return result
    } catch {
        await client.shutdown()
        throw error
    }
}
