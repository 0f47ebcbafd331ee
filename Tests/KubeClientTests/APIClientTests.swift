import APITestSupport
import Foundation
import KubeAPI
@testable import KubeClient
import ServerTestSupport
import Testing

/// A ConfigMap with only the fields these tests use: what the server sends besides
/// (uid, creationTimestamp, ...) must be ignored by the client's decoder.
struct ConfigMap: Codable, Sendable, Equatable {
    var apiVersion = "v1"
    var kind = "ConfigMap"
    var metadata: ObjectMeta
    var data: [String: String]?
}

@Suite struct APIClientTests {
    @Test func typedHelpersCreateGetUpdatePatchAndDelete() async throws {
        try await withTestCluster { cluster in
            try await withAdminClient(cluster) { client in
                let path = "/api/v1/namespaces/default/configmaps"
                let created = try await client.create(path, ConfigMap(metadata: ObjectMeta(name: "settings"), data: ["a": "1"]))
                #expect(created.metadata.uid?.isEmpty == false)
                #expect(created.data == ["a": "1"])

                var fetched: ConfigMap = try await client.get(path + "/settings")
                #expect(fetched.metadata.resourceVersion == created.metadata.resourceVersion)
                fetched.data = ["a": "2"]
                let updated = try await client.update(path + "/settings", fetched)
                #expect(updated.data == ["a": "2"])

                // An update from the old resourceVersion is a conflict the caller can recognise.
                let stale = await #expect(throws: APIClientError.self) { try await client.update(path + "/settings", created) }
                #expect(stale?.isConflict == true)
                #expect(stale?.description.contains("the object has been modified") == true)

                let merged: ConfigMap = try await client.patch(path + "/settings", type: .merge, body: Data(#"{"data":{"b":"3"}}"#.utf8))
                #expect(merged.data == ["a": "2", "b": "3"])
                let patched: ConfigMap = try await client.patch(path + "/settings", type: .json,
                                                                body: Data(#"[{"op":"remove","path":"/data/a"}]"#.utf8))
                #expect(patched.data == ["b": "3"])

                let duplicate = await #expect(throws: APIClientError.self) {
                    try await client.create(path, ConfigMap(metadata: ObjectMeta(name: "settings")))
                }
                #expect(duplicate?.isAlreadyExists == true)

                try await client.delete(path: path + "/settings")
                let missing = await #expect(throws: APIClientError.self) { let _: ConfigMap = try await client.get(path + "/settings") }
                #expect(missing == .status(code: 404, reason: "NotFound", message: #"configmaps "settings" not found"#))
                #expect(missing?.isNotFound == true)
            }
        }
    }

    @Test func podsDecodeIntoKubeAPITypesAndDeletePreconditionsApply() async throws {
        try await withTestCluster { cluster in
            try await withAdminClient(cluster) { client in
                var pod = Pod(metadata: ObjectMeta(name: "web"))
                pod.spec.containers = [Container(name: "app", image: "busybox")]
                let created = try await client.create("/api/v1/namespaces/default/pods", pod)
                // Defaults the server filled in come back through the lenient decoder.
                #expect(created.spec.containers.first?.terminationMessagePath == "/dev/termination-log")
                let strategic: Pod = try await client.patch("/api/v1/namespaces/default/pods/web", type: .strategicMerge,
                                                            body: Data(#"{"metadata":{"labels":{"app":"web"}}}"#.utf8))
                #expect(strategic.metadata.labels == ["app": "web"])

                let wrongUID = await #expect(throws: APIClientError.self) {
                    try await client.delete(path: "/api/v1/namespaces/default/pods/web", gracePeriodSeconds: 0, preconditionUID: "not-the-uid")
                }
                #expect(wrongUID?.isConflict == true)
                try await client.delete(path: "/api/v1/namespaces/default/pods/web", gracePeriodSeconds: 0,
                                        preconditionUID: created.metadata.uid)
                let gone = await #expect(throws: APIClientError.self) { let _: Pod = try await client.get("/api/v1/namespaces/default/pods/web") }
                #expect(gone?.isNotFound == true)
            }
        }
    }

    @Test func watchStreamsManyEventsInOrder() async throws {
        try await withTestCluster { cluster in
            try await withAdminClient(cluster) { client in
                let path = "/api/v1/namespaces/default/configmaps"
                let list: JSONValue = try await client.get(path)
                let version = try #require(list["metadata"]?["resourceVersion"]?.stringValue)
                let events = client.watch(ConfigMap.self, path: path + "?resourceVersion=\(version)")
                let count = 150
                let writer = Task {
                    for index in 0..<count {
                        _ = try await client.create(path, ConfigMap(metadata: ObjectMeta(name: "cm-\(index)"), data: ["i": "\(index)"]))
                    }
                    var last: ConfigMap = try await client.get(path + "/cm-0")
                    last.data = ["i": "changed"]
                    _ = try await client.update(path + "/cm-0", last)
                    try await client.delete(path: path + "/cm-1")
                }
                var seen: [(WatchEvent<ConfigMap>.EventType, String)] = []
                for try await event in events {
                    seen.append((event.type, event.object.metadata.name ?? ""))
                    if seen.count == count + 2 { break }  // leaving the loop cancels the watch
                }
                try await writer.value
                #expect(seen.prefix(count).map(\.1) == (0..<count).map { "cm-\($0)" })
                #expect(seen.prefix(count).allSatisfy { $0.0 == .added })
                #expect(seen.suffix(2).map(\.0) == [.modified, .deleted])
                #expect(seen.suffix(2).map(\.1) == ["cm-0", "cm-1"])
            }
        }
    }

    @Test func watchFromACompactedVersionEndsWithGone() async throws {
        try await withTestCluster(historyCapacity: 4) { cluster in
            try await withAdminClient(cluster) { client in
                let events = client.watch(ConfigMap.self, path: "/api/v1/namespaces/default/configmaps?resourceVersion=1")
                let error = await #expect(throws: APIClientError.self) {
                    for try await _ in events {}
                }
                #expect(error?.isGone == true)
                #expect(error?.description.hasPrefix("too old resource version: 1 (") == true)
            }
        }
    }

    @Test func aServerWithAnotherCAIsNotTrusted() async throws {
        let other = try ScratchDirectory()
        let foreign = try await ServerCertificatesForTests.otherCA(directory: other.path)
        try await withTestCluster { cluster in
            let client = try APIClient(server: cluster.server, caPEM: foreign, bearerToken: cluster.credentials.adminToken)
            let error = await #expect(throws: APIClientError.self) { let _: JSONValue = try await client.get("/api/v1/namespaces") }
            await client.shutdown()
            guard case .transport(let text)? = error else {
                Issue.record("expected a transport error, got \(String(describing: error))")
                return
            }
            #expect(text.contains(cluster.server), "\(text)")
        }
    }

    @Test func anUnreachableServerIsATransportErrorNamingIt() async throws {
        let port = try freePort()
        let cluster = try ScratchDirectory()
        let ca = try await ServerCertificatesForTests.otherCA(directory: cluster.path)
        let client = try APIClient(server: "https://127.0.0.1:\(port)", caPEM: ca, bearerToken: nil)
        let error = await #expect(throws: APIClientError.self) { try await client.send("GET", "/version") }
        await client.shutdown()
        guard case .transport(let text)? = error else {
            Issue.record("expected a transport error, got \(String(describing: error))")
            return
        }
        #expect(text.hasPrefix("GET https://127.0.0.1:\(port)/version failed: "), "\(text)")
    }

    @Test func aBadCABundleIsRefusedUpFront() {
        #expect(throws: APIClientError.self) { try APIClient(server: "https://127.0.0.1:1", caPEM: "not a certificate", bearerToken: nil) }
    }

    @Test func linesAreSplitAcrossAndWithinChunks() {
        var splitter = LineSplitter()
        let text = Array("{\"a\":1}\n{\"b\":2}\n\n{\"c\":3}\n{\"d\"".utf8)
        var lines: [String] = []
        // One byte at a time, then the rest in one go, as chunks may fall anywhere.
        for byte in text.prefix(10) { lines += splitter.append([byte]).map { String(decoding: $0, as: UTF8.self) } }
        lines += splitter.append(text.dropFirst(10)).map { String(decoding: $0, as: UTF8.self) }
        #expect(lines == ["{\"a\":1}", "{\"b\":2}", "{\"c\":3}"])
        lines += splitter.append(Array(":4}".utf8)).map { String(decoding: $0, as: UTF8.self) }
        #expect(splitter.finish().map { String(decoding: $0, as: UTF8.self) } == "{\"d\":4}")
    }
}
