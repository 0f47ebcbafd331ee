import Agent
import Foundation
import Hummingbird
import KubeAPI
import Logging

/// The kubelet API's routes behind kubelet's authentication filter
/// (pkg/kubelet/server/server.go InstallAuthFilter): every request needs a bearer token the
/// API server vouches for (401 `Unauthorized` otherwise) and an authorization for the verb on
/// `nodes/<subresource>` (403 `Forbidden (user=..., verb=..., resource=..., subresource=...)`).
struct KubeletHandler: HTTPResponder {
    typealias Context = BasicRequestContext

    let host: any KubeletHost
    let gate: KubeletGate
    let stats: StatsCollector
    let logger: Logger

    func respond(to request: Request, context: Context) async throws -> Response {
        let path = request.uri.path
        switch await gate.check(authorization: request.headers[.authorization], method: request.method.rawValue, path: path) {
        case .failure(let refusal):
            return Self.text(String(decoding: refusal.body, as: UTF8.self), status: HTTPResponse.Status(code: refusal.status))
        case .success:
            return await route(request, path: path)
        }
    }

    private func route(_ request: Request, path: String) async -> Response {
        let parts = path.split(separator: "/", omittingEmptySubsequences: false).dropFirst().map {
            String($0).removingPercentEncoding ?? String($0)
        }
        let trimmed = parts.last == "" && parts.count > 1 ? Array(parts.dropLast()) : parts
        if let first = trimmed.first, KubeletStreaming.endpoints.contains(first) {
            // The streaming endpoints switch protocols (KubeletStreaming); a plain request cannot
            // be served, as kubelet's streaming server answers it.
            guard request.method == .get || request.method == .post else {
                var response = Self.text("Method Not Allowed", status: .methodNotAllowed)
                response.headers[.allow] = "GET, POST"
                return response
            }
            return Self.text("unable to upgrade: missing upgrade headers in request", status: .badRequest)
        }
        if trimmed.first == "run" {
            guard request.method == .post else {
                var response = Self.text("Method Not Allowed", status: .methodNotAllowed)
                response.headers[.allow] = "POST"
                return response
            }
            do {
                return try await RunRequest(host: host).respond(path: trimmed, query: URLQuery.parse(request.uri.query))
            } catch {
                return Self.text(error.message, status: error.status)
            }
        }
        guard request.method == .get || request.method == .head else {
            var response = Self.text("Method Not Allowed", status: .methodNotAllowed)
            response.headers[.allow] = "GET"
            return response
        }
        switch trimmed.first {
        case "healthz" where trimmed.count == 1:
            return Self.text("ok")
        case "pods" where trimmed.count == 1:
            return Self.json(PodList(items: host.pods()))
        case "stats" where trimmed == ["stats", "summary"]:
            return Self.json(await stats.summary())
        case "metrics" where trimmed.count == 1:
            return Self.text(KubeletMetrics.text(nodeName: host.nodeName, pods: host.pods()), contentType: KubeletMetrics.contentType)
        case "containerLogs":
            do {
                return try ContainerLogsRequest(host: host).respond(request, path: parts, query: URLQuery.parse(request.uri.query))
            } catch {
                return Self.text(error.message, status: error.status)
            }
        default:
            return Self.text("404 page not found\n", status: .notFound)
        }
    }

    /// kubelet's `/pods` answer: a v1 PodList.
    struct PodList: Encodable {
        let kind = "PodList"
        let apiVersion = "v1"
        let metadata: [String: String] = [:]
        let items: [Pod]
    }

    static func json(_ value: some Encodable) -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(value) else {
            return text("encoding the response failed", status: .internalServerError)
        }
        return Response(status: .ok, headers: [.contentType: "application/json"],
                        body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func text(_ text: String, status: HTTPResponse.Status = .ok, contentType: String = "text/plain; charset=utf-8") -> Response {
        Response(status: status, headers: [.contentType: contentType], body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }
}
