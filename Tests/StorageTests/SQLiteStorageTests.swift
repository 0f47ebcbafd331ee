import APITestSupport
import Foundation
import Glibc
import Testing
@testable import Storage

private func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

/// What only the SQLite store does: its window's size, reopening a file. The behaviour every
/// backend shares is in EtcdStorageTests/StorageContractTests.
@Suite struct SQLiteStorageTests {
    @Test func watchFromACompactedRevisionIsExpired() async throws {
        let directory = try TemporaryDirectory()
        let store = try SQLiteStorage(path: directory.path + "/store.db", historyCapacity: 3)
        for index in 0..<6 {
            _ = try await store.create("/p/\(index)", value: bytes("v"))
        }
        // Revisions 4...6 are retained: a watch may start after 3 but not after 2.
        await #expect(throws: StorageError.expired(requested: 2, oldest: 3)) {
            try await store.watch(prefix: "/p/", after: 2)
        }
        let watch = try await store.watch(prefix: "/p/", after: 3)
        #expect(try await collect(3, from: watch).map(\.revision) == [4, 5, 6])
        await #expect(throws: StorageError.revisionTooLarge(requested: 7, current: 6)) {
            try await store.watch(prefix: "/p/", after: 7)
        }
    }

    @Test func reopeningKeepsObjectsRevisionsAndWatchHistory() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.path + "/store.db"
        do {
            let store = try SQLiteStorage(path: path, historyCapacity: 4)
            for index in 0..<10 {
                _ = try await store.create("/p/\(index)", value: bytes("v\(index)"))
            }
            _ = try await store.delete("/p/0", expectedRevision: nil)
            await store.close()
        }
        let reopened = try SQLiteStorage(path: path, historyCapacity: 4)
        #expect(try await reopened.currentRevision() == 11)
        #expect(try await reopened.list(prefix: "/p/").objects.count == 9)
        let watch = try await reopened.watch(prefix: "/p/", after: 8)
        let created = try await reopened.create("/p/new", value: bytes("n"))
        #expect(created.revision == 12)
        let events = try await collect(4, from: watch)
        #expect(events.map(\.revision) == [9, 10, 11, 12])
        #expect(events[2].type == .deleted)
        await #expect(throws: StorageError.expired(requested: 7, oldest: 8)) {
            try await reopened.watch(prefix: "/p/", after: 7)
        }
    }

    @Test func aSlowWatcherIsClosedNotLeftToGrowWithoutBound() async throws {
        let directory = try TemporaryDirectory()
        let store = try SQLiteStorage(path: directory.path + "/store.db")
        let watch = try await store.watch(prefix: "/p/", after: nil)
        let history = EventHistory(capacity: 10, compactedRevision: 0, events: [])
        let slow = try history.subscribe(prefix: "/p/", initial: [], after: 0)
        for revision in 1...Int64(EventHistory.watcherBufferLimit + 1) {
            history.append(StorageEvent(type: .added, key: "/p/\(revision)", value: [], previousValue: nil, revision: revision))
        }
        #expect(history.watcherCount == 0)
        var received = 0
        await #expect(throws: StorageError.watcherTooSlow) {
            for try await _ in slow.events { received += 1 }
        }
        #expect(received == EventHistory.watcherBufferLimit)
        watch.cancel()
    }

}
