import AsyncHTTPClient
import Foundation
import NIOCore

/// One event of a watch: `{"type":"ADDED","object":{...}}`.
public struct WatchEvent<Object: Sendable>: Sendable {
    public enum EventType: String, Sendable {
        case added = "ADDED"
        case modified = "MODIFIED"
        case deleted = "DELETED"
        /// Only the object's resourceVersion is meaningful: where to resume from.
        case bookmark = "BOOKMARK"
    }

    public let type: EventType
    public let object: Object

    public init(type: EventType, object: Object) {
        self.type = type
        self.object = object
    }
}

extension APIClient {
    /// Watches `path` (a collection, with any selectors: `/api/v1/pods?fieldSelector=...`;
    /// `watch=1` is added) and yields its events as they come.
    ///
    /// The stream ends when the server ends the watch (its timeout, or `timeoutSeconds` in
    /// the path): watch again from the last resourceVersion seen. An ERROR event ends it with
    /// `APIClientError.status`; 410 Gone (`isGone`) means that version is too old: list again.
    /// A broken connection ends it with `APIClientError.transport`, and so does the pool when
    /// it gives the watch's server up: watch again from the last version seen, which lands on
    /// the pool's new pick. Cancelling the consumer (or dropping the stream) closes the
    /// connection.
    public func watch<T: Decodable & Sendable>(_ type: T.Type, path: String) -> AsyncThrowingStream<WatchEvent<T>, any Error> {
        let watchPath = path + (path.contains("?") ? "&" : "?") + "watch=1"
        let client = self
        return AsyncThrowingStream { continuation in
            // The stream's producer: it lives exactly as long as the stream (cancelled by
            // onTermination), so it is not a stray task.
            let task = Task {
                do {
                    // Resent to another server only while it failed to connect: once events
                    // flowed, the path's resourceVersion is behind and the consumer resumes.
                    try await client.perform("GET", watchPath, deadline: .distantFuture, resendable: false) {
                        (server: String) async throws -> Void in
                        // No deadline: a watch lasts until the server or the consumer ends it.
                        let response = try await client.start("GET", watchPath, on: server, body: nil, contentType: "application/json",
                                                              deadline: .distantFuture, stream: true)
                        guard (200..<300).contains(Int(response.status.code)) else {
                            let body = (try? await response.body.collect(upTo: 1024 * 1024)).map { Data($0.readableBytesView) } ?? Data()
                            throw APIClient.statusError(code: Int(response.status.code), phrase: response.status.reasonPhrase, body: body)
                        }
                        var lines = LineSplitter()
                        do {
                            for try await buffer in response.body {
                                for line in lines.append(buffer.readableBytesView) {
                                    continuation.yield(try client.decodeEvent(T.self, line: line, path: path))
                                }
                            }
                        } catch {
                            // Named here, so that `perform` never sends the watch again: events
                            // may have flowed. A cancellation (the consumer's, or the pool's)
                            // stays one, for `perform` to tell which.
                            throw client.transportError("GET", watchPath, on: server, error)
                        }
                        if let last = lines.finish() {
                            continuation.yield(try client.decodeEvent(T.self, line: last, path: path))
                        }
                    }
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    /// One line of a watch stream as an event; an ERROR event is thrown as its Status.
    func decodeEvent<T: Decodable>(_ type: T.Type, line: [UInt8], path: String) throws -> WatchEvent<T> {
        let data = Data(line)
        let header = try decode(WatchEventHeader.self, from: data, path: path)
        if header.type == "ERROR" {
            let status = try decode(WatchEventBody<StatusBody>.self, from: data, path: path).object
            throw APIClientError.status(code: status.code ?? 500, reason: status.reason ?? "", message: status.message ?? "watch error")
        }
        guard let eventType = WatchEvent<T>.EventType(rawValue: header.type) else {
            throw APIClientError.decoding("the watch of \(server)\(path) sent an event of unknown type \(header.type)")
        }
        return WatchEvent(type: eventType, object: try decode(WatchEventBody<T>.self, from: data, path: path).object)
    }
}

/// The type of a watch event line, decoded first to know how to decode the object.
private struct WatchEventHeader: Decodable {
    var type: String
}

/// The object of a watch event line.
private struct WatchEventBody<Object: Decodable>: Decodable {
    var object: Object
}

/// Cuts a byte stream into lines: a chunk may hold many lines, and a line may span chunks.
struct LineSplitter {
    private var pending: [UInt8] = []

    /// The complete lines, without their newline, that `bytes` finishes; blank lines are skipped.
    mutating func append<Bytes: Collection>(_ bytes: Bytes) -> [[UInt8]] where Bytes.Element == UInt8 {
        var lines: [[UInt8]] = []
        for byte in bytes {
            if byte == UInt8(ascii: "\n") {
                if pending.contains(where: { $0 != UInt8(ascii: " ") && $0 != UInt8(ascii: "\r") }) {
                    lines.append(pending)
                }
                pending.removeAll(keepingCapacity: true)
            } else {
                pending.append(byte)
            }
        }
        return lines
    }

    /// What is left after the stream ended without a final newline.
    mutating func finish() -> [UInt8]? {
        defer { pending = [] }
        return pending.contains(where: { $0 != UInt8(ascii: " ") && $0 != UInt8(ascii: "\r") }) ? pending : nil
    }
}
