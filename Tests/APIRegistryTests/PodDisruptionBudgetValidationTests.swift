@testable import APIMachinery
@testable import APIRegistry
import APITestSupport
import Foundation
import KubeAPI
import Testing

/// policy/v1 PodDisruptionBudgets: status reset on create, status kept on update and spec kept
/// through the status subresource, generation tracking, and `ValidatePodDisruptionBudget`'s
/// messages for bad budgets.
@Suite struct PodDisruptionBudgetValidationTests {
    static func budget(_ name: String = "web", spec: String = #""minAvailable":1,"selector":{"matchLabels":{"app":"web"}}"#,
                       extra: String = "") -> KubeObject {
        let text = #"{"apiVersion":"policy/v1","kind":"PodDisruptionBudget","metadata":{"name":"\#(name)"},"spec":{\#(spec)}\#(extra)}"#
        guard case .object(let fields)? = try? JSONParser.parse(Array(text.utf8)) else { return KubeObject(fields: [:]) }
        return KubeObject(fields: fields)
    }

    private func createError(_ spec: String) async throws -> String? {
        try await withTestAPI { api in
            do {
                _ = try await api.client.create(.podDisruptionBudgets, namespace: "default", Self.budget(spec: spec))
                return nil
            } catch let error as APIError {
                return "\(error.code) \(error.message)"
            }
        }
    }

