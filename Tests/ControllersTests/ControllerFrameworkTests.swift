@testable import APIMachinery
@testable import APIRegistry
import APITestSupport
@testable import ControllerRuntime
@testable import Controllers
@testable import Scheduler
import Foundation
import Logging
import Storage
import Testing

@Suite struct ControllerFrameworkTests {
    @Test func informerReportsChangesAndKeepsItsCache() async throws {
        let directory = try TemporaryDirectory()
        let storage = try SQLiteStorage(path: directory.path + "/state.db")
        defer { Task { await storage.close() } }
        let service = try APIService(storage: storage)
        try await service.bootstrap()
        let client = InProcessClient(service: service)
        let informer = Informer(ref: .configMaps, client: client, logger: Logger(label: "test"))
        let (events, continuation) = AsyncStream.makeStream(of: String.self)
        informer.addHandler { event in
            switch event {
            case .added(let object): continuation.yield("added \(object.name ?? "")")
            case .updated(_, let new): continuation.yield("updated \(new.name ?? "") \(new.value(at: ["data", "k"])?.stringValue ?? "")")
            case .deleted(let object): continuation.yield("deleted \(object.name ?? "")")
            }
        }
        _ = try await client.create(.configMaps, namespace: "default", configMap("before", value: "1"))
        let task = Task { await informer.run() }
        defer { task.cancel() }
        await informer.waitForSync()
        #expect(informer.get(namespace: "default", name: "before") != nil)
        var iterator = events.makeAsyncIterator()
        #expect(await iterator.next() == "added before")

        var created = try await client.create(.configMaps, namespace: "default", configMap("live", value: "1"))
        #expect(await iterator.next() == "added live")
        created.set(.string("2"), at: ["data", "k"])
        _ = try await client.update(.configMaps, created)
        #expect(await iterator.next() == "updated live 2")
        try await client.delete(.configMaps, namespace: "default", name: "live")
        #expect(await iterator.next() == "deleted live")
        #expect(informer.get(namespace: "default", name: "live") == nil)
        #expect(informer.list(namespace: "default").compactMap(\.name).contains("before"))
    }

    @Test func workQueueNeverHandsOutAKeyTwiceAtOnceAndRequeuesWhatChangedMeanwhile() async {
        let queue = WorkQueue()
        await queue.add("a")
        await queue.add("a")
        await queue.add("b")
        #expect(await queue.next() == "a")
        await queue.add("a") // while processing: comes back after done
        #expect(await queue.next() == "b")
        await queue.done("b")
        await queue.done("a")
        #expect(await queue.next() == "a")
        await queue.done("a")
        await queue.shutdown()
        #expect(await queue.next() == nil)
    }

    private func configMap(_ name: String, value: String) -> KubeObject {
        KubeObject(fields: ["metadata": .object(["name": .string(name)]), "data": .object(["k": .string(value)])])
    }
}
