import APITestSupport
@testable import EtcdStorage
import Foundation
import Glibc
import ServerTestSupport
import Storage
import Testing
import TestSupport

private func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

/// What only the etcd backend does: servers sharing one etcd, history older than the window,
/// compaction, members that die.
@Suite(.requires(TestEtcd.isInstalled, "needs etcd (Debian's etcd-server)"))
struct EtcdStorageTests {
    /// A fresh etcd of `members` and a store on it, closed and removed when `body` ends.
    private func withEtcdStore<T>(members: Int = 1, historyCapacity: Int = EtcdStorage.defaultHistoryCapacity,
                                  _ body: (TestEtcd, EtcdStorage) async throws -> T) async throws -> T {
        try await withTestEtcd(members: members) { etcd in
            try await withStore(etcd, historyCapacity: historyCapacity) { try await body(etcd, $0) }
        }
    }

    /// A store on `etcd`, closed when `body` ends, whether it throws or not.
    private func withStore<T>(_ etcd: TestEtcd, historyCapacity: Int = EtcdStorage.defaultHistoryCapacity,
                              _ body: (EtcdStorage) async throws -> T) async throws -> T {
        try await closing(try await EtcdStorage(client: try etcd.client(), historyCapacity: historyCapacity, compactionInterval: nil), body)
    }

