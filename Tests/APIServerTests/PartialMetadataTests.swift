@testable import APIMachinery
import APITestSupport
import Foundation
import ServerTestSupport
import Testing

/// Metadata-only responses (`Accept: application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1`),
/// as client-go's metadata client, its informers and kubectl ask for them: lists, gets and
/// watches carry only each object's metadata (issue 17: the full objects came back).
@Suite struct PartialMetadataTests {
    static let list = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1"
    static let single = "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1"

    @Test func listsGetsAndWatchesCarryOnlyMetadata() async throws {
        try await withTestServer { server in
            let client = server.client
            let path = "/api/v1/namespaces/default/configmaps"
            #expect(try await client.send("POST", path, json: try json(#"{"metadata":{"name":"a","labels":{"k":"v"}},"data":{"secret":"x"}}"#)).status == 201)
            let listed = try await client.send("GET", path, headers: ["Accept": Self.list])
            #expect(listed.status == 200, "\(listed.text)")
            let body = try listed.json()
            #expect(body["kind"] == .string("PartialObjectMetadataList") && body["apiVersion"] == .string("meta.k8s.io/v1"))
            #expect(body["metadata"]?["resourceVersion"]?.stringValue != nil)
            let item = try #require(body["items"]?.arrayValue?.first)
            #expect(item["kind"] == .string("PartialObjectMetadata") && item["apiVersion"] == .string("meta.k8s.io/v1"))
            #expect(item["metadata"]?["name"] == .string("a") && item["metadata"]?["labels"]?["k"] == .string("v"))
            #expect(item["data"] == nil, "only metadata: \(listed.text)")
            // A client that also accepts plain JSON gets metadata first when it lists it first.
            let either = try await client.send("GET", path, headers: ["Accept": Self.list + ",application/json"])
            #expect(try either.json()["kind"] == .string("PartialObjectMetadataList"))

            let got = try await client.send("GET", path + "/a", headers: ["Accept": "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1beta1"])
            #expect(try got.json()["kind"] == .string("PartialObjectMetadata") && (try got.json()["apiVersion"]) == .string("meta.k8s.io/v1beta1"))
            #expect(try got.json()["data"] == nil)

            // The wrong one of the pair is refused as upstream refuses it.
            let wrongGet = try await client.send("GET", path + "/a", headers: ["Accept": Self.list])
            #expect(wrongGet.status == 406 && wrongGet.text.contains("the requested object is not a list"), "\(wrongGet.text)")
            let wrongList = try await client.send("GET", path, headers: ["Accept": Self.single])
            #expect(wrongList.status == 406 && wrongList.text.contains("the requested object is a list"), "\(wrongList.text)")
            // Unknown meta.k8s.io versions are not served.
            let future = try await client.send("GET", path, headers: ["Accept": "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v9"])
            #expect(future.status == 406, "\(future.text)")

            let stream = try await client.stream(path + "?watch=1", headers: ["Accept": Self.single])
            #expect(stream.status == 200)
            let event = try #require(try await stream.nextEvent())
            #expect(event.type == "ADDED")
            #expect(event.object["kind"] == .string("PartialObjectMetadata") && event.object["data"] == nil, "\(event.object)")
            #expect(event.object["metadata"]?["name"] == .string("a"))
        }
    }
}
