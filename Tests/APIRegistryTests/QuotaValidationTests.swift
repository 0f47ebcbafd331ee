@testable import APIMachinery
@testable import APIRegistry
import APITestSupport
import Foundation
import KubeAPI
import Testing

/// Issue 17: ResourceQuota and LimitRange through the API in process, with Kubernetes 1.32's
/// validation messages and field paths (`ValidateResourceQuota`, `ValidateLimitRange`),
/// hostile values refused with nothing stored, the status rules of the quota registry and
/// the LimitRange defaults.
@Suite struct QuotaValidationTests {
    static func object(_ body: String) throws -> KubeObject {
        guard case .object(let fields) = try json(body) else { throw TestFailure("not a JSON object: \(body)") }
        return KubeObject(fields: fields)
    }

    static func create(_ api: TestAPI, _ ref: ResourceRef, _ body: String, namespace: String = "default") async throws -> Result<KubeObject, APIError> {
        let object = try object(body)
        do {
            return .success(try await api.client.create(ref, namespace: namespace, object))
        } catch {
            return .failure(error)
        }
    }

    static func quota(_ spec: String, name: String = "x") -> String {
        #"{"metadata":{"name":"\#(name)"},"spec":\#(spec)}"#
    }

    /// The message of a refusal, or a failure naming what was stored instead.
    static func refusal(_ result: Result<KubeObject, APIError>, code: Int = 422) -> String {
        switch result {
        case .success(let object): return "stored: \(object.json)"
        case .failure(let error): return error.code == code ? error.message : "\(error.code): \(error.message)"
        }
    }

