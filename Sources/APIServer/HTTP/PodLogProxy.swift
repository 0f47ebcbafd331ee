import APIMachinery
import APIRegistry
import AsyncHTTPClient
import Foundation
import Hummingbird
import KubeAPI
import NIOCore
import NIOSSL

/// `GET /api/v1/namespaces/{ns}/pods/{name}/log`: kube-apiserver's pod log subresource
/// (pkg/registry/core/pod/rest/log.go and strategy.go LogLocation). It validates the options,
/// picks the container, finds the pod's node and streams the kubelet's
/// `/containerLogs/{ns}/{pod}/{container}` answer through, flushed as it arrives for `follow`.
///
/// Like kube-apiserver without `--kubelet-certificate-authority`, the kubelet's certificate
/// is not verified (agents make theirs self-signed); the server authenticates to kubelets
/// with a bearer token of a `system:masters` identity.
public final class PodLogProxy: Sendable {
    let client: HTTPClient
    let token: String?

    /// - Parameter kubeletClientToken: the bearer token sent to kubelets; nil sends none.
    public init(kubeletClientToken: String?) {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.certificateVerification = .none
        var configuration = HTTPClient.Configuration(tlsConfiguration: tls)
        configuration.httpVersion = .http1Only
        configuration.timeout.connect = .seconds(10)
        client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        token = kubeletClientToken
    }

    /// Closes the client's connections; required before the proxy is released.
    public func shutdown() async {
        try? await client.shutdown()
    }

    /// The query parameters kubectl sends that are forwarded to the kubelet.
    static let forwarded = ["follow", "previous", "timestamps", "sinceSeconds", "sinceTime", "tailLines", "limitBytes"]

    /// The log of `name`'s container, streamed from its node's kubelet.
    func respond(service: APIService, namespace: String, name: String, query: [String: String],
                 request: Request) async throws(APIError) -> Response {
        let options = try Self.validate(query, name: name)
        let pod = try await service.store(group: "", name: "pods").get(namespace: namespace, name: name)
        let container = try Self.container(query["container"] ?? "", pod: pod, name: name)
        guard let nodeName = pod.string(at: ["spec", "nodeName"]), !nodeName.isEmpty else {
            // kube-apiserver answers an unscheduled pod with an empty log (no location).
            return Response(status: .ok, headers: [.contentType: "text/plain"], body: ResponseBody())
        }
        guard let node = try await service.store(group: "", name: "nodes").find(namespace: nil, name: nodeName) else {
            throw APIError(code: 503, reason: "ServiceUnavailable",
                           message: "pod \(ObjectValidation.quote(name)) is bound to node \(ObjectValidation.quote(nodeName)), which does not exist: there is no kubelet to read its log from")
        }
        let (address, port) = try Self.kubeletEndpoint(node, pod: name)
        var components = URLComponents()
        components.scheme = "https"
        components.host = address.contains(":") ? "[\(address)]" : address
        components.port = port
        components.percentEncodedPath = "/containerLogs/\(Self.escape(namespace))/\(Self.escape(name))/\(Self.escape(container))"
        components.queryItems = options.isEmpty ? nil : options
        let url = components.string ?? ""

        var upstream = HTTPClientRequest(url: url)
        upstream.method = .GET
        if let token { upstream.headers.add(name: "Authorization", value: "Bearer \(token)") }
        let response: HTTPClientResponse
        do {
            response = try await client.execute(upstream, deadline: .distantFuture)
        } catch {
            throw APIError(code: 500, reason: "InternalError", message: "Get \"\(url)\": \(error)")
        }
        guard (200...206).contains(response.status.code) else {
            var text = ""
            do {
                for try await chunk in response.body {
                    text += String(buffer: chunk)
                    if text.utf8.count > 64 * 1024 { break }
                }
            } catch {
                throw APIError.internalError("reading the kubelet's answer from \(url): \(error)")
            }
            throw Self.error(status: Int(response.status.code), body: text, name: name)
        }
        let follow = query["follow"].map(Self.isTrue) ?? false
        let body = ResponseBody { writer in
            do {
                try await request.body.consumeWithCancellationOnInboundClose { _ in
                    for try await chunk in response.body {
                        try await writer.write(chunk)
                    }
                }
            } catch is CancellationError {
                // kubectl went away (logs -f interrupted); dropping the response body closes the kubelet stream.
            } catch where follow {
                // The kubelet or its node went away mid-stream: end the log like a closed follow.
            }
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: [.contentType: "text/plain"], body: body)
    }

    // MARK: - Options, container, node

