@testable import APIMachinery
@testable import APIRegistry
import APITestSupport
import Foundation
import KubeAPI
import Testing

/// batch/v1 Job defaults, the generated selector and validation, with Kubernetes' messages.
@Suite struct JobValidationTests {
    static func jobJSON(_ name: String, spec: String = "", restartPolicy: String = "Never", labels: String = "") -> String {
        """
        {"apiVersion":"batch/v1","kind":"Job","metadata":{"name":"\(name)"},
         "spec":{\(spec)"template":{"metadata":{"labels":{\(labels)}},
           "spec":{"restartPolicy":"\(restartPolicy)","containers":[{"name":"c","image":"busybox"}]}}}}
        """
    }

    private static func object(_ text: String) throws -> KubeObject {
        guard case .object(let fields) = try JSONParser.parse(Array(text.utf8)) else { throw TestFailure("not an object: \(text)") }
        return KubeObject(fields: fields)
    }

    /// The message of the error creating `text` (nil when it was created).
    private func createError(_ text: String) async throws -> String? {
        try await withTestAPI { api in
            do {
                _ = try await api.client.create(.jobs, namespace: "default", Self.object(text))
                return nil
            } catch let error as APIError {
                return error.message
            }
        }
    }

    @Test func defaultsAndGeneratesTheSelector() async throws {
        try await withTestAPI { api in
            let job = try await api.client.create(.jobs, namespace: "default", Self.object(Self.jobJSON("pi", labels: #""app":"pi""#)))
            let uid = try #require(job.uid)
            #expect(job.value(at: ["spec", "completions"])?.intValue == 1)
            #expect(job.value(at: ["spec", "parallelism"])?.intValue == 1)
            #expect(job.value(at: ["spec", "backoffLimit"])?.intValue == 6)
            #expect(job.string(at: ["spec", "completionMode"]) == "NonIndexed")
            #expect(job.value(at: ["spec", "suspend"])?.boolValue == false)
            #expect(job.string(at: ["spec", "podReplacementPolicy"]) == "TerminatingOrFailed")
            #expect(job.value(at: ["spec", "selector"]) == .object(["matchLabels": .object(["batch.kubernetes.io/controller-uid": .string(uid)])]))
            let labels = job.value(at: ["spec", "template", "metadata", "labels"])?.objectValue ?? [:]
            #expect(labels == ["app": .string("pi"), "job-name": .string("pi"), "batch.kubernetes.io/job-name": .string("pi"),
                               "controller-uid": .string(uid), "batch.kubernetes.io/controller-uid": .string(uid)])
            #expect(job.value(at: ["status"]) == nil)

            // A work queue (parallelism without completions) keeps completions unset.
            let queue = try await api.client.create(.jobs, namespace: "default", Self.object(Self.jobJSON("queue", spec: #""parallelism":3,"#)))
            #expect(queue.value(at: ["spec", "completions"]) == nil)
            #expect(queue.value(at: ["spec", "parallelism"])?.intValue == 3)
        }
    }

    @Test func rejectsBadSpecsWithKubernetesMessages() async throws {
        let always = try await createError(Self.jobJSON("a", restartPolicy: "Always"))
        #expect(always?.contains(#"spec.template.spec.restartPolicy: Unsupported value: "Always": supported values: "OnFailure", "Never""#) == true,
                "\(always ?? "created")")
        let negative = try await createError(Self.jobJSON("n", spec: #""parallelism":-1,"completions":-2,"backoffLimit":-3,"activeDeadlineSeconds":-4,"#))
        for field in ["spec.parallelism: Invalid value: -1", "spec.completions: Invalid value: -2", "spec.backoffLimit: Invalid value: -3",
                      "spec.activeDeadlineSeconds: Invalid value: -4"] {
            #expect(negative?.contains(field + ": must be greater than or equal to 0") == true, "\(negative ?? "created")")
        }
        let indexed = try await createError(Self.jobJSON("i", spec: #""completionMode":"Indexed","parallelism":2,"#))
        #expect(indexed?.contains("spec.completions: Required value: when completion mode is Indexed") == true, "\(indexed ?? "created")")
        let mode = try await createError(Self.jobJSON("m", spec: #""completionMode":"Sometimes","#))
        #expect(mode?.contains(#"spec.completionMode: Unsupported value: "Sometimes": supported values: "NonIndexed", "Indexed""#) == true)
        let wrongType = try await createError(Self.jobJSON("w", spec: #""parallelism":"two","#))
        #expect(wrongType != nil, "a string parallelism is refused")
        // A selector the user chose without manualSelector is not the generated one.
        let chosen = try await createError(Self.jobJSON("s", spec: #""selector":{"matchLabels":{"app":"x"}},"#, labels: #""app":"x""#))
        #expect(chosen?.contains("spec.selector: Invalid value") == true && chosen?.contains("`selector` not auto-generated") == true,
                "\(chosen ?? "created")")
        // With manualSelector, the selector must match the template.
        let manual = try await createError(Self.jobJSON("ms", spec: #""manualSelector":true,"selector":{"matchLabels":{"app":"x"}},"#, labels: #""app":"y""#))
        #expect(manual?.contains("spec.template.metadata.labels: Invalid value") == true && manual?.contains("`selector` does not match template `labels`") == true,
                "\(manual ?? "created")")
        #expect(try await createError(Self.jobJSON("ok", spec: #""manualSelector":true,"selector":{"matchLabels":{"app":"x"}},"#, labels: #""app":"x""#)) == nil)
    }

    @Test func keepsTheIdentityOfItsPodsImmutable() async throws {
        try await withTestAPI { api in
            let job = try await api.client.create(.jobs, namespace: "default", Self.object(Self.jobJSON("pi", spec: #""completions":2,"#)))
            for patch in [#"{"spec":{"completions":3}}"#, #"{"spec":{"template":{"spec":{"containers":[{"name":"c","image":"other"}]}}}}"#,
                          #"{"spec":{"completionMode":"Indexed"}}"#] {
                do {
                    _ = try await api.client.patch(.jobs, namespace: "default", name: "pi", JSONParser.parse(Array(patch.utf8)))
                    Issue.record("\(patch) was accepted")
                } catch let error as APIError {
                    #expect(error.code == 422)
                    #expect(error.message.contains("field is immutable"), "\(error.message)")
                }
            }
            // What is not part of the pods' identity changes.
            let patched = try await api.client.patch(.jobs, namespace: "default", name: "pi", JSONParser.parse(Array(#"{"spec":{"parallelism":2,"activeDeadlineSeconds":30}}"#.utf8)))
            #expect(patched.value(at: ["spec", "parallelism"])?.intValue == 2)
            #expect(patched.uid == job.uid)
        }
    }
}
