@testable import APIMachinery
@testable import APIRegistry
import APITestSupport
import Foundation
import KubeAPI
import Testing

/// Issue 17: `scheduling.k8s.io/v1` PriorityClasses on the real store, and the Priority
/// admission plugin on new pods, with kube-apiserver 1.32's messages: validation (the value
/// limit, the reserved `system-` prefix, immutable value and preemptionPolicy), one global
/// default, the system classes made at bootstrap and protected from deletion, pods resolved
/// to their class's priority and preemption policy, unknown classes and mismatched priorities
/// refused.
@Suite struct PriorityClassTests {
    static func object(_ body: String) throws -> KubeObject {
        guard case .object(let fields) = try json(body) else { throw TestFailure("not a JSON object: \(body)") }
        return KubeObject(fields: fields)
    }

    static func priorityClass(_ name: String, _ rest: String) -> String {
        #"{"metadata":{"name":"\#(name)"}\#(rest.isEmpty ? "" : ",")\#(rest)}"#
    }

    static func pod(_ name: String, spec: String = "") -> String {
        #"{"metadata":{"name":"\#(name)"},"spec":{\#(spec)"containers":[{"name":"app","image":"busybox"}]}}"#
    }

    /// The outcome of a create as "created NAME" or "CODE MESSAGE".
    static func create(_ api: TestAPI, _ ref: ResourceRef, _ body: String, namespace: String? = nil) async -> String {
        do {
            let created = try await api.client.create(ref, namespace: namespace, try object(body))
            return "created \(created.name ?? "")"
        } catch let error as APIError {
            return "\(error.code) \(error.message)"
        } catch {
            return "failed \(error)"
        }
    }

    static func outcome(_ body: () async throws -> Void) async -> String {
        do {
            try await body()
            return "ok"
        } catch let error as APIError {
            return "\(error.code) \(error.message)"
        } catch {
            return "failed \(error)"
        }
    }

