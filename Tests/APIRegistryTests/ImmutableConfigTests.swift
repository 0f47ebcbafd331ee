@testable import APIMachinery
@testable import APIRegistry
import APITestSupport
import Foundation
import KubeAPI
import Testing

/// Immutable ConfigMaps and Secrets (ValidateConfigMapUpdate, ValidateSecretUpdate): once
/// `immutable: true` is set, the data and the flag itself never change.
@Suite struct ImmutableConfigTests {
    private static func object(_ text: String) throws -> KubeObject {
        guard case .object(let fields) = try JSONParser.parse(Array(text.utf8)) else { throw TestFailure("not an object: \(text)") }
        return KubeObject(fields: fields)
    }

    private func updateError(_ ref: ResourceRef, _ created: KubeObject, change: (inout KubeObject) -> Void,
                             api: TestAPI) async -> String? {
        var changed = created
        change(&changed)
        do {
            _ = try await api.client.update(ref, changed, subresource: nil)
            return nil
        } catch {
            return error.message
        }
    }

    @Test func anImmutableConfigMapKeepsItsDataAndFlag() async throws {
        try await withTestAPI { api in
            let ref = ResourceRef(group: "", name: "configmaps")
            let created = try await api.client.create(ref, namespace: "default", Self.object(
                #"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"frozen"},"data":{"a":"1"},"binaryData":{"b":"AAE="},"immutable":true}"#))
            let data = await updateError(ref, created, change: { $0.fields["data"] = .object(["a": .string("2")]) }, api: api)
            #expect(data == #"ConfigMap "frozen" is invalid: data: Forbidden: field is immutable when `immutable` is set"#)
            let binary = await updateError(ref, created, change: { $0.fields["binaryData"] = nil }, api: api)
            #expect(binary == #"ConfigMap "frozen" is invalid: binaryData: Forbidden: field is immutable when `immutable` is set"#)
            let flag = await updateError(ref, created, change: { $0.fields["immutable"] = .bool(false) }, api: api)
            #expect(flag == #"ConfigMap "frozen" is invalid: immutable: Forbidden: field is immutable when `immutable` is set"#)
            // Metadata may still change.
            let labelled = await updateError(ref, created, change: { $0.labels = ["team": "a"] }, api: api)
            #expect(labelled == nil)
        }
    }

    @Test func aMutableConfigMapMayBecomeImmutable() async throws {
        try await withTestAPI { api in
            let ref = ResourceRef(group: "", name: "configmaps")
            let created = try await api.client.create(ref, namespace: "default", Self.object(
                #"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"thawed"},"data":{"a":"1"}}"#))
            let frozen = await updateError(ref, created, change: {
                $0.fields["data"] = .object(["a": .string("2")])
                $0.fields["immutable"] = .bool(true)
            }, api: api)
            #expect(frozen == nil)
        }
    }

    @Test func anImmutableSecretKeepsItsData() async throws {
        try await withTestAPI { api in
            let ref = ResourceRef(group: "", name: "secrets")
            let created = try await api.client.create(ref, namespace: "default", Self.object(
                #"{"apiVersion":"v1","kind":"Secret","metadata":{"name":"key"},"stringData":{"k":"v"},"immutable":true}"#))
            let data = await updateError(ref, created, change: { $0.fields["data"] = .object(["k": .string("dzI=")]) }, api: api)
            #expect(data == #"Secret "key" is invalid: data: Forbidden: field is immutable when `immutable` is set"#)
            let flag = await updateError(ref, created, change: { $0.fields["immutable"] = nil }, api: api)
            #expect(flag == #"Secret "key" is invalid: immutable: Forbidden: field is immutable when `immutable` is set"#)
        }
    }
}
