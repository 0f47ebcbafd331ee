import APITestSupport
import ServerTestSupport
import Storage
import Testing
import TestSupport

private func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

/// Runs `body` with a fresh store of `backend` and the revision it starts at (SQLite: 0; etcd:
/// 1, and revisions count from there), closed and removed afterwards.
func withStore(_ backend: TestBackend, historyCapacity: Int = SQLiteStorage.defaultHistoryCapacity,
               _ body: (any TestStorage, Int64) async throws -> Void) async throws {
    let scratch = try TemporaryDirectory()
    try await withTestStorage(backend, directory: scratch.path, historyCapacity: historyCapacity) { store in
        try await body(store, try await store.currentRevision())
    }
}

/// What every backend promises (Storage.swift), run against each: SQLite, and a real etcd.
@Suite(.requires(TestEtcd.isInstalled, "needs etcd (Debian's etcd-server)"))
struct StorageContractTests {
    @Test(arguments: TestBackend.allCases)
    func createGetUpdateDeleteBumpTheRevision(_ backend: TestBackend) async throws {
        try await withStore(backend) { store, base in
            let created = try await store.create("/registry/pods/default/a", value: bytes("one"))
            #expect(created.revision == base + 1)
            #expect(try await store.get("/registry/pods/default/a") == created)
            let updated = try await store.update("/registry/pods/default/a", value: bytes("two"), expectedRevision: base + 1)
            #expect(updated.revision == base + 2)
            let deleted = try await store.delete("/registry/pods/default/a", expectedRevision: nil)
            #expect(deleted.revision == base + 3)
            #expect(deleted.value == bytes("two"))
            #expect(try await store.get("/registry/pods/default/a") == nil)
            #expect(try await store.currentRevision() == base + 3)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func createOfAnExistingKeyFails(_ backend: TestBackend) async throws {
        try await withStore(backend) { store, base in
            _ = try await store.create("/k", value: bytes("x"))
            await #expect(throws: StorageError.alreadyExists(key: "/k")) {
                try await store.create("/k", value: bytes("y"))
            }
            #expect(try await store.get("/k")?.value == bytes("x"))
            #expect(try await store.currentRevision() == base + 1)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func updateWithAStaleRevisionConflicts(_ backend: TestBackend) async throws {
        try await withStore(backend) { store, base in
            _ = try await store.create("/k", value: bytes("x"))
            _ = try await store.update("/k", value: bytes("y"), expectedRevision: base + 1)
            await #expect(throws: StorageError.conflict(key: "/k", expected: base + 1, actual: base + 2)) {
                try await store.update("/k", value: bytes("z"), expectedRevision: base + 1)
            }
            await #expect(throws: StorageError.conflict(key: "/k", expected: base + 1, actual: base + 2)) {
                try await store.delete("/k", expectedRevision: base + 1)
            }
            await #expect(throws: StorageError.notFound(key: "/missing")) {
                try await store.update("/missing", value: bytes("z"), expectedRevision: nil)
            }
            await #expect(throws: StorageError.notFound(key: "/missing")) {
                try await store.delete("/missing", expectedRevision: nil)
            }
            #expect(try await store.get("/k")?.value == bytes("y"))
            #expect(try await store.currentRevision() == base + 2)
        }
    }

    /// Many writes at once (SQLite commits those that arrive together in one transaction):
    /// of updates racing with the same expected revision exactly one wins, creates of one key
    /// give one object, every success has its own revision, the revisions have no gaps, and a
    /// watch sees each write once, in revision order, with the value that call stored.
    @Test(arguments: TestBackend.allCases)
    func concurrentWritesGetOwnRevisionsAndOneWinnerPerPrecondition(_ backend: TestBackend) async throws {
        try await withStore(backend) { store, base in
            _ = try await store.create("/race/cas", value: bytes("0"))
            let watch = try await store.watch(prefix: "/race/", after: base + 1)
            let results = await withTaskGroup(of: (String, Result<StoredObject, StorageError>).self) { group in
                for index in 0..<20 {
                    group.addTask { ("cas\(index)", await Self.result { try await store.update("/race/cas", value: bytes("cas\(index)"), expectedRevision: base + 1) }) }
                    group.addTask { ("same\(index)", await Self.result { try await store.create("/race/same", value: bytes("same\(index)")) }) }
                    group.addTask { ("own\(index)", await Self.result { try await store.create("/race/own\(index)", value: bytes("own\(index)")) }) }
                }
                var all: [(String, Result<StoredObject, StorageError>)] = []
                for await result in group { all.append(result) }
                return all
            }
            let won = results.compactMap { name, result -> (String, StoredObject)? in
                if case .success(let object) = result { return (name, object) }
                return nil
            }
            #expect(won.filter { $0.0.hasPrefix("cas") }.count == 1)
            #expect(won.filter { $0.0.hasPrefix("same") }.count == 1)
            #expect(won.filter { $0.0.hasPrefix("own") }.count == 20)
            for (name, result) in results {
                guard case .failure(let error) = result else { continue }
                if name.hasPrefix("cas") {
                    guard case .conflict(let key, let expected, _) = error else {
                        Issue.record("\(name): \(error)")
                        continue
                    }
                    #expect(key == "/race/cas" && expected == base + 1)
                }
                if name.hasPrefix("same") { #expect(error == .alreadyExists(key: "/race/same")) }
            }
            let revisions = won.map(\.1.revision).sorted()
            #expect(revisions == Array((base + 2)...(base + 1 + Int64(won.count))), "one revision each, no gaps")
            #expect(try await store.currentRevision() == base + 1 + Int64(won.count))
            let events = try await collect(won.count, from: watch)
            #expect(events.map(\.revision) == revisions)
            for (_, object) in won {
                let event = events.first { $0.revision == object.revision }
                #expect(event?.key == object.key)
                #expect(event?.value == object.value)
            }
            let cas = try #require(won.first { $0.0.hasPrefix("cas") })
            #expect(try await store.get("/race/cas")?.value == bytes(cas.0))
            #expect(try await store.get("/race/cas")?.revision == cas.1.revision)
        }
    }

    static func result(_ body: () async throws -> StoredObject) async -> Result<StoredObject, StorageError> {
        do { return .success(try await body()) } catch let error as StorageError { return .failure(error) } catch {
            return .failure(.backend("\(error)"))
        }
    }

    @Test(arguments: TestBackend.allCases)
    func listReturnsOnlyThePrefixSortedByKey(_ backend: TestBackend) async throws {
        try await withStore(backend) { store, base in
            _ = try await store.create("/registry/pods/ns/b", value: bytes("b"))
            _ = try await store.create("/registry/pods/ns/a", value: bytes("a"))
            _ = try await store.create("/registry/pods/ns0/c", value: bytes("c"))
            _ = try await store.create("/registry/pods/nt/d", value: bytes("d"))
            let list = try await store.list(prefix: "/registry/pods/ns/")
            #expect(list.objects.map(\.key) == ["/registry/pods/ns/a", "/registry/pods/ns/b"])
            #expect(list.revision == base + 4)
            #expect(try await store.list(prefix: "/registry/pods/").objects.count == 4)
            #expect(try await store.list(prefix: "/registry/nothing/").objects.isEmpty)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func listAtAnOlderRevisionUndoesLaterWrites(_ backend: TestBackend) async throws {
        try await withStore(backend) { store, base in
            _ = try await store.create("/p/a", value: bytes("a1"))          // 1
            _ = try await store.create("/p/b", value: bytes("b1"))          // 2
            _ = try await store.update("/p/a", value: bytes("a2"), expectedRevision: nil) // 3
            _ = try await store.delete("/p/b", expectedRevision: nil)       // 4
            _ = try await store.create("/p/c", value: bytes("c1"))          // 5
            let snapshot = try await store.list(prefix: "/p/", atRevision: base + 2)
            #expect(snapshot.objects == [StoredObject(key: "/p/a", value: bytes("a1"), revision: base + 1),
                                         StoredObject(key: "/p/b", value: bytes("b1"), revision: base + 2)])
            #expect(snapshot.revision == base + 2)
            await #expect(throws: StorageError.revisionTooLarge(requested: base + 9, current: base + 5)) {
                try await store.list(prefix: "/p/", atRevision: base + 9)
            }
        }
    }

    @Test(arguments: TestBackend.allCases)
    func watchFromARevisionReplaysLaterEventsThenLiveOnes(_ backend: TestBackend) async throws {
        try await withStore(backend) { store, base in
            _ = try await store.create("/p/a", value: bytes("a1"))
            _ = try await store.create("/q/x", value: bytes("x"))
            _ = try await store.update("/p/a", value: bytes("a2"), expectedRevision: nil)
            let watch = try await store.watch(prefix: "/p/", after: base + 1)
            _ = try await store.delete("/p/a", expectedRevision: nil)
            let events = try await collect(2, from: watch)
            #expect(events.map(\.type) == [.modified, .deleted])
            #expect(events.map(\.revision) == [base + 3, base + 4])
            #expect(events[0].previousValue == bytes("a1"))
            #expect(events[0].previousRevision == base + 1)
            #expect(events[1].value == bytes("a2"))
            #expect(events[1].previousRevision == base + 3)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func watchWithoutARevisionStartsWithTheCurrentObjects(_ backend: TestBackend) async throws {
        try await withStore(backend) { store, _ in
            _ = try await store.create("/p/a", value: bytes("a"))
            _ = try await store.create("/p/b", value: bytes("b"))
            let watch = try await store.watch(prefix: "/p/", after: nil)
            _ = try await store.create("/p/c", value: bytes("c"))
            let events = try await collect(3, from: watch)
            #expect(events.map(\.key) == ["/p/a", "/p/b", "/p/c"])
            #expect(events.map(\.type) == [.added, .added, .added])
        }
    }

    @Test(arguments: TestBackend.allCases)
    func watchFromTheFutureIsRefused(_ backend: TestBackend) async throws {
        try await withStore(backend) { store, base in
            _ = try await store.create("/p/a", value: bytes("a"))
            await #expect(throws: StorageError.revisionTooLarge(requested: base + 7, current: base + 1)) {
                try await store.watch(prefix: "/p/", after: base + 7)
            }
            // The newest revision itself is fine: only what comes after it.
            let watch = try await store.watch(prefix: "/p/", after: base + 1)
            _ = try await store.create("/p/b", value: bytes("b"))
            #expect(try await collect(1, from: watch).map(\.revision) == [base + 2])
        }
    }

    @Test(arguments: TestBackend.allCases)
    func closingEndsWatchesAndRefusesCalls(_ backend: TestBackend) async throws {
        try await withStore(backend) { store, _ in
            let watch = try await store.watch(prefix: "/", after: nil)
            await store.close()
            await #expect(throws: StorageError.closed) {
                for try await _ in watch.events {}
            }
            await #expect(throws: StorageError.closed) {
                try await store.get("/x")
            }
        }
    }
}
