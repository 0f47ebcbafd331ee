@testable import APIMachinery
@testable import APIRegistry
@testable import APIServer
import APITestSupport
import Foundation
import KubeAPI
import ServerTestSupport
import Testing

/// Careless and hostile StatefulSet, scale and ControllerRevision requests over HTTPS: each
/// refused with a 4xx Status naming the problem, and a store that reads back afterwards.
@Suite struct StatefulSetHostileInputTests {
    static let sets = "/apis/apps/v1/namespaces/default/statefulsets"
    static let revisions = "/apis/apps/v1/namespaces/default/controllerrevisions"

    static func set(_ spec: String, name: String = "x") -> String {
        #"{"apiVersion":"apps/v1","kind":"StatefulSet","metadata":{"name":"\#(name)"},"spec":{\#(spec)"selector":{"matchLabels":{"a":"b"}},"template":{"metadata":{"labels":{"a":"b"}},"spec":{"containers":[{"name":"c","image":"i"}]}}}}"#
    }

    @Test func badStatefulSetsAreRefused() async throws {
        try await withHostileCluster { api in
            let cases: [(body: String, status: Int, says: String)] = [
                (Self.set(#""replicas":"three","#), 400, "cannot unmarshal string into Go struct field StatefulSetSpec.spec.replicas"),
                (Self.set(#""replicas":-1,"#), 422, "spec.replicas: Invalid value: -1: must be greater than or equal to 0"),
                (Self.set(#""updateStrategy":{"type":"RollingUpdate","rollingUpdate":{"partition":"x"}},"#), 400, "partition"),
                (Self.set(#""updateStrategy":{"type":"Sideways"},"#), 422, "spec.updateStrategy: Invalid value"),
                (Self.set(#""podManagementPolicy":"","#), 201, ""),
                (Self.set(#""persistentVolumeClaimRetentionPolicy":{"whenDeleted":"Shred"},"#, name: "r"), 422,
                 #"spec.persistentVolumeClaimRetentionPolicy.whenDeleted: Unsupported value: "Shred": supported values: "Retain", "Delete""#),
                (Self.set(#""volumeClaimTemplates":[{"metadata":{"name":"d"}}],"#, name: "v"), 422,
                 "spec.volumeClaimTemplates[0].spec.accessModes: Required value: at least 1 access mode is required"),
                (Self.set(#""volumeClaimTemplates":[{"spec":{"accessModes":["ReadWriteOnce"],"resources":{"requests":{"storage":"1Gi"}}}}],"#, name: "w"), 422,
                 "spec.volumeClaimTemplates[0].metadata.name: Required value"),
                (Self.set(#""ordinals":{"start":-5},"#, name: "o"), 422, "spec.ordinals.start: Invalid value: -5"),
                (Self.set("", name: "web.db"), 422, #"metadata.name: Invalid value: "web.db": must not contain dots"#),
                (#"{"apiVersion":"apps/v1","kind":"StatefulSet","metadata":{"name":"s"},"spec":{"selector":null,"template":{"spec":{"containers":[{"name":"c","image":"i"}]}}}}"#,
                 422, "spec.selector: Required value"),
            ]
            for (body, status, says) in cases {
                let response = try await api.admin("POST", Self.sets, body)
                #expect(Int(response.status) == status, "\(body): \(response.text)")
                if !says.isEmpty { #expect(message(response).contains(says), "\(body): \(message(response))") }
                if status == 201 { #expect(try await api.admin("DELETE", Self.sets + "/x").status == 200) }
            }

            // The scale subresource of a StatefulSet.
            #expect(try await api.admin("POST", Self.sets, Self.set("", name: "ok")).status == 201)
            for (patch, says) in [(#"{"spec":{"replicas":-2}}"#, "spec.replicas: Invalid value: -2: must be greater than or equal to 0"),
                                  (#"{"spec":{"replicas":"many"}}"#,
                                   #"Scale in version "v1" cannot be handled as a Scale: json: cannot unmarshal string into Go struct field ScaleSpec.spec.replicas of type int32"#),
                                  (#"{"spec":{"replicas":2.5}}"#, "cannot unmarshal number into Go struct field ScaleSpec.spec.replicas")] {
                let response = try await api.admin("PATCH", Self.sets + "/ok/scale", patch, contentType: "application/merge-patch+json")
                #expect((400..<500).contains(Int(response.status)), "\(patch): \(response.text)")
                #expect(message(response).contains(says), "\(patch): \(message(response))")
            }
            let scaled = try await api.admin("PATCH", Self.sets + "/ok/scale", #"{"spec":{"replicas":4}}"#, contentType: "application/merge-patch+json")
            #expect(scaled.status == 200, "\(scaled.text)")
            #expect(try scaled.json()["kind"]?.stringValue == "Scale")
            #expect(try scaled.json()["status"]?["selector"]?.stringValue == "a=b")
            // The spec beyond the mutable fields stays.
            let renamed = try await api.admin("PATCH", Self.sets + "/ok", #"{"spec":{"podManagementPolicy":"Parallel"}}"#,
                                              contentType: "application/merge-patch+json")
            #expect(renamed.status == 422)
            #expect(message(renamed).contains("spec: Forbidden: updates to statefulset spec for fields other than"), "\(message(renamed))")
            try await api.expectStoreReadable()
        }
    }

    @Test func badControllerRevisionsAreRefused() async throws {
        try await withHostileCluster { api in
            let noData = try await api.admin("POST", Self.revisions, #"{"apiVersion":"apps/v1","kind":"ControllerRevision","metadata":{"name":"r"},"revision":1}"#)
            #expect(noData.status == 422)
            #expect(message(noData) == #"ControllerRevision.apps "r" is invalid: data: Required value: data is mandatory"#, "\(message(noData))")
            let negative = try await api.admin("POST", Self.revisions, #"{"metadata":{"name":"r"},"data":{"a":1},"revision":-1}"#)
            #expect(negative.status == 422)
            #expect(message(negative).contains("revision: Invalid value: -1: must be greater than or equal to 0"), "\(message(negative))")
            let word = try await api.admin("POST", Self.revisions, #"{"metadata":{"name":"r"},"data":{"a":1},"revision":"two"}"#)
            // Decoding into the type refuses it first, as kube-apiserver's json decoding does.
            #expect(word.status == 400)
            #expect(message(word).contains(#"ControllerRevision in version "v1" cannot be handled as a ControllerRevision: json: cannot unmarshal string into Go struct field ControllerRevision.revision"#),
                    "\(message(word))")

            #expect(try await api.admin("POST", Self.revisions, #"{"metadata":{"name":"r"},"data":{"a":1},"revision":1}"#).status == 201)
            let changed = try await api.admin("PATCH", Self.revisions + "/r", #"{"data":{"a":2}}"#, contentType: "application/merge-patch+json")
            #expect(changed.status == 422)
            #expect(message(changed).contains("data: Invalid value"), "\(message(changed))")
            #expect(message(changed).contains("field is immutable"), "\(message(changed))")
            let renumbered = try await api.admin("PATCH", Self.revisions + "/r", #"{"revision":2}"#, contentType: "application/merge-patch+json")
            #expect(renumbered.status == 200, "\(renumbered.text)")
            try await api.expectStoreReadable()
        }
    }
}
