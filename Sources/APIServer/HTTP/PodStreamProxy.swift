import APIMachinery
import APIRegistry
import Foundation
import KubeAPI
import Logging
import NIOCore
import NIOHTTP1
import Streaming

/// `pods/{name}/exec`, `pods/{name}/attach` and `pods/{name}/portforward`: kube-apiserver's
/// connect subresources (pkg/registry/core/pod/rest/subresources.go, strategy.go
/// `streamLocation`), proxied to the pod's kubelet with an upgrade-aware proxy: the client's
/// upgrade request (WebSocket, SPDY/3.1, SPDY inside a WebSocket) goes to the kubelet with
/// the server's kubelet credentials, the kubelet's 101 and subprotocol come back, and then
/// the two connections are spliced byte for byte.
///
/// Before anything reaches a kubelet, the request is authenticated and authorized (`create`
/// on the subresource, as kube-apiserver 1.31+ asks for WebSocket GETs too: nodes and service
/// accounts are refused) and checked as kube-apiserver checks it, each failure a Status:
/// 404 for a missing pod, 400 `container X is not valid for pod Y`, 400 `pod Y does not have
/// a host assigned`, 400 `you must specify at least 1 command`. A kubelet that refuses the
/// upgrade (`container not found ("c")` for a container that is not running) has its answer
/// passed through, which kubectl prints as `unable to upgrade connection: ...`.
public final class PodStreamProxy: Sendable {
    static let subresources: Set<String> = ["exec", "attach", "portforward"]
    /// Request headers that are the proxy's own business, not the kubelet's.
    static let hopHeaders: Set<String> = ["connection", "upgrade", "keep-alive", "proxy-connection", "proxy-authorization",
                                          "te", "trailer", "transfer-encoding", "authorization", "host", "content-length"]

    let service: APIService
    let authenticator: Authenticator?
    let kubeletClientToken: String?
    let dialer: KubeletUpgradeDialer
    let logger: Logger

    public init(service: APIService, authenticator: Authenticator?, kubeletClientToken: String?, logger: Logger) throws {
        self.service = service
        self.authenticator = authenticator
        self.kubeletClientToken = kubeletClientToken
        self.dialer = try KubeletUpgradeDialer()
        self.logger = logger
    }

    /// The upgrade decision (`UpgradableHTTPChannel`): `.pass` for any other path.
    public func decide(_ request: UpgradeRequest) async -> UpgradeDecision {
        guard let info = RequestInfo(path: request.path), info.group.isEmpty, info.version == "v1", info.resource == "pods",
              let subresource = info.subresource, Self.subresources.contains(subresource),
              let namespace = info.namespace, let name = info.name else { return .pass }
        do {
            return try await proxy(request, subresource: subresource, namespace: namespace, name: name)
        } catch {
            if error.code >= 500 {
                logger.error("pod stream proxy failed", metadata: ["path": "\(request.path)", "error": "\(error)"])
            }
            return .refuse(Self.refusal(error))
        }
    }

    static func refusal(_ error: APIError) -> UpgradeRefusal {
        var body = JSONSerializer.serialize(error.status)
        body.append(UInt8(ascii: "\n"))
        return UpgradeRefusal(status: error.code, contentType: MediaTypes.json, body: body)
    }

    private func proxy(_ request: UpgradeRequest, subresource: String, namespace: String, name: String) async throws(APIError) -> UpgradeDecision {
        guard request.head.method == .GET || request.head.method == .POST else { throw APIError.methodNotAllowed() }
        let user = try await authenticate(request)
        try await NodeAuthorizer.authorize(user, RequestAttributes(verb: "create", group: "", resource: "pods", subresource: subresource,
                                                                   namespace: namespace, name: name), service: service)
        let query = URLQuery.parseAll(request.query)
        let location = try await Self.location(subresource: subresource, namespace: namespace, name: name, query: query, service: service)
        var head = HTTPRequestHead(version: .http1_1, method: request.head.method, uri: location.uri)
        for (header, value) in request.head.headers where !Self.hopHeaders.contains(header.lowercased()) {
            head.headers.add(name: header, value: value)
        }
        head.headers.add(name: "Host", value: location.host.contains(":") ? "[\(location.host)]:\(location.port)" : "\(location.host):\(location.port)")
        if let kubeletClientToken { head.headers.add(name: "Authorization", value: "Bearer \(kubeletClientToken)") }
        let answer: KubeletUpgradeDialer.Answer
        do {
            answer = try await dialer.dial(host: location.host, port: location.port, head: head, upgradeProtocol: request.upgradeProtocol)
        } catch {
            throw APIError(code: 500, reason: "InternalError",
                           message: "error dialing backend: \(location.host):\(location.port): \(error)")
        }
        switch answer {
        case .refused(let status, let contentType, let body):
            return .refuse(UpgradeRefusal(status: status, contentType: contentType, body: body))
        case .switched(let backend, let response):
            var headers: [(String, String)] = []
            for (header, value) in response.headers
            where !["connection", "upgrade", "content-length", "transfer-encoding", "date"].contains(header.lowercased()) {
                headers.append((header, value))
            }
            return .accept(headers: headers) { client in
                try await backend.executeThenClose { inbound, outbound in
                    await Self.splice(client: client, backendInbound: inbound, backendOutbound: outbound)
                }
            }
        }
    }

