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

/// client-go's Reflector: lists a collection, then watches it from the list's resourceVersion,
/// watching again from the last version seen when a watch ends, and listing again (with a
/// growing delay) when the watch fails or the version is gone (410).
public struct Reflector<Object: ListedObject>: Sendable {
    public let client: APIClient
    /// The collection: `/api/v1/services`, with any selector (`?fieldSelector=...`).
    public let path: String
    public let logger: Logger

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
        let separator = path.contains("?") ? "&" : "?"
        while !Task.isCancelled {
            do {
                let list = try await client.get(path, as: List.self)
                await handle(.replaced(list.items ?? []))
                delay = .milliseconds(500)
                var version = list.metadata.resourceVersion ?? ""
                while !Task.isCancelled {
                    let watchPath = path + separator + "resourceVersion=\(version)&allowWatchBookmarks=true"
                    for try await event in client.watch(Object.self, path: watchPath) {
                        if let seen = event.object.metadata.resourceVersion { version = seen }
                        switch event.type {
                        case .added: await handle(.added(event.object))
                        case .modified: await handle(.modified(event.object))
                        case .deleted: await handle(.deleted(event.object))
                        case .bookmark: break
                        }
                    }
                }
            } catch {
                if Task.isCancelled { return }
                if (error as? APIClientError)?.isGone != true {
                    logger.warning("watch failed, listing again", metadata: ["path": "\(path)", "error": "\(error)", "retryIn": "\(delay)"])
                }
                try? await Task.sleep(for: delay)
                delay = min(delay * 2, .seconds(30))
            }
        }
    }
}
