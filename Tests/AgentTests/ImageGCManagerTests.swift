@testable import Agent
import Foundation
import Images
import KubeAPI
import Logging
import Synchronization
import Testing
import TestSupport

/// kubelet's image garbage collection over a real store of imported images; the disk's usage
/// comes through the manager's filesystem seam so thresholds can be crossed on purpose.
@Suite(.serialized) struct ImageGCManagerTests {
    /// A disk of 1000 bytes on which each image in the store takes 400 and other files 50: two
    /// images are 85 % used (kubelet's high threshold), one is 45 %.
    static func disk(_ store: ImageStore) -> @Sendable () throws -> FilesystemStats {
        { FilesystemStats(capacityBytes: 1000, availableBytes: 1000 - 50 - 400 * Int64(try store.list().count), inodes: 0, inodesFree: 0) }
    }

    static func withImages(_ body: (ImageStore, [Image]) async throws -> Void) async throws {
        let root = try TestRoot()
        defer { root.cleanUp() }
        let fixtures = try await Fixtures.builtDirectory()
        let store = try ImageStore(root: root.path + "/images")
        let old = try #require(try store.importImage(from: fixtures + "/configured").first)
        let new = try #require(try store.importImage(from: fixtures + "/busybox").first)
        try await body(store, [old, new])
    }

    static func manager(_ store: ImageStore, inUse: Set<String> = [], settings: ImageSettings = ImageSettings(minimumImageAge: .zero))
        -> ImageGCManager
    {
        ImageGCManager(store: store, settings: settings, logger: Logger(label: "test"), inUse: { inUse }, filesystem: disk(store))
    }

    @Test func belowTheHighThresholdNothingIsRemoved() async throws {
        try await Self.withImages { store, _ async throws in
            var settings = ImageSettings(minimumImageAge: .zero)
            settings.gcHighThresholdPercent = 90
            let result = await Self.manager(store, settings: settings).garbageCollect()
            #expect(result.usagePercent == 85)
            #expect(result.removed.isEmpty)
            #expect(try store.list().count == 2)
        }
    }

    @Test func atTheHighThresholdTheLeastRecentlyUsedGoesUntilTheLowOne() async throws {
        try await Self.withImages { store, images async throws in
            let manager = Self.manager(store)
            // busybox was used more recently than configured.
            await manager.noteUsed(images[0])
            try await Task.sleep(for: .milliseconds(20))
            await manager.noteUsed(images[1])
            let result = await manager.garbageCollect()
            #expect(result.usagePercent == 85)
            #expect(result.removed == [images[0].id.description])
            #expect(result.freedBytes == 400)
            #expect(result.shortfall == nil)
            #expect(try store.list().map(\.id) == [images[1].id])
        }
    }

    @Test func imagesInUseAreNeverRemoved() async throws {
        try await Self.withImages { store, images async throws in
            // Both in use: one by its tag (a pod's spec), one by the image ID of a container.
            let manager = Self.manager(store, inUse: ["swiftlet/configured:1.0", "docker.io/library/busybox@\(images[1].manifestDigest)"])
            let result = await manager.garbageCollect()
            #expect(result.removed.isEmpty)
            #expect(result.shortfall == "Failed to garbage collect required amount of images. Attempted to free 50 bytes, but only found 0 bytes eligible to free.")
            #expect(try store.list().count == 2)
        }
    }

    @Test func newImagesAreKeptForTheMinimumAge() async throws {
        try await Self.withImages { store, _ async throws in
            let manager = Self.manager(store, settings: ImageSettings(minimumImageAge: .seconds(120)))
            #expect(await manager.garbageCollect().removed.isEmpty)
            // Two minutes later they may go.
            let later = await manager.garbageCollect(now: Date().addingTimeInterval(121))
            #expect(later.removed.count == 1)
        }
    }

    @Test func nodeStatusListsTheLargestImagesFirstWithDigestsThenTags() async throws {
        try await Self.withImages { store, images async throws in
            let listed = await Self.manager(store).nodeImages()
            let sizes = listed.map { $0.sizeBytes ?? 0 }
            #expect(sizes == sizes.sorted(by: >))
            #expect(Set(listed.compactMap { $0.names?.first }) == Set(images.flatMap(\.references)))
            var one = ImageSettings()
            one.nodeStatusMaxImages = 1
            #expect(await Self.manager(store, settings: one).nodeImages().count == 1)
        }
    }
}

/// kubelet's back-off arithmetic and message formats, without clocks.
struct PullBackoffTests {
    @Test func goDurations() {
        #expect(ImageManager.goDuration(0.5234) == "523ms")
        #expect(ImageManager.goDuration(1.234) == "1.234s")
        #expect(ImageManager.goDuration(2) == "2s")
        #expect(ImageManager.goDuration(123.5) == "2m3.5s")
        #expect(ImageManager.goDuration(3725) == "1h2m5s")
    }

    @Test func backoffDoublesToItsMaximumAndResets() {
        var backoff = PullBackoff(initial: .seconds(10), max: .seconds(40))
        let t0 = Date(timeIntervalSince1970: 1_000_000)
        #expect(backoff.inBackOff("k", now: t0) == nil)
        backoff.next("k", now: t0)
        #expect(backoff.inBackOff("k", now: t0.addingTimeInterval(5)) == t0.addingTimeInterval(10))
        #expect(backoff.inBackOff("k", now: t0.addingTimeInterval(10)) == nil)
        var t = t0
        var delays: [TimeInterval] = []
        for _ in 0..<4 {
            t = t.addingTimeInterval(11)
            backoff.next("k", now: t)
            delays.append(backoff.inBackOff("k", now: t)?.timeIntervalSince(t) ?? 0)
        }
        #expect(delays == [20, 40, 40, 40])
        // Untouched for twice the maximum: back to the initial delay.
        t = t.addingTimeInterval(81)
        backoff.next("k", now: t)
        #expect(backoff.inBackOff("k", now: t)?.timeIntervalSince(t) == 10)
        #expect(backoff.inBackOff("other", now: t) == nil)
    }
}
