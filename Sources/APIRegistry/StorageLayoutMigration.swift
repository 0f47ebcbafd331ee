import APIMachinery
import Logging
import Storage

/// Moves objects stored under swiftlet's earlier key layout (`/registry/apps/deployments/...`,
/// `/registry/nodes/...`) to kube-apiserver's (`/registry/deployments/...`,
/// `/registry/minions/...`; see `StorageLayout`), once, when a server starts on a store an
/// earlier swiftlet wrote. Nothing is served before it finishes.
///
/// Each object moves by itself: created at its new key with the same bytes, then deleted at its
/// old key if it is still the revision that was copied. A server stopped halfway, or two
/// servers of one etcd moving the same objects at once, leave no object behind and none twice:
/// the next run (or the other server) finds the new key taken and only removes the old one. The
/// moved objects get new resourceVersions (they are new writes), as after an etcd restore;
/// clients relist as they do then.
public struct StorageLayoutMigration: Sendable {
    /// One object moved, or found moved already.
    public struct Move: Sendable, Equatable {
        public let from: String
        public let to: String
    }

    let storage: any Storage
    let registry: ResourceRegistry
    let logger: Logger

    public init(storage: any Storage, registry: ResourceRegistry = ResourceRegistry(),
                logger: Logger = Logger(label: "swiftlet.storage-layout")) {
        self.storage = storage
        self.registry = registry
        self.logger = logger
    }

    /// Moves every object still under an earlier prefix; returns what it moved.
    @discardableResult
    public func run() async throws -> [Move] {
        var moves: [Move] = []
        var seen: Set<GroupResource> = []
        for resource in registry.resources where seen.insert(resource.storedResource).inserted {
            let earlier = StorageLayout.earlierKeyPrefix(of: resource.storedResource)
            let current = resource.keyPrefix
            guard earlier != current else { continue }
            // `/registry/services/` (earlier) holds `/registry/services/specs/` and
            // `/registry/services/endpoints/` (current): an earlier key has exactly the
            // segments of a name (and namespace), a current one more. A namespace named
            // `specs` is a namespace like any other.
            let segments = resource.namespaced ? 2 : 1
            for stored in try await storage.list(prefix: earlier).objects {
                let relative = stored.key.dropFirst(earlier.count)
                guard relative.split(separator: "/", omittingEmptySubsequences: false).count == segments else { continue }
                let move = Move(from: stored.key, to: current + relative)
                try await self.move(stored, to: move.to)
                moves.append(move)
            }
        }
        if !moves.isEmpty {
            logger.notice("storage layout: moved \(moves.count) objects to kube-apiserver's keys (/registry/<resource>/...)")
        }
        return moves
    }

    private func move(_ stored: StoredObject, to key: String) async throws {
        do {
            _ = try await storage.create(key, value: stored.value)
        } catch StorageError.alreadyExists {
            // Moved by an earlier run that stopped before the delete, or by another server.
            // The object at the new key is the one served; an older copy is dropped.
            if try await storage.get(key)?.value != stored.value {
                logger.warning("storage layout: \(key) exists; dropping the different copy at \(stored.key)")
            }
        }
        do {
            _ = try await storage.delete(stored.key, expectedRevision: stored.revision)
        } catch StorageError.notFound {
            // Another server removed it.
        } catch StorageError.conflict {
            // Written after we read it: by a server still on the earlier layout. Leave it to
            // the next start; what was copied is served meanwhile.
            logger.warning("storage layout: \(stored.key) changed while it was moved; it moves at the next start")
        }
    }
}
