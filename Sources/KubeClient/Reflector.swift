import KubeAPI
import Logging

/// An API object with metadata, as a `Reflector` keeps them.
public protocol ListedObject: Decodable, Sendable {
    var metadata: ObjectMeta { get }
}

extension Node: ListedObject {}
extension Pod: ListedObject {}
extension Service: ListedObject {}
extension EndpointSlice: ListedObject {}
extension Ingress: ListedObject {}
extension IngressClass: ListedObject {}

/// What a `Reflector` reports.
public enum ReflectorEvent<Object: Sendable>: Sendable {
    /// A full list: the complete current set (the first one, and after every relist).
    case replaced([Object])
    case added(Object)
    case modified(Object)
    case deleted(Object)
}

/// client-go's Reflector (k8s.io/client-go/tools/cache/reflector.go): lists a collection,
/// then watches it from the list's resourceVersion. A watch that ends, or whose connection
/// breaks (the server went away, or the `ServerPool` gave it up), is made again from the last
/// version seen, against whichever server the client picks now: with one store behind every
/// server the version is valid on all of them, so nothing is listed again and no event is
/// missed (client-go's `watchHandler` returns nil on a closed stream and `ListAndWatch` watches
/// again). The collection is listed again when the version is gone (410) or the watch fails
/// otherwise, with a growing delay.
public struct Reflector<Object: ListedObject>: Sendable {
    public let client: APIClient
    /// The collection: `/api/v1/services`, with any selector (`?fieldSelector=...`).
    public let path: String
    public let logger: Logger

    /// The first wait before watching again after a broken watch, doubling to `maximumDelay`.
    static var rewatchDelay: Duration { .milliseconds(100) }
    static var maximumDelay: Duration { .seconds(30) }

    public init(client: APIClient, path: String, logger: Logger) {
        self.client = client
        self.path = path
        self.logger = logger
    }

    private struct List: Decodable {
        struct ListMeta: Decodable { var resourceVersion: String? }
        var metadata: ListMeta
        var items: [Object]?
    }

    /// Runs until cancelled; `handle` sees every change in order.
    public func run(_ handle: @Sendable (ReflectorEvent<Object>) async -> Void) async {
        var delay = Duration.milliseconds(500)
        while !Task.isCancelled {
            do {
                let list = try await client.get(path, as: List.self)
                await handle(.replaced(list.items ?? []))
                delay = .milliseconds(500)
                try await watch(from: list.metadata.resourceVersion ?? "", handle)
            } catch {
                if Task.isCancelled { return }
                if (error as? APIClientError)?.isGone != true {
                    logger.warning("watch failed, listing again", metadata: ["path": "\(path)", "error": "\(error)", "retryIn": "\(delay)"])
                }
                try? await Task.sleep(for: delay)
                delay = min(delay * 2, Self.maximumDelay)
            }
        }
    }

    /// Watches from `version` until cancelled, again and again; throws what needs a new list.
    private func watch(from version: String, _ handle: @Sendable (ReflectorEvent<Object>) async -> Void) async throws {
        var version = version
        var delay = Self.rewatchDelay
        let separator = path.contains("?") ? "&" : "?"
        while !Task.isCancelled {
            let watchPath = path + separator + "resourceVersion=\(version)&allowWatchBookmarks=true"
            let started = ContinuousClock.now
            var delivered = false
            do {
                for try await event in client.watch(Object.self, path: watchPath) {
                    delivered = true
                    if let seen = event.object.metadata.resourceVersion { version = seen }
                    switch event.type {
                    case .added: await handle(.added(event.object))
                    case .modified: await handle(.modified(event.object))
                    case .deleted: await handle(.deleted(event.object))
                    case .bookmark: break
                    }
                }
                // Ended by the server. One that ended at once with nothing is not made again
                // at once (a server closing every watch is not hammered).
                if delivered || ContinuousClock.now - started >= .seconds(1) {
                    delay = Self.rewatchDelay
                    continue
                }
            } catch let error as APIClientError {
                guard case .transport = error else { throw error }
                if Task.isCancelled { return }
                if delivered { delay = Self.rewatchDelay }
                logger.info("watch broke, watching again from the last version", metadata: [
                    "path": "\(path)", "resourceVersion": "\(version)", "error": "\(error)", "retryIn": "\(delay)"])
            }
            try await Task.sleep(for: delay)
            delay = min(delay * 2, Self.maximumDelay)
        }
    }
}
