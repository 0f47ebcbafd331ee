import APITestSupport
import Foundation
import Glibc
import Testing
@testable import Storage

private func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

/// Collects `count` events from a watch, failing after a few seconds.
func collect(_ count: Int, from watch: StorageWatch) async throws -> [StorageEvent] {
    try await withThrowingTaskGroup(of: [StorageEvent]?.self) { group in
        group.addTask {
            var events: [StorageEvent] = []
            for try await event in watch.events {
                events.append(event)
                if events.count == count { break }
            }
            return events
        }
        group.addTask {
            // Generous: a loaded machine's disk (a VM test writing) has held writers for half a minute.
            try await Task.sleep(for: .seconds(30))
            return nil
        }
        let first = try await group.next() ?? nil
        group.cancelAll()
        watch.cancel()
        return try #require(first, "timed out waiting for \(count) watch events")
    }
}

@Suite struct SQLiteStorageTests {
    @Test func createGetUpdateDeleteBumpTheRevision() async throws {
        let directory = try TemporaryDirectory()
        let store = try SQLiteStorage(path: directory.path + "/store.db")
        #expect(try await store.currentRevision() == 0)
        let created = try await store.create("/registry/pods/default/a", value: bytes("one"))
        #expect(created.revision == 1)
        #expect(try await store.get("/registry/pods/default/a") == created)
        let updated = try await store.update("/registry/pods/default/a", value: bytes("two"), expectedRevision: 1)
        #expect(updated.revision == 2)
        let deleted = try await store.delete("/registry/pods/default/a", expectedRevision: nil)
        #expect(deleted.revision == 3)
        #expect(deleted.value == bytes("two"))
        #expect(try await store.get("/registry/pods/default/a") == nil)
        #expect(try await store.currentRevision() == 3)
    }

    @Test func createOfAnExistingKeyFails() async throws {
        let directory = try TemporaryDirectory()
        let store = try SQLiteStorage(path: directory.path + "/store.db")
        _ = try await store.create("/k", value: bytes("x"))
        await #expect(throws: StorageError.alreadyExists(key: "/k")) {
            try await store.create("/k", value: bytes("y"))
        }
        #expect(try await store.get("/k")?.value == bytes("x"))
        #expect(try await store.currentRevision() == 1)
    }

    @Test func updateWithAStaleRevisionConflicts() async throws {
        let directory = try TemporaryDirectory()
        let store = try SQLiteStorage(path: directory.path + "/store.db")
        _ = try await store.create("/k", value: bytes("x"))
        _ = try await store.update("/k", value: bytes("y"), expectedRevision: 1)
        await #expect(throws: StorageError.conflict(key: "/k", expected: 1, actual: 2)) {
            try await store.update("/k", value: bytes("z"), expectedRevision: 1)
        }
        await #expect(throws: StorageError.conflict(key: "/k", expected: 1, actual: 2)) {
            try await store.delete("/k", expectedRevision: 1)
        }
        await #expect(throws: StorageError.notFound(key: "/missing")) {
            try await store.update("/missing", value: bytes("z"), expectedRevision: nil)
        }
        #expect(try await store.get("/k")?.value == bytes("y"))
    }

    @Test func listReturnsOnlyThePrefixSortedByKey() async throws {
        let directory = try TemporaryDirectory()
        let store = try SQLiteStorage(path: directory.path + "/store.db")
        _ = try await store.create("/registry/pods/ns/b", value: bytes("b"))
        _ = try await store.create("/registry/pods/ns/a", value: bytes("a"))
        _ = try await store.create("/registry/pods/ns0/c", value: bytes("c"))
        _ = try await store.create("/registry/pods/nt/d", value: bytes("d"))
        let list = try await store.list(prefix: "/registry/pods/ns/")
        #expect(list.objects.map(\.key) == ["/registry/pods/ns/a", "/registry/pods/ns/b"])
        #expect(list.revision == 4)
        #expect(try await store.list(prefix: "/registry/pods/").objects.count == 4)
    }

    @Test func listAtAnOlderRevisionUndoesLaterWrites() async throws {
        let directory = try TemporaryDirectory()
        let store = try SQLiteStorage(path: directory.path + "/store.db")
        _ = try await store.create("/p/a", value: bytes("a1"))          // 1
        _ = try await store.create("/p/b", value: bytes("b1"))          // 2
        _ = try await store.update("/p/a", value: bytes("a2"), expectedRevision: nil) // 3
        _ = try await store.delete("/p/b", expectedRevision: nil)       // 4
        _ = try await store.create("/p/c", value: bytes("c1"))          // 5
        let snapshot = try await store.list(prefix: "/p/", atRevision: 2)
        #expect(snapshot.objects == [StoredObject(key: "/p/a", value: bytes("a1"), revision: 1),
                                     StoredObject(key: "/p/b", value: bytes("b1"), revision: 2)])
        #expect(snapshot.revision == 2)
        await #expect(throws: StorageError.revisionTooLarge(requested: 9, current: 5)) {
            try await store.list(prefix: "/p/", atRevision: 9)
        }
    }

    @Test func watchFromARevisionReplaysLaterEventsThenLiveOnes() async throws {
        let directory = try TemporaryDirectory()
        let store = try SQLiteStorage(path: directory.path + "/store.db")
        _ = try await store.create("/p/a", value: bytes("a1"))
        _ = try await store.create("/q/x", value: bytes("x"))
        _ = try await store.update("/p/a", value: bytes("a2"), expectedRevision: nil)
        let watch = try await store.watch(prefix: "/p/", after: 1)
        _ = try await store.delete("/p/a", expectedRevision: nil)
        let events = try await collect(2, from: watch)
        #expect(events.map(\.type) == [.modified, .deleted])
        #expect(events.map(\.revision) == [3, 4])
        #expect(events[0].previousValue == bytes("a1"))
        #expect(events[1].value == bytes("a2"))
    }

    @Test func watchWithoutARevisionStartsWithTheCurrentObjects() async throws {
        let directory = try TemporaryDirectory()
        let store = try SQLiteStorage(path: directory.path + "/store.db")
        _ = try await store.create("/p/a", value: bytes("a"))
        _ = try await store.create("/p/b", value: bytes("b"))
        let watch = try await store.watch(prefix: "/p/", after: nil)
        _ = try await store.create("/p/c", value: bytes("c"))
        let events = try await collect(3, from: watch)
        #expect(events.map(\.key) == ["/p/a", "/p/b", "/p/c"])
        #expect(events.map(\.type) == [.added, .added, .added])
    }

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

    @Test func closingEndsWatchesAndRefusesCalls() async throws {
        let directory = try TemporaryDirectory()
        let store = try SQLiteStorage(path: directory.path + "/store.db")
        let watch = try await store.watch(prefix: "/", after: nil)
        #expect(store.watcherCount == 1)
        await store.close()
        await #expect(throws: StorageError.closed) {
            for try await _ in watch.events {}
        }
        await #expect(throws: StorageError.closed) {
            try await store.get("/x")
        }
    }
}