    @Test func bootstrapMakesTheSystemClassesAndTheyCannotBeDeletedOrForged() async throws {
        try await withTestAPI { api in
            let node = try #require(try await api.client.get(.priorityClasses, namespace: nil, name: "system-node-critical"))
            #expect(node.value(at: ["value"]) == .int(2_000_001_000))
            #expect(node.string(at: ["preemptionPolicy"]) == "PreemptLowerPriority")
            #expect(node.string(at: ["description"]) == "Used for system critical pods that must not be moved from their current node.")
            let cluster = try #require(try await api.client.get(.priorityClasses, namespace: nil, name: "system-cluster-critical"))
            #expect(cluster.value(at: ["value"]) == .int(2_000_000_000))
            #expect(cluster.value(at: ["globalDefault"]) == nil)

            for name in ["system-node-critical", "system-cluster-critical"] {
                let deleted = await Self.outcome { try await api.client.delete(.priorityClasses, namespace: nil, name: name) }
                #expect(deleted == #"403 priorityclasses.scheduling.k8s.io "\#(name)" is forbidden: this is a system priority class and cannot be deleted"#)
            }
            // A second bootstrap (a restart) leaves them as they are.
            try await api.service.bootstrap()
            #expect(try await api.client.list(.priorityClasses).items.count == 2)

            // The prefix is reserved: another system- name, or a known one with another value.
            #expect(await Self.create(api, .priorityClasses, Self.priorityClass("system-mine", #""value":10"#)) == """
                422 PriorityClass.scheduling.k8s.io "system-mine" is invalid: metadata.name: Forbidden: priority class names with 'system-' prefix are reserved for system use only. error: system-mine is not a known system priority class
                """)
            // Value checks of a known name run before the create meets the existing object.
            #expect(await Self.create(api, .priorityClasses, Self.priorityClass("system-node-critical", #""value":5"#)) == """
                422 PriorityClass.scheduling.k8s.io "system-node-critical" is invalid: metadata.name: Forbidden: priority class names with 'system-' prefix are reserved for system use only. error: value of system-node-critical PriorityClass must be 2000001000
                """)
            #expect(await Self.create(api, .priorityClasses, Self.priorityClass("system-cluster-critical", #""value":2000000000,"globalDefault":true"#)) == """
                422 PriorityClass.scheduling.k8s.io "system-cluster-critical" is invalid: metadata.name: Forbidden: priority class names with 'system-' prefix are reserved for system use only. error: globalDefault of system-cluster-critical PriorityClass must be false
                """)
        }
    }

    @Test func validationRefusesOutOfRangeValuesAndBadPoliciesWithUpstreamsMessages() async throws {
        try await withTestAPI { api in
            #expect(await Self.create(api, .priorityClasses, Self.priorityClass("high", #""value":1000,"description":"important""#)) == "created high")
            let high = try #require(try await api.client.get(.priorityClasses, namespace: nil, name: "high"))
            #expect(high.string(at: ["preemptionPolicy"]) == "PreemptLowerPriority")
            #expect(high.string(at: ["description"]) == "important")

            #expect(await Self.create(api, .priorityClasses, Self.priorityClass("huge", #""value":1000000001"#))
                    == #"422 PriorityClass.scheduling.k8s.io "huge" is invalid: value: Forbidden: maximum allowed value of a user defined priority is 1000000000"#)
            #expect(await Self.create(api, .priorityClasses, Self.priorityClass("edge", #""value":1000000000"#)) == "created edge")
            #expect(await Self.create(api, .priorityClasses, Self.priorityClass("negative", #""value":-2147483648"#)) == "created negative")
            // Beyond int32: the decoder refuses it before validation.
            let tooBig = await Self.create(api, .priorityClasses, Self.priorityClass("overflow", #""value":3000000000"#))
            #expect(tooBig.hasPrefix("400 PriorityClass in version \"v1\" cannot be handled as a PriorityClass:"), "\(tooBig)")
            let text = await Self.create(api, .priorityClasses, Self.priorityClass("text", #""value":"10""#))
            #expect(text.hasPrefix("400 PriorityClass in version \"v1\" cannot be handled as a PriorityClass:"), "\(text)")
            #expect(await Self.create(api, .priorityClasses, Self.priorityClass("sometimes", #""value":1,"preemptionPolicy":"Sometimes""#))
                    == #"422 PriorityClass.scheduling.k8s.io "sometimes" is invalid: preemptionPolicy: Unsupported value: "Sometimes": supported values: "PreemptLowerPriority", "Never""#)
            #expect(await Self.create(api, .priorityClasses, Self.priorityClass("empty", #""value":1,"preemptionPolicy":"""#))
                    == #"422 PriorityClass.scheduling.k8s.io "empty" is invalid: preemptionPolicy: Required value"#)
            let badName = await Self.create(api, .priorityClasses, Self.priorityClass("Bad_Name", #""value":1"#))
            #expect(badName.hasPrefix(#"422 PriorityClass.scheduling.k8s.io "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name""#), "\(badName)")
        }
    }

    @Test func valueAndPreemptionPolicyAreImmutableTheDescriptionIsNot() async throws {
        try await withTestAPI { api in
            _ = try await api.client.create(.priorityClasses, namespace: nil, Self.object(Self.priorityClass("batch", #""value":10,"preemptionPolicy":"Never""#)))
            var changed = try #require(try await api.client.get(.priorityClasses, namespace: nil, name: "batch"))
            changed.set(.int(20), at: ["value"])
            changed.set(.string("PreemptLowerPriority"), at: ["preemptionPolicy"])
            let refused = await Self.outcome { _ = try await api.client.update(.priorityClasses, changed) }
            #expect(refused == """
                422 PriorityClass.scheduling.k8s.io "batch" is invalid: [value: Forbidden: may not be changed in an update., preemptionPolicy: Invalid value: "PreemptLowerPriority": field is immutable]
                """)
            var described = try #require(try await api.client.get(.priorityClasses, namespace: nil, name: "batch"))
            described.set(.string("for batch jobs"), at: ["description"])
            let updated = try await api.client.update(.priorityClasses, described)
            #expect(updated.string(at: ["description"]) == "for batch jobs")
            #expect(updated.string(at: ["preemptionPolicy"]) == "Never")
        }
    }

    @Test func onlyOneClassMayBeTheGlobalDefault() async throws {
        try await withTestAPI { api in
            #expect(await Self.create(api, .priorityClasses, Self.priorityClass("default-one", #""value":100,"globalDefault":true"#)) == "created default-one")
            #expect(await Self.create(api, .priorityClasses, Self.priorityClass("default-two", #""value":200,"globalDefault":true"#))
                    == #"403 priorityclasses.scheduling.k8s.io "default-two" is forbidden: PriorityClass default-one is already marked as default. Only one default can exist"#)
            // Making another class the default by update is refused too; updating the default itself is fine.
            _ = try await api.client.create(.priorityClasses, namespace: nil, Self.object(Self.priorityClass("other", #""value":5"#)))
            var other = try #require(try await api.client.get(.priorityClasses, namespace: nil, name: "other"))
            other.set(.bool(true), at: ["globalDefault"])
            let refused = await Self.outcome { _ = try await api.client.update(.priorityClasses, other) }
            #expect(refused == #"403 priorityclasses.scheduling.k8s.io "other" is forbidden: PriorityClass default-one is already marked as default. Only one default can exist"#)
            var first = try #require(try await api.client.get(.priorityClasses, namespace: nil, name: "default-one"))
            first.set(.string("the default"), at: ["description"])
            #expect(await Self.outcome { _ = try await api.client.update(.priorityClasses, first) } == "ok")

            // A pod naming no class gets the default's name, value and policy.
            let pod = try await api.client.create(.pods, namespace: "default", Self.object(Self.pod("plain")))
            #expect(pod.string(at: ["spec", "priorityClassName"]) == "default-one")
            #expect(pod.value(at: ["spec", "priority"]) == .int(100))
            #expect(pod.string(at: ["spec", "preemptionPolicy"]) == "PreemptLowerPriority")
        }
    }

    @Test func podsGetTheirClassesPriorityAndPolicy() async throws {
        try await withTestAPI { api in
            _ = try await api.client.create(.priorityClasses, namespace: nil, Self.object(Self.priorityClass("high", #""value":1000"#)))
            _ = try await api.client.create(.priorityClasses, namespace: nil, Self.object(Self.priorityClass("polite", #""value":500,"preemptionPolicy":"Never""#)))
            let high = try await api.client.create(.pods, namespace: "default", Self.object(Self.pod("a", spec: #""priorityClassName":"high","#)))
            #expect(high.value(at: ["spec", "priority"]) == .int(1000))
            #expect(high.string(at: ["spec", "preemptionPolicy"]) == "PreemptLowerPriority")
            let polite = try await api.client.create(.pods, namespace: "default", Self.object(Self.pod("b", spec: #""priorityClassName":"polite","#)))
            #expect(polite.value(at: ["spec", "priority"]) == .int(500))
            #expect(polite.string(at: ["spec", "preemptionPolicy"]) == "Never")
            // No class and no default: priority 0, PreemptLowerPriority, no class name.
            let plain = try await api.client.create(.pods, namespace: "default", Self.object(Self.pod("c")))
            #expect(plain.value(at: ["spec", "priority"]) == .int(0))
            #expect(plain.string(at: ["spec", "preemptionPolicy"]) == "PreemptLowerPriority")
            #expect(plain.string(at: ["spec", "priorityClassName"]) == nil)
            // The system classes may be named from any namespace (1.17 dropped the kube-system rule).
            let critical = try await api.client.create(.pods, namespace: "default",
                                                       Self.object(Self.pod("d", spec: #""priorityClassName":"system-node-critical","#)))
            #expect(critical.value(at: ["spec", "priority"]) == .int(2_000_001_000))
            // A pod may repeat what its class gives.
            let repeated = try await api.client.create(.pods, namespace: "default",
                                                       Self.object(Self.pod("e", spec: #""priorityClassName":"high","priority":1000,"preemptionPolicy":"PreemptLowerPriority","#)))
            #expect(repeated.value(at: ["spec", "priority"]) == .int(1000))
            // An update that leaves out the admitted fields keeps them (not a forbidden change).
            var resent = high
            if var spec = resent.value(at: ["spec"])?.objectValue {
                spec["priority"] = nil
                spec["preemptionPolicy"] = nil
                resent.fields["spec"] = .object(spec)
            }
            let kept = try await api.client.update(.pods, resent)
            #expect(kept.value(at: ["spec", "priority"]) == .int(1000))
        }
    }

    @Test func quotaPriorityClassScopeMatchesTheResolvedClass() async throws {
        try await withTestAPI { api in
            _ = try await api.client.create(.priorityClasses, namespace: nil, Self.object(Self.priorityClass("high", #""value":1000"#)))
            _ = try await api.client.create(.priorityClasses, namespace: nil, Self.object(Self.priorityClass("usual", #""value":1,"globalDefault":true"#)))
            var quota = try await api.client.create(.resourceQuotas, namespace: "default", Self.object(#"""
                {"metadata":{"name":"high-only"},"spec":{"hard":{"pods":"1"},
                 "scopeSelector":{"matchExpressions":[{"scopeName":"PriorityClass","operator":"In","values":["high"]}]}}}
                """#))
            // The status the resourcequota controller would write.
            quota.set(try json(#"{"hard":{"pods":"1"},"used":{"pods":"0"}}"#), at: ["status"])
            _ = try await api.client.update(.resourceQuotas, quota, subresource: "status")

            #expect(await Self.create(api, .pods, Self.pod("first", spec: #""priorityClassName":"high","#), namespace: "default") == "created first")
            let second = await Self.create(api, .pods, Self.pod("second", spec: #""priorityClassName":"high","#), namespace: "default")
            #expect(second.hasPrefix(#"403 pods "second" is forbidden: exceeded quota: high-only, requested: pods=1, used: pods=1, limited: pods=1"#), "\(second)")
            // Pods of other classes, the default one included, are outside the scope.
            #expect(await Self.create(api, .pods, Self.pod("other"), namespace: "default") == "created other")
            let used = try await api.client.get(.resourceQuotas, namespace: "default", name: "high-only")
            #expect(used?.value(at: ["status", "used", "pods"])?.stringValue == "1")
        }
    }

    @Test func hostilePodsAreRefusedWithUpstreamsMessages() async throws {
        try await withTestAPI { api in
            _ = try await api.client.create(.priorityClasses, namespace: nil, Self.object(Self.priorityClass("high", #""value":1000"#)))
            #expect(await Self.create(api, .pods, Self.pod("x", spec: #""priorityClassName":"nope","#), namespace: "default")
                    == #"403 pods "x" is forbidden: no PriorityClass with name nope was found"#)
            // Priority without a class: the computed default (0) must match.
            #expect(await Self.create(api, .pods, Self.pod("y", spec: #""priority":2000000000,"#), namespace: "default") == """
                403 pods "y" is forbidden: the integer value of priority (2000000000) must not be provided in pod spec; priority admission controller computed 0 from the given PriorityClass name
                """)
            #expect(await Self.create(api, .pods, Self.pod("z", spec: #""priorityClassName":"high","priority":7,"#), namespace: "default") == """
                403 pods "z" is forbidden: the integer value of priority (7) must not be provided in pod spec; priority admission controller computed 1000 from the given PriorityClass name
                """)
            #expect(await Self.create(api, .pods, Self.pod("w", spec: #""priorityClassName":"high","preemptionPolicy":"Never","#), namespace: "default") == """
                403 pods "w" is forbidden: the string value of PreemptionPolicy (Never) must not be provided in pod spec; priority admission controller computed PreemptLowerPriority from the given PriorityClass name
                """)
            // A generated name is named by its prefix, as admission.NewForbidden does.
            let generated = #"{"metadata":{"generateName":"gen-"},"spec":{"priorityClassName":"nope","containers":[{"name":"app","image":"busybox"}]}}"#
            #expect(await Self.create(api, .pods, generated, namespace: "default")
                    == #"403 pods "gen-" is forbidden: no PriorityClass with name nope was found"#)
            // A priority that is no number is the decoder's to refuse.
            let text = await Self.create(api, .pods, Self.pod("t", spec: #""priority":"high","#), namespace: "default")
            #expect(text.hasPrefix("400 Pod in version \"v1\" cannot be handled as a Pod:"), "\(text)")
            // Not overwritten by what admission computes (a default class would fill in its name).
            _ = try await api.client.create(.priorityClasses, namespace: nil, Self.object(Self.priorityClass("usual", #""value":1,"globalDefault":true"#)))
            for spec in [#""priorityClassName":7,"#, #""preemptionPolicy":["Never"],"#] {
                let wrong = await Self.create(api, .pods, Self.pod("w2", spec: spec), namespace: "default")
                #expect(wrong.hasPrefix("400 Pod in version \"v1\" cannot be handled as a Pod:"), "\(wrong)")
            }
            #expect(try await api.client.list(.pods, namespace: "default").items.isEmpty)
        }
    }
}