    @Test func createResetsTheStatusAndUpdatesKeepIt() async throws {
        try await withTestAPI { api in
            let created = try await api.client.create(.podDisruptionBudgets, namespace: "default",
                                                      Self.budget(extra: #","status":{"disruptionsAllowed":5,"currentHealthy":9}"#))
            #expect(created.value(at: ["status"]) == .object(["disruptionsAllowed": .int(0), "currentHealthy": .int(0),
                                                              "desiredHealthy": .int(0), "expectedPods": .int(0)]))
            #expect(created.generation == 1)

            // The status subresource changes the status only (and validates it).
            var withStatus = created
            withStatus.set(.object(["disruptionsAllowed": .int(1), "currentHealthy": .int(2), "desiredHealthy": .int(1),
                                    "expectedPods": .int(2), "observedGeneration": .int(1)]), at: ["status"])
            withStatus.set(.int(7), at: ["spec", "minAvailable"])
            let statusWritten = try await api.client.update(.podDisruptionBudgets, withStatus, subresource: "status")
            #expect(statusWritten.value(at: ["spec", "minAvailable"])?.intValue == 1)
            #expect(statusWritten.value(at: ["status", "disruptionsAllowed"])?.intValue == 1)

            // A spec change keeps the status and bumps the generation.
            var changed = statusWritten
            changed.set(.string("50%"), at: ["spec", "minAvailable"])
            changed.set(.object(["disruptionsAllowed": .int(9)]), at: ["status"])
            let updated = try await api.client.update(.podDisruptionBudgets, changed, subresource: nil)
            #expect(updated.value(at: ["status", "disruptionsAllowed"])?.intValue == 1)
            #expect(updated.generation == 2)

            var negative = updated
            negative.set(.object(["disruptionsAllowed": .int(-1), "currentHealthy": .int(0), "desiredHealthy": .int(0), "expectedPods": .int(-2)]),
                         at: ["status"])
            do {
                _ = try await api.client.update(.podDisruptionBudgets, negative, subresource: "status")
                Issue.record("a negative status was stored")
            } catch let error as APIError {
                #expect(error.code == 422)
                #expect(error.message.contains("status.disruptionsAllowed: Invalid value: -1: must be greater than or equal to 0"), "\(error.message)")
                #expect(error.message.contains("status.expectedPods: Invalid value: -2: must be greater than or equal to 0"), "\(error.message)")
            }
            var badCondition = updated
            badCondition.set(.object(["conditions": .array([.object(["type": .string("DisruptionAllowed"), "status": .string("Maybe"),
                                                                      "reason": .string("9bad")])])]), at: ["status"])
            do {
                _ = try await api.client.update(.podDisruptionBudgets, badCondition, subresource: "status")
                Issue.record("a bad condition was stored")
            } catch let error as APIError {
                #expect(error.message.contains(#"status.conditions[0].status: Unsupported value: "Maybe": supported values: "False", "True", "Unknown""#), "\(error.message)")
                #expect(error.message.contains("status.conditions[0].lastTransitionTime: Required value: must be set"), "\(error.message)")
                #expect(error.message.contains(#"status.conditions[0].reason: Invalid value: "9bad": a condition reason must start with alphabetic character"#), "\(error.message)")
            }
        }
    }

    @Test func refusesBadBudgetsWithKubernetesMessages() async throws {
        let both = try await createError(#""minAvailable":1,"maxUnavailable":1,"selector":{}"#)
        #expect(both?.hasPrefix("422 ") == true)
        #expect(both?.contains(#"PodDisruptionBudget.policy "web" is invalid: spec: Invalid value: policy.PodDisruptionBudgetSpec{"#) == true, "\(both ?? "created")")
        #expect(both?.contains("minAvailable and maxUnavailable cannot be both set") == true, "\(both ?? "created")")

        let negative = try await createError(#""minAvailable":-1"#)
        #expect(negative?.contains("spec.minAvailable: Invalid value: -1: must be greater than or equal to 0") == true, "\(negative ?? "created")")
        let word = try await createError(#""maxUnavailable":"half""#)
        #expect(word?.contains(#"spec.maxUnavailable: Invalid value: intstr.IntOrString{Type:1, IntVal:0, StrVal:"half"}: a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')"#) == true,
                "\(word ?? "created")")
        let over = try await createError(#""minAvailable":"150%""#)
        #expect(over?.contains(#"spec.minAvailable: Invalid value: intstr.IntOrString{Type:1, IntVal:0, StrVal:"150%"}: must not be greater than 100%"#) == true, "\(over ?? "created")")
        let huge = try await createError(#""minAvailable":"99999999999999999999999%""#)
        #expect(huge?.contains("must not be greater than 100%") == true, "\(huge ?? "created")")
        let signed = try await createError(#""minAvailable":"-5%""#)
        #expect(signed?.contains("a valid percent string") == true, "\(signed ?? "created")")
        let policy = try await createError(#""minAvailable":1,"unhealthyPodEvictionPolicy":"Sometimes""#)
        #expect(policy?.contains(#"spec.unhealthyPodEvictionPolicy: Unsupported value: "Sometimes": supported values: "AlwaysAllow", "IfHealthyBudget""#) == true,
                "\(policy ?? "created")")
        let selector = try await createError(#""minAvailable":1,"selector":{"matchExpressions":[{"key":"app","operator":"Near","values":["a"]},{"key":"-x","operator":"In"}],"matchLabels":{"a":"b c"}}"#)
        #expect(selector?.contains(#"spec.selector.matchExpressions[0].operator: Invalid value: "Near": not a valid selector operator"#) == true, "\(selector ?? "created")")
        #expect(selector?.contains("spec.selector.matchExpressions[1].values: Required value: must be specified when `operator` is 'In' or 'NotIn'") == true,
                "\(selector ?? "created")")
        #expect(selector?.contains(#"spec.selector.matchExpressions[1].key: Invalid value: "-x""#) == true, "\(selector ?? "created")")
        #expect(selector?.contains(#"spec.selector.matchLabels: Invalid value: "b c""#) == true, "\(selector ?? "created")")

        // Out of int32 and of the wrong JSON type: refused while decoding, as Go's decoder does.
        let outOfRange = try await createError(#""minAvailable":99999999999"#)
        #expect(outOfRange?.hasPrefix("400 ") == true, "\(outOfRange ?? "created")")
        let object = try await createError(#""minAvailable":{"a":1}"#)
        #expect(object?.hasPrefix("400 ") == true, "\(object ?? "created")")
        let selectorType = try await createError(#""minAvailable":1,"selector":"app=web""#)
        #expect(selectorType?.hasPrefix("400 ") == true, "\(selectorType ?? "created")")

        // Neither bound, or a null/empty selector, is a valid budget.
        #expect(try await createError(#""selector":{"matchLabels":{"app":"web"}}"#) == nil)
        #expect(try await createError(#""maxUnavailable":"0%","selector":{}"#) == nil)
        #expect(try await createError(#""minAvailable":"100%","selector":null"#) == nil)
    }

    /// policy/v1beta1 went in Kubernetes 1.25; a 1.32 server serves budgets in v1 only.
    @Test func onlyV1IsServed() {
        let registry = ResourceRegistry()
        #expect(registry.resource(group: "policy", version: "v1", name: "poddisruptionbudgets") != nil)
        #expect(registry.resource(group: "policy", version: "v1beta1", name: "poddisruptionbudgets") == nil)
    }
}
