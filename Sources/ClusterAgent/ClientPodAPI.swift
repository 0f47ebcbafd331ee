import Agent
import Foundation
import KubeAPI
import KubeClient
import Runtime

/// The agent's `PodAPI` over the Kubernetes API: the pods bound to this node
/// (`fieldSelector=spec.nodeName=<node>`), their status subresource, and mirror pods.
struct ClientPodAPI: PodAPI {
    let client: APIClient
    /// This node, the `source.host` of its Events.
    var nodeName = ""

    private struct PodList: Decodable {
        struct ListMeta: Decodable { var resourceVersion: String? }
        var metadata: ListMeta
        var items: [Pod]
    }

    static func selector(_ nodeName: String) -> String {
        "fieldSelector=" + ("spec.nodeName=" + nodeName).addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
    }

    static func path(_ namespace: String, _ name: String) -> String {
        "/api/v1/namespaces/\(namespace)/pods/\(name)"
    }

    func listPods(nodeName: String) async throws -> (pods: [Pod], resourceVersion: String) {
        let list = try await mapErrors { try await client.get("/api/v1/pods?\(Self.selector(nodeName))", as: PodList.self) }
        return (list.items, list.metadata.resourceVersion ?? "")
    }

    func watchPods(nodeName: String, resourceVersion: String) -> AsyncThrowingStream<PodEvent, any Error> {
        let events = client.watch(Pod.self, path: "/api/v1/pods?\(Self.selector(nodeName))&resourceVersion=\(resourceVersion)&allowWatchBookmarks=true")
        return AsyncThrowingStream { continuation in
            let task = Task {
                do {
                    for try await event in events {
                        switch event.type {
                        case .added: continuation.yield(.added(event.object))
                        case .modified: continuation.yield(.modified(event.object))
                        case .deleted: continuation.yield(.deleted(event.object))
                        case .bookmark: continue
                        }
                    }
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: Self.podError(error))
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    func getPod(namespace: String, name: String) async throws -> Pod {
        try await mapErrors { try await client.get(Self.path(namespace, name), as: Pod.self) }
    }

    /// A JSON patch that tests the uid (the pod may have been deleted and recreated under the
    /// same name: kubelet's status manager checks the same) and replaces the status.
    func updatePodStatus(namespace: String, name: String, uid: String, status: PodStatus) async throws {
        struct Operation: Encodable {
            var op: String
            var path: String
            var value: Value
        }
        enum Value: Encodable {
            case uid(String)
            case status(PodStatus)
            func encode(to encoder: any Encoder) throws {
                var container = encoder.singleValueContainer()
                switch self {
                case .uid(let uid): try container.encode(uid)
                case .status(let status): try container.encode(status)
                }
            }
        }
        let body = try JSONEncoder().encode([
            Operation(op: "test", path: "/metadata/uid", value: .uid(uid)),
            Operation(op: "replace", path: "/status", value: .status(status)),
        ])
        do {
            _ = try await client.send("PATCH", Self.path(namespace, name) + "/status", body: body, contentType: "application/json-patch+json")
        } catch let error as APIClientError where error.code == 422 || error.code == 400 {
            // A failed "test" (another pod of that name now) is a conflict for the caller.
            throw PodAPIError.conflict("pod \(namespace)/\(name) is no longer uid \(uid): \(error)")
        } catch {
            throw Self.podError(error)
        }
    }

    func deletePod(namespace: String, name: String, uid: String) async throws {
        try await mapErrors { try await client.delete(path: Self.path(namespace, name), gracePeriodSeconds: 0, preconditionUID: uid) }
    }

    func createPod(_ pod: Pod) async throws -> Pod {
        try await mapErrors { try await client.create("/api/v1/namespaces/\(pod.metadata.namespace ?? "default")/pods", pod) }
    }

    /// A Secret's type and data (base64 in JSON, decoded by JSONDecoder's default for Data).
    private struct SecretBody: Decodable {
        struct Metadata: Decodable { var name: String? }
        var metadata: Metadata?
        var type: String?
        var data: [String: Data]?
    }

    func getPullSecret(namespace: String, name: String) async throws -> PullSecret {
        let secret = try await mapErrors {
            try await client.get("/api/v1/namespaces/\(namespace)/secrets/\(name)", as: SecretBody.self)
        }
        return PullSecret(name: secret.metadata?.name ?? name, type: secret.type ?? "Opaque", data: secret.data ?? [:])
    }

    private struct ConfigMapBody: Decodable {
        var data: [String: String]?
        var binaryData: [String: Data]?
        var immutable: Bool?
    }

    private struct SecretDataBody: Decodable {
        var data: [String: Data]?
        var immutable: Bool?
    }

    func getConfigMap(namespace: String, name: String) async throws -> ConfigObject {
        let body = try await mapErrors {
            try await client.get("/api/v1/namespaces/\(namespace)/configmaps/\(name)", as: ConfigMapBody.self)
        }
        var data = body.binaryData ?? [:]
        for (key, value) in body.data ?? [:] { data[key] = Data(value.utf8) }
        return ConfigObject(data: data, immutable: body.immutable ?? false)
    }

    func getSecret(namespace: String, name: String) async throws -> ConfigObject {
        let body = try await mapErrors {
            try await client.get("/api/v1/namespaces/\(namespace)/secrets/\(name)", as: SecretDataBody.self)
        }
        return ConfigObject(data: body.data ?? [:], immutable: body.immutable ?? false)
    }

    func getPersistentVolumeClaim(namespace: String, name: String) async throws -> JSONValue {
        try await mapErrors { try await client.get("/api/v1/namespaces/\(namespace)/persistentvolumeclaims/\(name)", as: JSONValue.self) }
    }

    func getPersistentVolume(name: String) async throws -> JSONValue {
        try await mapErrors { try await client.get("/api/v1/persistentvolumes/\(name)", as: JSONValue.self) }
    }

    func requestServiceAccountToken(namespace: String, serviceAccount: String, audiences: [String], expirationSeconds: Int64,
                                    podName: String, podUID: String) async throws -> (token: String, expiration: Date) {
        struct Spec: Encodable {
            var audiences: [String]
            var expirationSeconds: Int64
            var boundObjectRef: [String: String]
        }
        struct Body: Encodable {
            var apiVersion = "authentication.k8s.io/v1"
            var kind = "TokenRequest"
            var spec: Spec
        }
        struct Answer: Decodable {
            struct Status: Decodable {
                var token: String
                var expirationTimestamp: String
            }
            var status: Status
        }
        let body = Body(spec: Spec(audiences: audiences, expirationSeconds: expirationSeconds,
                                   boundObjectRef: ["apiVersion": "v1", "kind": "Pod", "name": podName, "uid": podUID]))
        let data = try await mapErrors {
            try await client.send("POST", "/api/v1/namespaces/\(namespace)/serviceaccounts/\(serviceAccount)/token",
                                  body: try JSONEncoder().encode(body))
        }
        let answer: Answer
        do {
            answer = try JSONDecoder().decode(Answer.self, from: data)
        } catch {
            throw PodAPIError.other("TokenRequest for serviceaccount \(namespace)/\(serviceAccount): unreadable answer: \(error)")
        }
        guard let expiration = Time(rfc3339: answer.status.expirationTimestamp)?.date else {
            throw PodAPIError.other("TokenRequest for serviceaccount \(namespace)/\(serviceAccount): bad expirationTimestamp \"\(answer.status.expirationTimestamp)\"")
        }
        return (answer.status.token, expiration)
    }

    /// client-go's event recorder, in small: an Event named `<pod or node>.<16 hex digits>` (a hash of
    /// the object's uid, the container's field path, the reason and the message, so a repeat finds
    /// the first), created once and then counted up (`count`, `lastTimestamp`) with a merge patch.
    func recordEvent(_ event: PodEventRecord) async throws {
        var hash: UInt64 = 14_695_981_039_346_656_037
        for byte in "\(event.podUID):\(event.fieldPath ?? ""):\(event.reason):\(event.message)".utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 1_099_511_628_211
        }
        let hex = String(hash, radix: 16)
        let name = "\(event.podName)." + String(repeating: "0", count: 16 - hex.count) + hex
        let path = "/api/v1/namespaces/\(event.namespace)/events"
        let now = Time(event.time).description
        var involved: [String: String] = ["kind": event.involvedKind, "name": event.podName, "uid": event.podUID]
        // A node is not namespaced, and kubelet's node reference names no API version.
        if let apiVersion = event.involvedAPIVersion {
            involved["apiVersion"] = apiVersion
            involved["namespace"] = event.namespace
        }
        if let fieldPath = event.fieldPath { involved["fieldPath"] = fieldPath }
        struct Body: Encodable {
            var apiVersion = "v1"
            var kind = "Event"
            var metadata: [String: String]
            var involvedObject: [String: String]
            var reason: String
            var message: String
            var type: String
            var source: [String: String]
            var firstTimestamp: String
            var lastTimestamp: String
            var count = 1
            var reportingComponent: String
            var reportingInstance: String
        }
        let node = nodeName
        let body = Body(metadata: ["name": name, "namespace": event.namespace], involvedObject: involved,
                        reason: event.reason, message: event.message, type: event.type,
                        source: ["component": event.component, "host": node], firstTimestamp: now, lastTimestamp: now,
                        reportingComponent: event.component, reportingInstance: node)
        do {
            _ = try await client.send("POST", path, body: try JSONEncoder().encode(body))
        } catch let error as APIClientError where error.code == 409 {
            struct Counted: Decodable { var count: Int? }
            let existing = try await mapErrors { try await client.get(path + "/" + name, as: Counted.self) }
            let text = "{\"count\":\((existing.count ?? 1) + 1),\"lastTimestamp\":\"\(now)\"}"
            _ = try await mapErrors {
                try await client.send("PATCH", path + "/" + name, body: Data(text.utf8), contentType: "application/merge-patch+json")
            }
        } catch {
            throw Self.podError(error)
        }
    }

    private func mapErrors<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch {
            throw Self.podError(error)
        }
    }

    static func podError(_ error: any Error) -> any Error {
        guard let error = error as? APIClientError else { return PodAPIError.other("\(error)") }
        if error.isNotFound { return PodAPIError.notFound(error.description) }
        if error.code == 409 { return PodAPIError.conflict(error.description) }
        if error.isGone { return PodAPIError.gone(error.description) }
        if case .transport = error { return PodAPIError.unavailable(error.description) }
        return PodAPIError.other(error.description)
    }
}
