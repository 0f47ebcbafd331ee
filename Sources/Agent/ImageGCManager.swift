import Foundation
import Images
import KubeAPI
import Logging
import Runtime

/// kubelet's image garbage collection (pkg/kubelet/images/image_gc_manager.go): every
/// `gcPeriod` the image filesystem's usage is measured; at or above the high threshold (85 %)
/// images no container uses are removed, least recently used first, until usage is at the low
/// threshold (80 %). An image in use is never removed, nor one first seen less than
/// `minimumImageAge` ago (an image just pulled for a pod that has not started yet).
///
/// Also builds the node's `status.images` (kubelet's setNodeStatusImages): the largest images
/// first, each with its repo digests and tags (at most 5 names), at most `nodeStatusMaxImages`.
public actor ImageGCManager {
    let store: ImageStore
    let settings: ImageSettings
    let logger: Logger
    /// The image references and IDs containers of this node use (running, or exited and kept).
    let inUse: @Sendable () async -> Set<String>
    /// Usage of the store's filesystem; a seam so tests can give any disk.
    let filesystem: @Sendable () throws -> FilesystemStats

    private var firstDetected: [Digest: Date] = [:]
    private var lastUsed: [Digest: Date] = [:]

    /// What one collection did.
    public struct Result: Sendable, Equatable {
        /// Usage before, in percent; nil when the filesystem could not be measured.
        public var usagePercent: Int?
        /// The image IDs removed, in order.
        public var removed: [String]
        /// Bytes the filesystem gained.
        public var freedBytes: Int64
        /// Set when the low threshold could not be reached (kubelet's FreeDiskSpaceFailed).
        public var shortfall: String?
    }

    public init(store: ImageStore, settings: ImageSettings, logger: Logger,
                inUse: @escaping @Sendable () async -> Set<String>,
                filesystem: (@Sendable () throws -> FilesystemStats)? = nil) {
        self.store = store
        self.settings = settings
        self.logger = logger
        self.inUse = inUse
        let root = store.root
        self.filesystem = filesystem ?? { try LinuxNodeHost.filesystem(at: root) }
    }

    /// Records that a container started with `image` now (kubelet updates lastUsed on use).
    public func noteUsed(_ image: Image) {
        lastUsed[image.manifestDigest] = Date()
        if firstDetected[image.manifestDigest] == nil { firstDetected[image.manifestDigest] = Date() }
    }

    /// Collects every `gcPeriod` until cancelled.
    public func run() async {
        guard settings.gcHighThresholdPercent < 100 else { return }
        while !Task.isCancelled {
            do { try await Task.sleep(for: settings.gcPeriod) } catch { return }
            let result = await garbageCollect()
            if let shortfall = result.shortfall {
                logger.warning("image garbage collection failed", metadata: ["reason": "FreeDiskSpaceFailed", "error": "\(shortfall)"])
            }
        }
    }

    /// One collection (kubelet's `GarbageCollect`).
    public func garbageCollect(now: Date = Date()) async -> Result {
        let used = await inUseManifests()
        let images = await detect(now: now, inUse: used)
        let stats: FilesystemStats
        do {
            stats = try filesystem()
        } catch {
            return Result(usagePercent: nil, removed: [], freedBytes: 0, shortfall: "\(error)")
        }
        guard stats.capacityBytes > 0 else { return Result(usagePercent: nil, removed: [], freedBytes: 0, shortfall: nil) }
        let available = min(stats.availableBytes, stats.capacityBytes)
        let usage = 100 - Int(available * 100 / stats.capacityBytes)
        guard usage >= settings.gcHighThresholdPercent else {
            return Result(usagePercent: usage, removed: [], freedBytes: 0, shortfall: nil)
        }
        let target = stats.capacityBytes * Int64(100 - settings.gcLowThresholdPercent) / 100
        logger.info("image filesystem usage over the high threshold, removing unused images", metadata: [
            "usage": "\(usage)%", "highThreshold": "\(settings.gcHighThresholdPercent)%",
            "bytesToFree": "\(target - available)",
        ])
        // Least recently used first; images used at the same time by their first detection.
        let candidates = images.filter { image in
            !used.contains(image.manifestDigest)
                && now.timeIntervalSince(firstDetected[image.manifestDigest] ?? now) >= settings.minimumImageAge.seconds
        }.sorted { a, b in
            let (ua, ub) = (lastUsed[a.manifestDigest] ?? .distantPast, lastUsed[b.manifestDigest] ?? .distantPast)
            if ua != ub { return ua < ub }
            return (firstDetected[a.manifestDigest] ?? now) < (firstDetected[b.manifestDigest] ?? now)
        }
        var removed: [String] = []
        var nowAvailable = available
        for image in candidates where nowAvailable < target {
            let store = self.store
            let outcome: Swift.Result<Void, any Error> = await BlockingCall.run {
                Swift.Result { try store.remove(image.manifestDigest.description) }
            }
            if case .failure(let error) = outcome {
                logger.warning("removing image failed", metadata: ["image": "\(image.id)", "error": "\(error)"])
                continue
            }
            removed.append(image.id.description)
            firstDetected[image.manifestDigest] = nil
            lastUsed[image.manifestDigest] = nil
            logger.info("removed unused image", metadata: [
                "image": "\(image.references.first ?? image.id.description)", "id": "\(image.id)", "size": "\(image.size)",
            ])
            nowAvailable = (try? filesystem().availableBytes) ?? nowAvailable + image.size
        }
        let freed = nowAvailable - available
        var shortfall: String?
        if nowAvailable < target {
            shortfall = "Failed to garbage collect required amount of images. Attempted to free \(target - available) bytes, but only found \(freed) bytes eligible to free."
        }
        return Result(usagePercent: usage, removed: removed, freedBytes: freed, shortfall: shortfall)
    }

    /// The node's `status.images`: largest first, names = repo digests then tags, at most 5.
    public func nodeImages() async -> [ContainerImage] {
        let store = self.store
        let images: [Image] = await BlockingCall.run { (try? store.list()) ?? [] }
        let sorted = images.sorted { $0.size != $1.size ? $0.size > $1.size : $0.id < $1.id }
        let limited = settings.nodeStatusMaxImages < 0 ? sorted : Array(sorted.prefix(settings.nodeStatusMaxImages))
        return limited.map { image in
            var names = image.repoDigests + image.repoTags
            if names.isEmpty { names = [image.id.description] }
            return ContainerImage(names: Array(names.prefix(5)), sizeBytes: image.size)
        }
    }

    /// The manifests of the images in use.
    private func inUseManifests() async -> Set<Digest> {
        let references = await inUse()
        let store = self.store
        return await BlockingCall.run {
            Set(references.compactMap { try? store.resolve($0).manifestDigest })
        }
    }

    /// Lists the store; new images are first detected now, images in use are used now.
    private func detect(now: Date, inUse: Set<Digest>) async -> [Image] {
        let store = self.store
        let images: [Image] = await BlockingCall.run { (try? store.list()) ?? [] }
        let present = Set(images.map(\.manifestDigest))
        for image in images where firstDetected[image.manifestDigest] == nil {
            firstDetected[image.manifestDigest] = now
        }
        for digest in inUse { lastUsed[digest] = now }
        firstDetected = firstDetected.filter { present.contains($0.key) }
        lastUsed = lastUsed.filter { present.contains($0.key) }
        return images
    }
}