    @Test func aSecondServerSeesTheFirstOnesWritesAndResumesItsResourceVersions() async throws {
        try await withEtcdStore { etcd, first in
            try await withStore(etcd) { second in
                let created = try await first.create("/registry/configmaps/default/a", value: bytes("1"))
                // The resourceVersion the first server just handed out may be ahead of the second
                // one's feed: the watch must neither refuse it nor repeat the event.
                let watch = try await second.watch(prefix: "/registry/configmaps/", after: created.revision)
                _ = try await first.update("/registry/configmaps/default/a", value: bytes("2"), expectedRevision: created.revision)
                _ = try await second.create("/registry/configmaps/default/b", value: bytes("3"))
                let events = try await collect(2, from: watch)
                #expect(events.map(\.type) == [.modified, .added])
                #expect(events.map(\.revision) == [created.revision + 1, created.revision + 2])
                #expect(events[0].previousValue == bytes("1"))
                #expect(try await second.get("/registry/configmaps/default/a")?.value == bytes("2"))
                await #expect(throws: StorageError.conflict(key: "/registry/configmaps/default/a", expected: created.revision,
                                                            actual: created.revision + 1)) {
                    try await second.update("/registry/configmaps/default/a", value: bytes("x"), expectedRevision: created.revision)
                }
            }
        }
    }

    @Test func aWatchOlderThanTheWindowIsServedByEtcd() async throws {
        try await withEtcdStore(historyCapacity: 3) { _, store in
            let base = try await store.currentRevision()
            for index in 0..<6 {
                _ = try await store.create("/p/\(index)", value: bytes("v\(index)"))
            }
            // The window holds three events; etcd still has all six.
            let watch = try await store.watch(prefix: "/p/", after: base + 1)
            _ = try await store.delete("/p/0", expectedRevision: nil)
            let events = try await collect(6, from: watch)
            #expect(events.map(\.revision) == Array((base + 2)...(base + 7)))
            #expect(events.last?.type == .deleted)
            #expect(events.last?.value == bytes("v0"))
        }
    }

    @Test func compactedHistoryIsExpiredForListsAndWatches() async throws {
        try await withEtcdStore(historyCapacity: 2) { _, store in
            let client = store.client
            let base = try await store.currentRevision()
            for index in 0..<5 {
                _ = try await store.create("/p/\(index)", value: bytes("v"))
            }
            // Two compactor rounds: the first records the revision, the second compacts to it.
            var (version, revision) = try await EtcdStorage.compact(client, version: 0, revision: 0)
            (version, revision) = try await EtcdStorage.compact(client, version: version, revision: revision)
            #expect(version == 2)
            // Once the feed has every revision, the window (two events) no longer reaches back.
            let head = try await store.currentRevision()
            _ = try await eventually({ store.feedRevision }, until: { $0 >= head })
            // The first round's own write was revision base + 6: the second compacts to it.
            let compacted = base + 6
            await #expect(throws: StorageError.expired(requested: base + 1, oldest: compacted)) {
                try await store.list(prefix: "/p/", atRevision: base + 1)
            }
            await #expect(throws: StorageError.expired(requested: base + 1, oldest: compacted)) {
                try await store.watch(prefix: "/p/", after: base + 1)
            }
            // At the compacted revision itself the store is still readable.
            #expect(try await store.list(prefix: "/p/", atRevision: compacted).objects.count == 5)
        }
    }

    @Test func twoServersCompactOnceARound() async throws {
        try await withTestEtcd { etcd in
            let one = try etcd.client(), two = try etcd.client()
            let first = try await EtcdStorage.compact(one, version: 0, revision: 0)
            // The second server lost the race for this round: it adopts the key's version.
            let second = try await EtcdStorage.compact(two, version: 0, revision: 0)
            await one.close()
            await two.close()
            #expect(first.0 == 1)
            #expect(second.0 == 1)
        }
    }

    @Test func killingTheMemberInUseLosesNoAcknowledgedWriteAndNoEvent() async throws {
        try await withEtcdStore(members: 3) { etcd, store in
            let watch = try await store.watch(prefix: "/p/", after: nil)
            var acknowledged: [StoredObject] = []
            for index in 0..<5 {
                acknowledged.append(try await store.create("/p/\(index)", value: bytes("v\(index)")))
            }
            // The client prefers the first member; kill it without a goodbye.
            await etcd.kill(member: 0)
            for index in 5..<10 {
                // A write in flight when the member died may fail (it may or may not have applied,
                // so it is not repeated); a new one goes to a live member.
                let result = try await retrying { try await store.create("/p/\(index)", value: bytes("v\(index)")) }
                acknowledged.append(result)
            }
            let listed = try await store.list(prefix: "/p/")
            #expect(Set(acknowledged.map(\.key)).isSubset(of: Set(listed.objects.map(\.key))))
            let events = try await collect(10, from: watch)
            #expect(events.map(\.key) == acknowledged.map(\.key))
            #expect(events.map(\.revision) == acknowledged.map(\.revision))
        }
    }

    /// Repeats a create that failed because its member died; an `alreadyExists` means the first
    /// attempt did apply, so the stored object is the answer.
    private func retrying(_ create: () async throws -> StoredObject) async throws -> StoredObject {
        var lastError: (any Error)?
        for _ in 0..<10 {
            do {
                return try await create()
            } catch StorageError.alreadyExists(let key) {
                Issue.record("a failed write of \(key) had applied")
                throw StorageError.alreadyExists(key: key)
            } catch {
                lastError = error
                try await Task.sleep(for: .milliseconds(500))
            }
        }
        throw lastError ?? StorageError.closed
    }

    @Test func membersThatWantClientCertificatesAreReachedOverTLS() async throws {
        try await withTestEtcd(tls: true) { etcd in
            try await withStore(etcd) { store in
                let created = try await store.create("/p/a", value: bytes("over TLS"))
                #expect(try await store.get("/p/a") == created)
            }
            let files = try #require(etcd.tls)
            // Without a client certificate, or trusting another CA: refused, naming the member.
            for settings in [EtcdClientSettings(endpoints: etcd.endpoints, caFile: files.ca),
                             EtcdClientSettings(endpoints: etcd.endpoints, caFile: "/etc/ssl/certs/ca-certificates.crt",
                                                certFile: files.clientCertificate, keyFile: files.clientKey)] {
                let client = try EtcdClient(settings: settings)
                do {
                    _ = try await client.currentRevision()
                    Issue.record("etcd answered a client it should refuse: \(settings)")
                } catch {
                    #expect(String(describing: error).contains("https://127.0.0.1:\(etcd.members[0].clientPort)"), "\(error)")
                }
                await client.close()
            }
            // A key file that is not a key: a configuration error before any connection.
            #expect(throws: EtcdConfigurationError.self) {
                try EtcdClient(settings: EtcdClientSettings(endpoints: etcd.endpoints, caFile: files.ca,
                                                            certFile: files.clientCertificate, keyFile: files.ca))
            }
        }
    }

    @Test func keepalivePingsDoNotDropAHealthyConnection() async throws {
        try await withTestEtcd { etcd in
            var settings = EtcdClientSettings(endpoints: etcd.endpoints)
            settings.keepaliveTime = .milliseconds(300)
            settings.keepaliveTimeout = .milliseconds(500)
            let client = try EtcdClient(settings: settings)
            try await closing(try await EtcdStorage(client: client, compactionInterval: nil)) { store in
                // The feed's watch keeps a stream open, so pings go out; a healthy member answers them.
                let before = try await client.streamConnection()
                try await Task.sleep(for: .seconds(3))
                let after = try await client.streamConnection()
                #expect(before === after, "the connection was dropped while the member answered")
                _ = try await store.create("/p/a", value: bytes("still here"))
            }
        }
    }

    @Test func aServerThatIsNotEtcdIsAClearError() async throws {
        // A listener that answers HTTP/1.1 to the HTTP/2 preface, as a wrong port would; on a
        // thread of its own (accept blocks), ended by shutting the socket down.
        let listener = try LoopbackSocket.bind(listen: true)
        let answering = Thread {
            while true {
                let connection = accept(listener.fd, nil, nil)
                guard connection >= 0 else { return }
                let reply = Array("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".utf8)
                _ = reply.withUnsafeBytes { write(connection, $0.baseAddress, $0.count) }
                close(connection)
            }
        }
        answering.start()
        defer {
            shutdown(listener.fd, Int32(SHUT_RDWR))
            close(listener.fd)
        }
        var settings = EtcdClientSettings(endpoints: [try EtcdEndpoint("http://127.0.0.1:\(listener.port)")])
        settings.requestTimeout = .seconds(5)
        let client = try EtcdClient(settings: settings)
        await #expect(throws: (any Error).self) {
            _ = try await EtcdStorage(client: client, compactionInterval: nil)
        }
        do {
            _ = try await client.range(EtcdRangeRequest(key: bytes("x")))
            Issue.record("a non-etcd server answered a Range")
        } catch {
            #expect(String(describing: error).contains("127.0.0.1:\(listener.port)"))
        }
        await client.close()
    }

    @Test func noReachableMemberIsAnErrorNamingTheEndpoints() async throws {
        let port = try LoopbackSocket.freePort()
        let client = try EtcdClient(settings: EtcdClientSettings(endpoints: [try EtcdEndpoint("http://127.0.0.1:\(port)")]))
        do {
            _ = try await EtcdStorage(client: client, compactionInterval: nil)
            Issue.record("a store opened without etcd")
        } catch {
            #expect(String(describing: error).contains("http://127.0.0.1:\(port)"))
        }
        await client.close()
    }
}

extension EtcdStorageTests {
    /// Thousands of writes in a row on one connection while the feed's watch streams their
    /// events back: every call is answered. (With NIOHTTP2's default flood guards, calls
    /// stopped being answered after a few hundred pod creates, until the keepalive dropped the
    /// connection: GRPCConnection says which setting matters.)
    @Test func sustainedWritesOnOneConnectionAreAllAnswered() async throws {
        try await withEtcdStore { _, store in
            let watch = try await store.watch(prefix: "/sustained/", after: nil)
            let value = [UInt8](repeating: UInt8(ascii: "x"), count: 2048)
            let total = 3000, width = 8
            try await withThrowingTaskGroup(of: Void.self) { group in
                for lane in 0..<width {
                    group.addTask {
                        for index in stride(from: lane, to: total, by: width) {
                            _ = try await store.create("/sustained/\(index)", value: value)
                        }
                    }
                }
                try await group.waitForAll()
            }
            #expect(try await store.list(prefix: "/sustained/").objects.count == total)
            #expect(try await collect(total, from: watch).count == total)
        }
    }
}