    /// Copies both ways until either side ends, then both close (UpgradeAwareHandler waits
    /// for one copy to finish and closes both connections).
    static func splice(client: UpgradedConnection, backendInbound: NIOAsyncChannelInboundStream<ByteBuffer>,
                       backendOutbound: NIOAsyncChannelOutboundWriter<ByteBuffer>) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                do {
                    for try await bytes in client.inbound { try await backendOutbound.write(bytes) }
                } catch {}
            }
            group.addTask {
                do {
                    for try await bytes in backendInbound { try await client.outbound.write(bytes) }
                } catch {}
            }
            _ = await group.next()
            group.cancelAll()
        }
    }

    private func authenticate(_ request: UpgradeRequest) async throws(APIError) -> UserInfo? {
        guard let authenticator else { return nil }
        guard let user = await authenticator.authenticate(authorization: request.head.headers["Authorization"].first, service: service) else {
            throw Authenticator.unauthorized
        }
        return user
    }

    /// Where the kubelet serves it: host, port and `/{exec|attach|portForward}/ns/pod[/container]?...`.
    struct Location: Equatable {
        var host: String
        var port: Int
        var uri: String
    }

    /// kube-apiserver's checks, in its order (`streamLocation`, `PortForwardLocation`), and the
    /// kubelet URL with kubelet's parameters (`streamParams`: flags as "1", `command` repeated,
    /// `port` per forwarded port).
    static func location(subresource: String, namespace: String, name: String, query: [(name: String, value: String)],
                         service: APIService) async throws(APIError) -> Location {
        func value(_ key: String) -> String? { query.last { $0.name == key }?.value }
        func flag(_ key: String) throws(APIError) -> Bool {
            guard let text = value(key), !text.isEmpty else { return false }
            guard let flag = PodLogProxy.parseBool(text) else {
                throw APIError.badRequest("strconv.ParseBool: parsing \(ObjectValidation.quote(text)): invalid syntax")
            }
            return flag
        }
        let pod = try await service.store(group: "", name: "pods").get(namespace: namespace, name: name)
        var path: String
        var params: [(String, String)] = []
        if subresource == "portforward" {
            path = "/portForward/\(escape(namespace))/\(escape(name))"
            for port in query.filter({ $0.name == "ports" }).flatMap({ $0.value.split(separator: ",") }) {
                guard let number = Int32(port.trimmingCharacters(in: .whitespaces)), number > 0, number < 65536 else {
                    throw APIError.badRequest("invalid port \(ObjectValidation.quote(String(port))): a port must be a number from 1 to 65535")
                }
                params.append(("port", String(number)))
            }
        } else {
            let container = try Self.container(value("container") ?? "", pod: pod, name: name)
            path = "/\(subresource)/\(escape(namespace))/\(escape(name))/\(escape(container))"
        }
        guard let nodeName = pod.string(at: ["spec", "nodeName"]), !nodeName.isEmpty else {
            throw APIError.badRequest("pod \(name) does not have a host assigned")
        }
        guard let node = try await service.store(group: "", name: "nodes").find(namespace: nil, name: nodeName) else {
            throw APIError(code: 503, reason: "ServiceUnavailable",
                           message: "pod \(ObjectValidation.quote(name)) is bound to node \(ObjectValidation.quote(nodeName)), which does not exist: there is no kubelet to stream from")
        }
        let (host, port) = try PodLogProxy.kubeletEndpoint(node)
        if subresource == "exec" {
            let command = query.filter { $0.name == "command" }.map(\.value)
            guard !command.isEmpty else { throw APIError.badRequest("you must specify at least 1 command") }
            params += command.map { ("command", $0) }
        }
        if subresource != "portforward" {
            for key in ["stdin", "stdout", "stderr", "tty"] {
                if try flag(key) { params.append((key, "1")) }
            }
        }
        // Go's url.Values.Encode: sorted by key, each value in order.
        let encoded = params.enumerated().sorted { ($0.element.0, $0.offset) < ($1.element.0, $1.offset) }
            .map { "\(queryEscape($0.element.0))=\(queryEscape($0.element.1))" }.joined(separator: "&")
        return Location(host: host, port: port, uri: encoded.isEmpty ? path : path + "?" + encoded)
    }

    /// The container addressed (`streamLocation`): the one named, which must be the pod's, or
    /// the only one.
    static func container(_ requested: String, pod: KubeObject, name: String) throws(APIError) -> String {
        let spec = pod.value(at: ["spec"])
        func names(_ key: String) -> [String] { spec?[key]?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? [] }
        let containers = names("containers"), initContainers = names("initContainers")
        if requested.isEmpty {
            switch containers.count {
            case 1: return containers[0]
            case 0: throw APIError.badRequest("a container name must be specified for pod \(name)")
            default:
                var message = "a container name must be specified for pod \(name), choose one of: [\(containers.joined(separator: " "))]"
                if !initContainers.isEmpty { message += " or one of the init containers: [\(initContainers.joined(separator: " "))]" }
                throw APIError.badRequest(message)
            }
        }
        guard (containers + initContainers + names("ephemeralContainers")).contains(requested) else {
            throw APIError.badRequest("container \(requested) is not valid for pod \(name)")
        }
        return requested
    }

    static func escape(_ segment: String) -> String { PodLogProxy.escape(segment) }

    /// Go's url.QueryEscape: unreserved characters stay, a space is `+`, the rest `%XX`.
    static func queryEscape(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "~"):
                out.append(Character(UnicodeScalar(byte)))
            case UInt8(ascii: " "):
                out.append("+")
            default:
                out += String(format: "%%%02X", byte)
            }
        }
        return out
    }
}
