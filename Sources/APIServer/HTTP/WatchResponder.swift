import APIMachinery
import APIRegistry
import Foundation
import Hummingbird
import KubeAPI

/// Streams a watch over chunked HTTP/1.1: one JSON event per line (or one length-prefixed
/// protobuf frame), each written (and so flushed) as it happens, until the timeout, the
/// client going away, or the store closing. A client that sees the stream end simply watches
/// again from its last resourceVersion.
struct WatchResponder {
    let store: ResourceStore
    let representation: MediaTypes.Representation
    let encoding: MediaTypes.Encoding
    let includeObject: IncludeObjectPolicy

    /// The Content-Type of a protobuf watch (watch.go: the media type plus `;stream=watch`).
    static let protobufStreamType = MediaTypes.protobuf + ";stream=watch"

    /// Kubernetes ends watches after a random 30 to 60 minutes (`--min-request-timeout`),
    /// spreading reconnects; clients may ask for less with `timeoutSeconds`.
    static func defaultTimeout() -> Int {
        Int.random(in: 1800..<3600)
    }

    func respond(request: Request, namespace: String?, options: ListOptions) async throws(APIError) -> Response {
        let watch = try await store.watch(namespace: namespace, options: options, json: representation == .object && encoding == .json)
        let timeout = options.timeoutSeconds ?? Self.defaultTimeout()
        let encoder = self
        let body = ResponseBody { writer in
            defer { watch.cancel() }
            do {
                try await request.body.consumeWithCancellationOnInboundClose { _ in
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        group.addTask {
                            try await Task.sleep(for: .seconds(timeout))
                            watch.cancel()
                        }
                        for await event in watch {
                            let bytes = encoder.encoding == .protobuf ? try encoder.encodeProtobuf(event) : encoder.encode(event)
                            try await writer.write(ByteBuffer(bytes: bytes))
                        }
                        group.cancelAll()
                    }
                }
            } catch is CancellationError {
                // The client went away.
            }
            try await writer.finish(nil)
        }
        // No Content-Length: the body goes out with chunked transfer encoding. Watching for the
        // client going away (consumeWithCancellationOnInboundClose) reads the connection past
        // this request, so Hummingbird closes it when the watch ends; kube-apiserver keeps it.
        // `Connection: close` says so (RFC 9112 §9.6): a pooling client (urllib3, Go) then opens
        // a new connection instead of sending its next request into one being closed.
        let contentType = encoding == .protobuf ? Self.protobufStreamType : MediaTypes.json
        return Response(status: .ok, headers: [.contentType: contentType, .connection: "close"], body: body)
    }

    /// One protobuf frame, as kube-apiserver's watch writes it with protobuf's stream
    /// serializer (handlers/watch.go, protobuf.LengthDelimitedFramer, RawSerializer): a 4-byte
    /// big-endian length, then a `meta.k8s.io/v1 WatchEvent` message without magic or
    /// envelope, `{type, object: RawExtension{raw}}` whose raw is the object (or the ERROR
    /// event's Status) as a whole protobuf body, `k8s\0` and `runtime.Unknown` included.
    func encodeProtobuf(_ event: WatchEvent) throws(APIError) -> [UInt8] {
        let object: JSONValue
        if let error = event.error {
            object = error.status
        } else if let value = event.object {
            object = value.json
        } else if let json = event.json {
            object = try KubeObject(json: json).json
        } else {
            object = .null
        }
        var message = ProtobufWriter()
        message.string(1, event.type)
        message.message(2) { raw in
            if object != .null, let bytes = try? ProtobufEncoder.encodeObject(object) { raw.message(1, bytes) }
        }
        let length = UInt32(message.bytes.count)
        return [UInt8(length >> 24), UInt8((length >> 16) & 0xFF), UInt8((length >> 8) & 0xFF), UInt8(length & 0xFF)] + message.bytes
    }

    /// `{"type":"ADDED","object":{...}}` and a newline; a Table with one row when asked.
    func encode(_ event: WatchEvent) -> [UInt8] {
        // metav1.WatchEvent: type, then the object in its type's order.
        var bytes = Array(#"{"type":"#.utf8)
        JSONSerializer.write(.string(event.type), to: &bytes)
        bytes.append(contentsOf: #","object":"#.utf8)
        if let json = event.json {  // set only for plain JSON watches
            bytes.append(contentsOf: json)
            bytes.append(contentsOf: "}\n".utf8)
            return bytes
        }
        let object: JSONValue
        if let error = event.error {
            object = error.status
        } else if let value = event.object {
            switch representation {
            case .table(let version) where event.type != "BOOKMARK":
                object = TableConverter.table(for: store.resource, objects: [value],
                                              listMetadata: ["resourceVersion": .string(value.resourceVersion ?? "")],
                                              include: includeObject, apiVersion: "meta.k8s.io/\(version)")
            case .partialMetadata(let version, _) where event.type != "BOOKMARK":
                // Watches carry single objects: PartialObjectMetadata whichever form was asked.
                object = MediaTypes.Representation.partial(value, version: version)
            default:
                object = value.json
            }
        } else {
            object = .null
        }
        bytes.append(contentsOf: JSONSerializer.serializeInTypeOrder(object))
        bytes.append(contentsOf: "}\n".utf8)
        return bytes
    }
}