    /// PodLogOptions validation (pkg/apis/core/validation ValidatePodLogOptions): the forwarded
    /// query items, or 400 for an unparsable value and 422 for one out of range.
    static func validate(_ query: [String: String], name: String) throws(APIError) -> [URLQueryItem] {
        var items: [URLQueryItem] = []
        var problems: [ValidationError] = []
        for key in forwarded {
            guard let value = query[key], !value.isEmpty else { continue }
            switch key {
            case "follow", "previous", "timestamps":
                guard let flag = parseBool(value) else {
                    throw APIError.badRequest("strconv.ParseBool: parsing \(ObjectValidation.quote(value)): invalid syntax")
                }
                if flag { items.append(URLQueryItem(name: key, value: "true")) }
            case "sinceTime":
                guard Time(rfc3339: value) != nil else {
                    throw APIError.badRequest("parsing time \(ObjectValidation.quote(value)) as \"2006-01-02T15:04:05Z07:00\": cannot parse")
                }
                items.append(URLQueryItem(name: key, value: value))
            default:
                guard let number = Int64(value) else {
                    throw APIError.badRequest("strconv.ParseInt: parsing \(ObjectValidation.quote(value)): invalid syntax")
                }
                let minimum: Int64 = key == "tailLines" ? 0 : 1
                if number < minimum {
                    problems.append(ValidationError(type: .invalid, field: key, badValue: .int(number),
                                                    detail: minimum == 0 ? "must be greater than or equal to 0" : "must be greater than 0"))
                }
                items.append(URLQueryItem(name: key, value: String(number)))
            }
        }
        if query["sinceSeconds"].map({ !$0.isEmpty }) == true, query["sinceTime"].map({ !$0.isEmpty }) == true {
            problems.append(ValidationError(type: .forbidden, field: "", detail: "at most one of `sinceTime` or `sinceSeconds` may be specified"))
        }
        guard problems.isEmpty else { throw APIError.invalid(kind: "PodLogOptions", group: "", name: name, errors: problems) }
        return items
    }

    /// The container to read (strategy.go validateContainer): the one asked for, or the only one.
    static func container(_ requested: String, pod: KubeObject, name: String) throws(APIError) -> String {
        let spec = pod.value(at: ["spec"])
        func names(_ key: String) -> [String] {
            spec?[key]?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? []
        }
        let containers = names("containers")
        let all = names("initContainers") + containers + names("ephemeralContainers")
        if requested.isEmpty {
            switch containers.count {
            case 1: return containers[0]
            case 0: throw APIError.badRequest("a container name must be specified for pod \(name)")
            default:
                throw APIError.badRequest("a container name must be specified for pod \(name), choose one of: [\(all.joined(separator: " "))]")
            }
        }
        guard all.contains(requested) else { throw APIError.badRequest("container \(requested) is not valid for pod \(name)") }
        return requested
    }

    /// The node's kubelet address and port. The address is the first InternalIP, else
    /// ExternalIP, else Hostname (k3s' `--kubelet-preferred-address-types`); the port is the
    /// one the node reports in `status.daemonEndpoints.kubeletEndpoint.Port`, 10250 if none.
    ///
    /// A node without any of those addresses cannot be reached: kube-apiserver answers 500
    /// `no preferred addresses found; known addresses: []`; this says what is wrong and where,
    /// as 503 ServiceUnavailable (the node's agent reports its addresses when it registers).
    static func kubeletEndpoint(_ node: KubeObject, pod: String = "") throws(APIError) -> (String, Int) {
        let addresses = node.value(at: ["status", "addresses"])?.arrayValue ?? []
        let pairs = addresses.compactMap { entry -> (type: String, address: String)? in
            guard let type = entry["type"]?.stringValue, let address = entry["address"]?.stringValue, !address.isEmpty else { return nil }
            return (type, address)
        }
        guard let address = ["InternalIP", "ExternalIP", "Hostname"].lazy.compactMap({ type in pairs.first { $0.type == type }?.address }).first else {
            let known = pairs.map { "\($0.type) \($0.address)" }.joined(separator: ", ")
            let subject = pod.isEmpty ? "" : "cannot read the log of pod \(ObjectValidation.quote(pod)): "
            throw APIError(code: 503, reason: "ServiceUnavailable",
                           message: subject + "node \(ObjectValidation.quote(node.name ?? "")) reports no InternalIP, ExternalIP or Hostname address to reach its kubelet at"
                               + (known.isEmpty ? " (status.addresses is empty)" : " (its addresses: \(known))"))
        }
        let port = node.value(at: ["status", "daemonEndpoints", "kubeletEndpoint", "Port"])?.intValue ?? 0
        return (address, port > 0 && port < 65536 ? Int(port) : 10250)
    }

    /// The Status for a kubelet answer other than 2xx, as apiserver's
    /// GenericHttpResponseChecker makes it: a 400's text is the message; others get
    /// apimachinery's generic wording qualified with ` ( pods/log <name>)`.
    static func error(status: Int, body: String, name: String) -> APIError {
        let body = body.trimmingCharacters(in: .whitespacesAndNewlines)
        let suffix = " ( pods/log \(name))"
        switch status {
        case 400: return APIError.badRequest(body)
        case 500: return APIError.internalError(body)
        case 404: return APIError(code: 404, reason: "NotFound", message: "the server could not find the requested resource" + suffix)
        case 401:
            return APIError(code: 401, reason: "Unauthorized", message: "the server has asked for the client to provide credentials" + suffix)
        case 403: return APIError(code: 403, reason: "Forbidden", message: body + suffix)
        default:
            return APIError(code: status, reason: "", message: "the server responded with the status code \(status) but did not return more information" + suffix)
        }
    }

    static func parseBool(_ text: String) -> Bool? {
        switch text {
        case "1", "t", "T", "true", "TRUE", "True": return true
        case "0", "f", "F", "false", "FALSE", "False": return false
        default: return nil
        }
    }

    static func isTrue(_ text: String) -> Bool { parseBool(text) ?? false }

    static func escape(_ segment: String) -> String {
        segment.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: "/"))) ?? segment
    }
}
