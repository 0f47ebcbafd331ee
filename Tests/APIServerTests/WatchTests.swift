@testable import APIMachinery
@testable import APIRegistry
@testable import APIServer
import APITestSupport
import Foundation
import KubeAPI
import ServerTestSupport
import Storage
import Testing

/// Tests taking a `TestBackend` run on SQLite and on a real etcd (issue 19).
@Suite struct WatchTests {
    @Test(arguments: TestBackend.allCases)
    func watchStreamsEventsAfterTheListVersionOnePerLine(_ backend: TestBackend) async throws {
        try await withTestServer(backend: backend) { server in
            let client = server.client
            let list = try await client.send("GET", "/api/v1/namespaces/default/configmaps").json()
            let version = try #require(list["metadata"]?["resourceVersion"]?.stringValue)
            let stream = try await client.stream("/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=\(version)")
            #expect(stream.status == 200)
            _ = try await client.send("POST", "/api/v1/namespaces/default/configmaps", json: try json(#"{"metadata":{"name":"a"}}"#))
            _ = try await client.send("PATCH", "/api/v1/namespaces/default/configmaps/a", json: try json(#"{"data":{"k":"v"}}"#),
                                      contentType: "application/merge-patch+json")
            _ = try await client.send("DELETE", "/api/v1/namespaces/default/configmaps/a")
            var events: [(String, JSONValue)] = []
            for _ in 0..<3 {
                let event = try #require(try await stream.nextEvent())
                events.append((event.type, event.object))
            }
            #expect(events.map(\.0) == ["ADDED", "MODIFIED", "DELETED"])
            #expect(events.allSatisfy { $0.1["metadata"]?["name"]?.stringValue == "a" })
            let versions = events.compactMap { Int64($0.1["metadata"]?["resourceVersion"]?.stringValue ?? "") }
            #expect(versions == versions.sorted() && Set(versions).count == 3)
            #expect(versions.first ?? 0 > Int64(version) ?? 0)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func watchWithoutAVersionStartsWithTheCurrentObjects(_ backend: TestBackend) async throws {
        try await withTestServer(backend: backend) { server in
            let client = server.client
            _ = try await client.send("POST", "/api/v1/namespaces/default/configmaps", json: try json(#"{"metadata":{"name":"first"}}"#))
            let stream = try await client.stream("/api/v1/namespaces/default/configmaps?watch=1")
            let event = try #require(try await stream.nextEvent())
            #expect(event.type == "ADDED")
            #expect(event.object["metadata"]?["name"]?.stringValue == "first")
        }
    }

    @Test(arguments: TestBackend.allCases)
    func aFilteredWatchSeesObjectsEnterAndLeaveTheSelection(_ backend: TestBackend) async throws {
        try await withTestServer(backend: backend) { server in
            let client = server.client
            let version = try await client.send("GET", "/api/v1/namespaces/default/configmaps").json()["metadata"]?["resourceVersion"]?.stringValue ?? "1"
            let stream = try await client.stream("/api/v1/namespaces/default/configmaps?watch=true&labelSelector=app%3Dweb&resourceVersion=\(version)")
            _ = try await client.send("POST", "/api/v1/namespaces/default/configmaps", json: try json(#"{"metadata":{"name":"x","labels":{"app":"db"}}}"#))
            let merge = "application/merge-patch+json"
            _ = try await client.send("PATCH", "/api/v1/namespaces/default/configmaps/x", json: try json(#"{"metadata":{"labels":{"app":"web"}}}"#), contentType: merge)
            _ = try await client.send("PATCH", "/api/v1/namespaces/default/configmaps/x", json: try json(#"{"data":{"k":"v"}}"#), contentType: merge)
            _ = try await client.send("PATCH", "/api/v1/namespaces/default/configmaps/x", json: try json(#"{"metadata":{"labels":{"app":"db"}}}"#), contentType: merge)
            var types: [String] = []
            for _ in 0..<3 {
                types.append(try #require(try await stream.nextEvent()).type)
            }
            // Created unmatched (nothing), labelled in (ADDED), changed (MODIFIED), labelled out (DELETED).
            #expect(types == ["ADDED", "MODIFIED", "DELETED"])
        }
    }

    @Test func watchFromACompactedVersionGetsGoneInTheStream() async throws {
        let directory = try TemporaryDirectory()
        let storage = try SQLiteStorage(path: directory.path + "/s.db", historyCapacity: 4)
        let service = try APIService(storage: storage)
        try await service.bootstrap()
        let store = try service.store(group: "", name: "configmaps")
        var options = ListOptions()
        options.resourceVersion = "1"
        let watch = try await store.watch(namespace: "default", options: options)
        var iterator = watch.makeAsyncIterator()
        let event = try #require(await iterator.next())
        #expect(event.type == "ERROR")
        #expect(event.error?.code == 410)
        #expect(event.error?.reason == "Expired")
        #expect(event.error?.message.hasPrefix("too old resource version: 1 (") == true)
        await storage.close()
    }

    @Test(arguments: TestBackend.allCases)
    func tableWatchesSendTableEvents(_ backend: TestBackend) async throws {
        try await withTestServer(backend: backend) { server in
            let client = server.client
            let stream = try await client.stream("/api/v1/namespaces/default/pods?watch=true",
                                                 headers: ["Accept": "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"])
            _ = try await client.send("POST", "/api/v1/namespaces/default/pods", json: try json(podJSON))
            let event = try #require(try await stream.nextEvent())
            #expect(event.type == "ADDED")
            #expect(event.object["kind"]?.stringValue == "Table")
            #expect(event.object["rows"]?.arrayValue?.first?["cells"]?.arrayValue?.first == .string("web"))
        }
    }

    @Test(arguments: TestBackend.allCases)
    func watchEndsAtItsTimeout(_ backend: TestBackend) async throws {
        try await withTestServer(backend: backend) { server in
            let stream = try await server.client.stream("/api/v1/namespaces/default/pods?watch=true&resourceVersion=1&timeoutSeconds=1")
            let start = ContinuousClock.now
            let event = try await stream.nextEvent()
            #expect(event == nil)
            // The server ends the stream itself; the bound only tells "ended" from "hung" and
            // allows for a loaded machine.
            #expect(ContinuousClock.now - start < .seconds(30))
        }
    }

    @Test(arguments: TestBackend.allCases)
    func aClientThatGoesAwayStopsItsWatch(_ backend: TestBackend) async throws {
        try await withTestServer(backend: backend) { server in
            do {
                let stream = try await server.client.stream("/api/v1/namespaces/default/pods?watch=true")
                #expect(stream.status == 200)
                #expect(server.storage.watcherCount == 1)
            }
            // The socket closed with the stream; the server must notice without any event.
            let deadline = ContinuousClock.now + .seconds(30)
            while server.storage.watcherCount > 0, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(server.storage.watcherCount == 0)
        }
    }
}
