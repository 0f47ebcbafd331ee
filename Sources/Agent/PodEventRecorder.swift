import Foundation
import KubeAPI
import Logging

/// An Event about a pod or one of its containers, as kubelet's event recorder makes them
/// (`Pulling`, `Pulled`, `Failed`, `BackOff`...), with kubelet's field path for a container
/// (`spec.containers{web}`, `spec.initContainers{setup}`); or about the node (`node(...)`), or
/// an Ingress the node's ingress proxy serves (`ingress(...)`).
public struct PodEventRecord: Sendable, Equatable {
    /// `Pod`, `Node` for the node's own Events, `Ingress` for the ingress proxy's.
    public var involvedKind = "Pod"
    /// The involved object's apiVersion; nil for a Node (kubelet's node reference names none).
    public var involvedAPIVersion: String? = "v1"
    /// The Event's `source.component` and `reportingComponent`.
    public var component = "kubelet"
    public var namespace: String
    public var podName: String
    public var podUID: String
    public var fieldPath: String?
    /// `Normal` or `Warning`.
    public var type: String
    public var reason: String
    public var message: String
    public var time: Date

    public init(namespace: String, podName: String, podUID: String, fieldPath: String?, type: String,
                reason: String, message: String, time: Date = Date()) {
        self.namespace = namespace
        self.podName = podName
        self.podUID = podUID
        self.fieldPath = fieldPath
        self.type = type
        self.reason = reason
        self.message = message
        self.time = time
    }

    /// An Event about the node, as kubelet makes them: its reference carries the node's name
    /// as uid too (kubelet's `nodeRef`), and the Event lives in `default`.
    public static func node(_ name: String, type: String, reason: String, message: String, time: Date = Date()) -> PodEventRecord {
        var record = PodEventRecord(namespace: "default", podName: name, podUID: name, fieldPath: nil, type: type,
                                    reason: reason, message: message, time: time)
        record.involvedKind = "Node"
        record.involvedAPIVersion = nil
        return record
    }

    /// An Event about an Ingress from the node's ingress proxy (ingress-nginx reports its
    /// configuration problems the same way, as Warning Events on the Ingress).
    public static func ingress(namespace: String, name: String, uid: String, type: String, reason: String, message: String,
                               time: Date = Date()) -> PodEventRecord {
        var record = PodEventRecord(namespace: namespace, podName: name, podUID: uid, fieldPath: nil, type: type,
                                    reason: reason, message: message, time: time)
        record.involvedKind = "Ingress"
        record.involvedAPIVersion = "networking.k8s.io/v1"
        record.component = "swiftlet-ingress"
        return record
    }
}

/// Sends the agent's Events to the API in the background (client-go's broadcaster): recording
/// never waits for the API server, and an Event that cannot be sent is dropped after being
/// logged, as kubelet drops them. Without an API (static pods only) Events are logged only
/// (kubelet's `logIt` without an object reference).
public final class PodEventRecorder: Sendable {
    private let api: (any PodAPI)?
    private let logger: Logger
    private let stream: AsyncStream<PodEventRecord>
    private let continuation: AsyncStream<PodEventRecord>.Continuation

    /// Events waiting to be sent beyond this are dropped (client-go's queue holds 1000).
    static let queueLimit = 1000

    public init(api: (any PodAPI)?, logger: Logger) {
        self.api = api
        self.logger = logger
        (stream, continuation) = AsyncStream.makeStream(of: PodEventRecord.self, bufferingPolicy: .bufferingNewest(Self.queueLimit))
    }

    /// Logs the event and queues it for the API.
    public func record(_ event: PodEventRecord) {
        logger.log(level: event.type == "Warning" ? .warning : .info, "\(event.message)", metadata: [
            "pod": "\(event.namespace)/\(event.podName)", "reason": "\(event.reason)",
            "object": "\(event.fieldPath ?? "")",
        ])
        if api != nil { continuation.yield(event) }
    }

    /// Sends queued Events until cancelled.
    public func run() async {
        guard let api else { return }
        await withTaskCancellationHandler {
            for await event in stream {
                do {
                    try await api.recordEvent(event)
                } catch {
                    logger.debug("event not recorded", metadata: ["reason": "\(event.reason)", "error": "\(error)"])
                }
            }
        } onCancel: {
            continuation.finish()
        }
    }
}
