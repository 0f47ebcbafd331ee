import Foundation
import Testing
@testable import Images

/// The store's side of pulls: blob writers that verify as they write, leases that keep a pull's
/// content from garbage collection, and naming at commit.
@Suite(.serialized) struct PullTransactionTests {
    static func write(_ bytes: [UInt8], _ writer: BlobWriter) throws {
        try bytes.withUnsafeBytes { try writer.append($0) }
    }

    @Test func blobWritersStoreOnlyWhatMatches() async throws {
        try await TestSupport.withTemporaryDirectory { dir in
            let store = try ImageStore(root: dir + "/store")
            let pull = try store.beginPull()
            let content = Array("layer bytes".utf8)
            let digest = Digest.of(content)

            // Too many bytes are refused at once.
            let long = try pull.writer(for: digest, size: 4)
            #expect(throws: ImageError.sizeMismatch(what: "blob \(digest)", expected: 4, actual: 11)) { try Self.write(content, long) }

            // Wrong content: refused at commit, nothing stored, the temporary file gone.
            let wrong = try pull.writer(for: digest, size: Int64(content.count))
            try Self.write(Array("LAYER BYTES".utf8), wrong)
            #expect(throws: ImageError.self) { try wrong.commit() }
            #expect(!store.blobs.contains(digest))
            #expect(!FileManager.default.fileExists(atPath: wrong.path))

            // Written in pieces, reset halfway (a resume that had to start over), then right.
            let right = try pull.writer(for: digest, size: Int64(content.count))
            try Self.write(Array(content[0..<5]), right)
            try right.reset()
            try Self.write(Array(content[0..<5]), right)
            #expect(right.written == 5)
            try Self.write(Array(content[5...]), right)
            try right.commit()
            #expect(try store.blobs.read(digest, what: "blob") == content)
            pull.cancel()
        }
    }

    @Test func leasesKeepAPullsContentFromCollection() async throws {
        try await TestSupport.withTemporaryDirectory { dir in
            let store = try ImageStore(root: dir + "/store")
            let pull = try store.beginPull()
            let content = Array("in flight".utf8)
            let digest = Digest.of(content)
            try pull.store(blob: content, digest: digest, what: "blob")
            let temporary = try pull.writer(for: Digest.of(Array("other".utf8)), size: 5)
            try Self.write(Array("oth".utf8), temporary)
            // A collection (what `images rm` and imports run) while the pull is under way.
            try FileLock.withLock(store.lockPath, exclusive: true) {
                try store.collectGarbage(keeping: StoreIndex.load(from: store.indexPath))
            }
            #expect(store.blobs.contains(digest))
            #expect(FileManager.default.fileExists(atPath: temporary.path))

            // A lease whose process is gone (its lock no longer held) is dropped by the next collection.
            let stale = store.leasesDirectory + "/pull-1-dead"
            try "\(digest)\n".write(toFile: stale, atomically: true, encoding: .utf8)
            pull.cancel()
            #expect(!store.blobs.contains(digest))
            #expect(!FileManager.default.fileExists(atPath: stale))
            #expect(try FileManager.default.contentsOfDirectory(atPath: store.leasesDirectory).isEmpty)
        }
    }

    @Test func commitNamesTheImageAndKeepsTheOneItReplaces() async throws {
        try await TestSupport.withTemporaryDirectory { dir in
            let fixtures = try await TestSupport.fixtures()
            let store = try ImageStore(root: dir + "/store")
            let old = try #require(try store.importImage(from: fixtures + "/configured", name: "registry.test/app:v1").first)
            let busybox = try #require(try store.importImage(from: fixtures + "/busybox", name: "registry.test/other:v1").first)
            // A "pull" of v1 that resolves to busybox's manifest (its blobs are present).
            let pull = try store.beginPull()
            #expect(try pull.reuse(blob: busybox.manifestDigest))
            let indexDigest = Digest.of(Array("an index".utf8))
            let image = try pull.commit(manifest: busybox.manifestDigest,
                                        names: ["registry.test/app:v1", "registry.test/app@\(indexDigest)"])
            #expect(image.repoTags == ["registry.test/app:v1", "registry.test/other:v1"])
            #expect(image.repoDigests == ["registry.test/app@\(indexDigest)"])
            #expect(try store.resolve("registry.test/app@\(indexDigest)") == image)
            // The image the tag left is kept without a name (a container may run on it).
            let kept = try store.resolve(old.id.description)
            #expect(kept.references.isEmpty)
            #expect(try store.list().count == 2)
        }
    }
}