    @Test func quotaResourceNamesQuantitiesAndScopesAreCheckedAsUpstreamDoes() async throws {
        try await withTestAPI { api in
            let prefix = #"ResourceQuota "x" is invalid: "#
            let cases: [(String, String)] = [
                (#"{"hard":{"foo":"1"}}"#,
                 #"[spec.hard[foo]: Invalid value: "foo": must be a standard resource type or fully qualified, spec.hard[foo]: Invalid value: "foo": must be a standard resource for quota]"#),
                (#"{"hard":{"pods":"-1"}}"#, #"spec.hard[pods]: Invalid value: "-1": must be greater than or equal to 0"#),
                (#"{"hard":{"pods":"1500m"}}"#, #"spec.hard[pods]: Invalid value: "1500m": must be an integer"#),
                (#"{"hard":{"count/pods":"0.5"}}"#, #"spec.hard[count/pods]: Invalid value: "500m": must be an integer"#),
                (#"{"hard":{"pods":"1"},"scopes":["Foo"]}"#, #"spec.scopes: Invalid value: []core.ResourceQuotaScope{"Foo"}: unsupported scope"#),
                (#"{"hard":{"services":"1"},"scopes":["Terminating"]}"#,
                 #"spec.scopes: Invalid value: []core.ResourceQuotaScope{"Terminating"}: unsupported scope applied to resource"#),
                (#"{"hard":{"cpu":"1"},"scopes":["BestEffort"]}"#,
                 #"spec.scopes: Invalid value: []core.ResourceQuotaScope{"BestEffort"}: unsupported scope applied to resource"#),
                (#"{"hard":{"pods":"1"},"scopes":["BestEffort","NotBestEffort"]}"#,
                 #"spec.scopes: Invalid value: []core.ResourceQuotaScope{"BestEffort", "NotBestEffort"}: conflicting scopes"#),
                (#"{"hard":{"pods":"1"},"scopeSelector":{"matchExpressions":[{"scopeName":"PriorityClass","operator":"Equals","values":["high"]}]}}"#,
                 #"spec.scopeSelector.matchExpressions.operator: Invalid value: "Equals": not a valid selector operator"#),
                (#"{"hard":{"pods":"1"},"scopeSelector":{"matchExpressions":[{"scopeName":"PriorityClass","operator":"In"}]}}"#,
                 "spec.scopeSelector.matchExpressions.values: Required value: must be at least one value when `operator` is 'In' or 'NotIn' for scope selector"),
                (#"{"hard":{"pods":"1"},"scopeSelector":{"matchExpressions":[{"scopeName":"Terminating","operator":"In","values":["x"]}]}}"#,
                 "spec.scopeSelector.matchExpressions.operator: Invalid value: \"In\": must be 'Exists' when scope is any of ResourceQuotaScopeTerminating, ResourceQuotaScopeNotTerminating, ResourceQuotaScopeBestEffort, ResourceQuotaScopeNotBestEffort or ResourceQuotaScopeCrossNamespacePodAffinity"),
                (#"{"hard":{"pods":"1"},"scopeSelector":{"matchExpressions":[{"scopeName":"Nope","operator":"Exists"}]}}"#,
                 #"spec.scopeSelector.matchExpressions.scopeName: Invalid value: "Nope": unsupported scope"#),
            ]
            for (spec, expected) in cases {
                let result = try await Self.create(api, .resourceQuotas, Self.quota(spec))
                #expect(Self.refusal(result) == prefix + expected, "\(spec)")
            }
            let badName = Self.refusal(try await Self.create(api, .resourceQuotas, Self.quota(#"{"hard":{"Bad Name":"1"}}"#)))
            #expect(badName.contains(#"spec.hard[Bad Name]: Invalid value: "Bad Name": name part must consist of alphanumeric characters"#), "\(badName)")
            // Decoding failures are 400s: not a quantity, wrong JSON types.
            for spec in [#"{"hard":{"pods":"abc"}}"#, #"{"hard":{"pods":"1Qi"}}"#, #"{"hard":"pods"}"#, #"{"hard":{"pods":[1]}}"#,
                         #"{"scopes":"Terminating"}"#, #"{"scopeSelector":{"matchExpressions":{"scopeName":"x"}}}"#] {
                let result = try await Self.create(api, .resourceQuotas, Self.quota(spec))
                let message = Self.refusal(result, code: 400)
                #expect(message.hasPrefix(#"ResourceQuota in version "v1" cannot be handled as a ResourceQuota: "#), "\(spec): \(message)")
            }
            #expect(try await api.client.list(.resourceQuotas, namespace: "default").items.isEmpty)
            // Huge but valid: kept canonical; extended and count/ names accepted.
            let big = try await Self.create(api, .resourceQuotas, Self.quota(
                #"{"hard":{"requests.cpu":"1e100000000","count/deployments.apps":"3","requests.nvidia.com/gpu":"2","requests.memory":"1.5Gi"}}"#, name: "big"))
            let stored = try big.get()
            #expect(try stored.string(at: ["spec", "hard", "requests.cpu"]).map(Quantity.init) == (try Quantity("1e100000000")))
            #expect(stored.string(at: ["spec", "hard", "requests.memory"]) == "1536Mi")
        }
    }

    @Test func theStatusIsClearedOnCreateKeptOnUpdatesAndCheckedOnTheSubresource() async throws {
        try await withTestAPI { api in
            let created = try await Self.create(api, .resourceQuotas,
                #"{"metadata":{"name":"q"},"spec":{"hard":{"pods":"2"},"scopes":["NotTerminating"]},"status":{"hard":{"pods":"100"},"used":{"pods":"0"}}}"#).get()
            #expect(created.fields["status"] == nil)
            var withStatus = created
            withStatus.set(try json(#"{"hard":{"pods":"2"},"used":{"pods":"1"}}"#), at: ["status"])
            let written = try await api.client.update(.resourceQuotas, withStatus, subresource: "status")
            #expect(written.string(at: ["status", "used", "pods"]) == "1")
            // The main resource keeps the status and refuses a change of scopes.
            var changed = written
            changed.set(try json(#"{"hard":{"pods":"3"},"scopes":["NotTerminating"]}"#), at: ["spec"])
            changed.set(.null, at: ["status"])
            let updated = try await api.client.update(.resourceQuotas, changed)
            #expect(updated.string(at: ["status", "used", "pods"]) == "1" && updated.string(at: ["spec", "hard", "pods"]) == "3")
            var rescoped = updated
            rescoped.set(.array([.string("Terminating")]), at: ["spec", "scopes"])
            do {
                _ = try await api.client.update(.resourceQuotas, rescoped)
                Issue.record("a change of scopes was stored")
            } catch let error as APIError {
                #expect(error.message == #"ResourceQuota "q" is invalid: spec.scopes: Invalid value: []core.ResourceQuotaScope{"Terminating"}: field is immutable"#)
            } catch {
                Issue.record("\(error)")
            }
            var negative = updated
            negative.set(try json(#"{"hard":{"pods":"3"},"used":{"pods":"-1","nonsense":"1"}}"#), at: ["status"])
            do {
                _ = try await api.client.update(.resourceQuotas, negative, subresource: "status")
                Issue.record("a negative usage was stored")
            } catch let error as APIError {
                #expect(error.message == #"ResourceQuota "q" is invalid: [status.used[nonsense]: Invalid value: "nonsense": must be a standard resource type or fully qualified, status.used[nonsense]: Invalid value: "nonsense": must be a standard resource for quota, status.used[pods]: Invalid value: "-1": must be greater than or equal to 0]"#)
            } catch {
                Issue.record("\(error)")
            }
        }
    }

    @Test func limitRangesAreDefaultedAndCheckedAsUpstreamDoes() async throws {
        try await withTestAPI { api in
            // SetDefaults_LimitRangeItem: default <- max, defaultRequest <- default, else min.
            let defaulted = try await Self.create(api, .limitRanges, #"""
                {"metadata":{"name":"d"},"spec":{"limits":[{"type":"Container","max":{"cpu":"2"},"min":{"memory":"16Mi"},"default":{"memory":"256Mi"}},
                {"type":"Pod","max":{"cpu":"4"}}]}}
                """#).get()
            let container = defaulted.value(at: ["spec", "limits"])?.arrayValue?.first
            #expect(container?["default"] == (try json(#"{"cpu":"2","memory":"256Mi"}"#)))
            #expect(container?["defaultRequest"] == (try json(#"{"cpu":"2","memory":"256Mi"}"#)))
            let pod = defaulted.value(at: ["spec", "limits"])?.arrayValue?.last
            #expect(pod?["default"] == nil && pod?["defaultRequest"] == nil)

            let prefix = #"LimitRange "x" is invalid: "#
            let cases: [(String, String)] = [
                (#"[{"type":"Pod","min":{"cpu":"1"},"max":{"cpu":"500m"}}]"#,
                 #"spec.limits[0].min[cpu]: Invalid value: "1": min value 1 is greater than max value 500m"#),
                // A Container item's max becomes its default and default request first.
                (#"[{"type":"Container","min":{"cpu":"1"},"max":{"cpu":"500m"}}]"#,
                 #"[spec.limits[0].min[cpu]: Invalid value: "1": min value 1 is greater than max value 500m, spec.limits[0].defaultRequest[cpu]: Invalid value: "500m": min value 1 is greater than default request value 500m, spec.limits[0].default[cpu]: Invalid value: "1": min value 1 is greater than default value 500m]"#),
                (#"[{"type":"Container","default":{"cpu":"100m"},"defaultRequest":{"cpu":"200m"}}]"#,
                 #"spec.limits[0].defaultRequest[cpu]: Invalid value: "200m": default request value 200m is greater than default limit value 100m"#),
                (#"[{"type":"Container","maxLimitRequestRatio":{"cpu":"500m"}}]"#,
                 #"spec.limits[0].maxLimitRequestRatio[cpu]: Invalid value: "500m": ratio 500m is less than 1"#),
                (#"[{"type":"Pod","min":{"cpu":"1"},"max":{"cpu":"2"},"maxLimitRequestRatio":{"cpu":"3"}}]"#,
                 #"spec.limits[0].maxLimitRequestRatio[cpu]: Invalid value: "3": ratio 3 is greater than max/min = 2.000000"#),
                (#"[{"type":"Pod","default":{"cpu":"1"}}]"#, "spec.limits[0].default: Forbidden: may not be specified when `type` is 'Pod'"),
                (#"[{"type":"Node","max":{"cpu":"1"}}]"#, #"spec.limits[0].type: Invalid value: "Node": must be a standard limit type or fully qualified"#),
                (#"[{"type":"Container","max":{"cpu":"1"}},{"type":"Container","max":{"cpu":"2"}}]"#, #"spec.limits[1].type: Duplicate value: "Container""#),
                (#"[{"type":"PersistentVolumeClaim","max":{"cpu":"1"}}]"#,
                 "spec.limits[0].limits: Required value: either minimum or maximum storage value is required, but neither was provided"),
                (#"[{"type":"Pod","max":{"pods":"1"}}]"#, #"spec.limits[0].max[pods]: Invalid value: "pods": must be a standard resource for containers"#),
                (#"[{"type":"Container","max":{"example.com/gpu":"1"},"default":{"example.com/gpu":"1"},"defaultRequest":{"example.com/gpu":"0"}}]"#,
                 #"spec.limits[0].defaultRequest[example.com/gpu]: Invalid value: "0": default value 1 must equal to defaultRequest value 0 in example.com/gpu"#),
            ]
            for (limits, expected) in cases {
                let result = try await Self.create(api, .limitRanges, #"{"metadata":{"name":"x"},"spec":{"limits":\#(limits)}}"#)
                #expect(Self.refusal(result) == prefix + expected, "\(limits)")
            }
            for spec in [#"{"limits":{"type":"Container"}}"#, #"{"limits":[{"type":"Container","max":{"cpu":"lots"}}]}"#,
                         #"{"limits":[{"type":7}]}"#] {
                let result = try await Self.create(api, .limitRanges, #"{"metadata":{"name":"x"},"spec":\#(spec)}"#)
                let message = Self.refusal(result, code: 400)
                #expect(message.hasPrefix(#"LimitRange in version "v1" cannot be handled as a LimitRange: "#), "\(spec): \(message)")
            }
            #expect(try await api.client.get(.limitRanges, namespace: "default", name: "x") == nil)
        }
    }
}
