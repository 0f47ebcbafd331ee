import APIMachinery
import Foundation
import KubeAPI
import Storage

/// The `pods/eviction` subresource: a pod deleted only if its PodDisruptionBudget allows it,
/// as kube-apiserver's EvictionREST does (pkg/registry/core/pod/storage/eviction.go, 1.32).
/// - A pod that is finished, pending or already being deleted needs no budget: it is deleted.
/// - Otherwise the budgets of its namespace whose selector matches it decide: none, it is
///   deleted; more than one, a 500; one not yet observed by the disruption controller, or with
///   `disruptionsAllowed` 0, a 429 (clients such as `kubectl drain` retry it); else
///   `disruptionsAllowed` is decremented and the pod recorded in `disruptedPods`, with a write
///   conditional on the budget's resourceVersion (retried on conflicts), then the pod deleted.
/// - An unready pod is deleted without using the budget when its policy is AlwaysAllow, or
///   when the budget is met (IfHealthyBudget, the default): conditionally on the pod's
///   resourceVersion, so it cannot have become Ready meanwhile.
/// - The pod gets the DisruptionTarget condition before it is deleted (PodDisruptionConditions).
extension APIService {
    /// Upstream's `EvictionsRetry`: 20 attempts, 500 ms apart.
    static let evictionAttempts = 20
    static let evictionRetryDelay: Duration = .milliseconds(500)
    /// `MaxDisruptedPodSize`: evictions the controller has not confirmed yet, per budget.
    static let maxDisruptedPods = 2000

    /// Evicts pod `name` of `namespace` as `eviction` (a policy/v1 or v1beta1 Eviction) asks.
    /// Returns the `Status` answered on success.
    package func evict(namespace: String, name: String, eviction: KubeObject, context: StrategyContext) async throws(APIError) -> JSONValue {
        let (originalOptions, dryRun) = try Self.evictionOptions(eviction, name: name, namespace: namespace, context: context)
        let context = dryRun == context.dryRun ? context : self.context(dryRun: dryRun, fieldValidation: context.fieldValidation)
        let pods = try store(group: "", name: "pods")
        let success: JSONValue = .object([
            "kind": .string("Status"), "apiVersion": .string("v1"), "metadata": .object([:]),
            "status": .string("Success"), "code": .int(201),
        ])

        // Pods that need no budget: deleted, retrying conflicts unless the client gave a version.
        var pod = try await pods.get(namespace: namespace, name: name)
        for attempt in 1...Self.evictionAttempts {
            if attempt > 1 { pod = try await pods.get(namespace: namespace, name: name) }
            guard Self.canIgnoreBudget(pod) else { break }
            var options = originalOptions
            if Self.enforcesResourceVersion(pod), options.preconditionResourceVersion == nil {
                options.preconditionResourceVersion = pod.resourceVersion
            }
            do {
                try await markDisruptedAndDelete(pods: pods, namespace: namespace, name: name, options: options, context: context)
                return success
            } catch where error.code == 409 && originalOptions.preconditionResourceVersion == nil && attempt < Self.evictionAttempts {
                try? await Task.sleep(for: Self.evictionRetryDelay)
            }
        }

        let budgets = try store(group: "policy", name: "poddisruptionbudgets")
        let matching = try await budgets.list(namespace: namespace, options: ListOptions()).items.filter { Self.budget($0, selects: pod) }
        if matching.count > 1 {
            throw APIError(code: 500, reason: "", message: "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.")
        }
        var options = originalOptions
        var budgetName = ""
        if var budget = matching.first {
            budgetName = budget.name ?? ""
            var useBudget = true
            if !pod.isPodReady {
                let status = budget.fields["status"] ?? .object([:])
                let current = status["currentHealthy"]?.intValue ?? 0, desired = status["desiredHealthy"]?.intValue ?? 0
                if budget.string(at: ["spec", "unhealthyPodEvictionPolicy"]) == PodDisruptionBudget.alwaysAllow || (current >= desired && desired > 0) {
                    // The unready pod counts for nothing: no disruption is used, but it must
                    // still be unready when it goes.
                    useBudget = false
                    options.preconditionResourceVersion = options.preconditionResourceVersion ?? pod.resourceVersion
                }
            }
            if useBudget {
                var decremented = false
                for attempt in 1...Self.evictionAttempts {
                    if attempt > 1 { budget = try await budgets.get(namespace: namespace, name: budgetName) }
                    do {
                        try await checkAndDecrement(budget, store: budgets, podName: name, context: context)
                        decremented = true
                        break
                    } catch where error.code == 409 {
                        continue
                    }
                }
                if !decremented {
                    throw APIError(code: 504, reason: "Timeout", message: "Timeout: couldn't update PodDisruptionBudget \(ObjectValidation.quote(budgetName)) due to conflicts",
                                   details: APIError.Details(retryAfterSeconds: 10))
                }
            }
        }
        do {
            try await markDisruptedAndDelete(pods: pods, namespace: namespace, name: name, options: options, context: context)
        } catch where error.code == 409 && options.preconditionResourceVersion != originalOptions.preconditionResourceVersion {
            // The pod changed (it may be Ready now): the client is to try again.
            throw Self.tooManyRequests(cause: "The disruption budget \(budgetName) is still being processed by the server.")
        }
        return success
    }

    /// `checkAndDecrement`: the budget must have been observed at its generation and allow a
    /// disruption; the pod is recorded in `disruptedPods` so the controller does not count it
    /// as healthy while it goes. Throws a 409 when the budget changed since it was read.
    private func checkAndDecrement(_ budget: KubeObject, store: ResourceStore, podName: String, context: StrategyContext) async throws(APIError) {
        let name = budget.name ?? ""
        var status = budget.fields["status"]?.objectValue ?? [:]
        if status["observedGeneration"]?.intValue ?? 0 < budget.generation ?? 0 {
            throw Self.tooManyRequests(cause: "The disruption budget \(name) is still being processed by the server.")
        }
        let allowed = status["disruptionsAllowed"]?.intValue ?? 0
        if allowed < 0 {
            throw APIError.forbidden(GroupResource(group: "policy", resource: "poddisruptionbudget"), name: name, "pdb disruptions allowed is negative")
        }
        var disrupted = status["disruptedPods"]?.objectValue ?? [:]
        if disrupted.count > Self.maxDisruptedPods {
            throw APIError.forbidden(GroupResource(group: "policy", resource: "poddisruptionbudget"), name: name,
                                     "DisruptedPods map too big - too many evictions not confirmed by PDB controller")
        }
        if allowed == 0 {
            let desired = status["desiredHealthy"]?.intValue ?? 0, current = status["currentHealthy"]?.intValue ?? 0
            throw Self.tooManyRequests(cause: "The disruption budget \(name) needs \(desired) healthy pods and has \(current) currently")
        }
        status["disruptionsAllowed"] = .int(allowed - 1)
        if allowed - 1 == 0 {
            status["conditions"] = .array(DisruptionConditions.setAllowed(status["conditions"]?.arrayValue ?? [], allowed: false,
                                                                          reason: PodDisruptionBudget.insufficientPodsReason, message: "",
                                                                          observedGeneration: status["observedGeneration"]?.intValue ?? 0,
                                                                          now: context.now.description))
        }
        if context.dryRun { return }
        disrupted[podName] = .string(context.now.description)
        status["disruptedPods"] = .object(disrupted)
        var updated = budget
        updated.fields["status"] = .object(status)
        // Conditional on the version read: a concurrent eviction or controller write is a 409.
        _ = try await store.update(namespace: budget.namespace, name: name, object: updated, subresource: "status", context: context)
    }

    /// `addConditionAndDeletePod`: the DisruptionTarget condition on the latest pod (checked
    /// against the preconditions), then the delete, conditional on the version just written
    /// when the client's options named one.
    private func markDisruptedAndDelete(pods: ResourceStore, namespace: String, name: String, options: DeleteOptions,
                                        context: StrategyContext) async throws(APIError) {
        var options = options
        if !context.dryRun {
            while true {
                var pod = try await pods.get(namespace: namespace, name: name)
                if let uid = options.preconditionUID, !uid.isEmpty, uid != pod.uid {
                    throw APIError.conflict(pods.resource.groupResource, name: name,
                                            "Precondition failed: UID in precondition: \(uid), UID in object meta: \(pod.uid ?? "")")
                }
                if let version = options.preconditionResourceVersion, !version.isEmpty, version != pod.resourceVersion {
                    throw APIError.conflict(pods.resource.groupResource, name: name,
                                            "Precondition failed: ResourceVersion in precondition: \(version), ResourceVersion in object meta: \(pod.resourceVersion ?? "")")
                }
                let revision = Int64(pod.resourceVersion ?? "") ?? 0
                var conditions = pod.value(at: ["status", "conditions"])?.arrayValue ?? []
                let existing = conditions.firstIndex { $0["type"]?.stringValue == "DisruptionTarget" }
                let transition = existing.flatMap { conditions[$0]["status"]?.stringValue == "True" ? conditions[$0]["lastTransitionTime"] : nil }
                let condition: JSONValue = .object([
                    "type": .string("DisruptionTarget"), "status": .string("True"), "lastProbeTime": .null,
                    "lastTransitionTime": transition ?? .string(context.now.description),
                    "reason": .string("EvictionByEvictionAPI"), "message": .string("Eviction API: evicting"),
                ])
                if let existing { conditions[existing] = condition } else { conditions.append(condition) }
                pod.set(.array(conditions), at: ["status", "conditions"])
                pod.resourceVersion = nil
                do {
                    let stored = try await storage.update(pods.key(namespace: namespace, name: name), value: try pods.storageBytes(pod),
                                                          expectedRevision: revision)
                    if options.preconditionResourceVersion != nil { options.preconditionResourceVersion = String(stored.revision) }
                    break
                } catch StorageError.conflict {
                    if options.preconditionResourceVersion != nil {
                        throw APIError.conflict(pods.resource.groupResource, name: name,
                                                "the object has been modified; please apply your changes to the latest version and try again")
                    }
                    continue
                } catch {
                    throw pods.translate(error, name: name)
                }
            }
        }
        _ = try await delete(resource: pods.resource, namespace: namespace, name: name, options: options, context: context)
    }

    /// The Eviction's DeleteOptions, after the body's checks (kind, version, name, namespace,
    /// field types), and whether this is a dry run (`propagateDryRun`: the query's `dryRun` or
    /// the options').
    static func evictionOptions(_ eviction: KubeObject, name: String, namespace: String,
                                context: StrategyContext) throws(APIError) -> (DeleteOptions, Bool) {
        if let apiVersion = eviction.apiVersion, !apiVersion.isEmpty, apiVersion != "policy/v1", apiVersion != "policy/v1beta1" {
            throw APIError.badRequest("the API version in the data (\(apiVersion)) does not match the expected API version (policy/v1)")
        }
        if let kind = eviction.kind, !kind.isEmpty, kind != "Eviction" {
            throw APIError.badRequest("the kind in the data (\(kind)) does not match the expected kind (Eviction) of pods/eviction")
        }
        let prefix = "Eviction in version \"v1\" cannot be handled as a Eviction: "
        let checked: SchemaValidator.Outcome?
        do {
            checked = try SchemaValidator.check(eviction.json, kind: "Eviction")
        } catch {
            throw APIError.badRequest(prefix + error.message)
        }
        if let checked, context.fieldValidation == .strict, !checked.unknownFields.isEmpty {
            throw APIError.badRequest(prefix + "strict decoding error: "
                                      + checked.unknownFields.map { "unknown field \(ObjectValidation.quote($0))" }.joined(separator: ", "))
        }
        if eviction.name != name {
            throw APIError.badRequest("name in URL does not match name in Eviction object")
        }
        if let bodyNamespace = eviction.namespace, !bodyNamespace.isEmpty, bodyNamespace != namespace {
            throw APIError.badRequest("the namespace of the provided object does not match the namespace sent on the request")
        }
        let body = eviction.fields["deleteOptions"].flatMap { $0 == .null ? nil : $0 }
        for (index, value) in (body?["dryRun"]?.arrayValue ?? []).enumerated() where value.stringValue != "All" {
            throw APIError.invalid(kind: "Eviction", group: "policy", name: name, errors: [
                ValidationError(type: .notSupported, field: "deleteOptions.dryRun[\(index)]", badValue: JobStrategy.badValue(value),
                                detail: "supported values: \"All\""),
            ])
        }
        let options = try DeleteOptions(body: body, query: [:])
        return (options, options.dryRun || context.dryRun)
    }

    /// `canIgnorePDB`: finished, pending and terminating pods go without a budget.
    static func canIgnoreBudget(_ pod: KubeObject) -> Bool {
        let phase = pod.string(at: ["status", "phase"]) ?? ""
        return ["Succeeded", "Failed", "Pending", ""].contains(phase) || pod.deletionTimestamp != nil
    }

    /// `shouldEnforceResourceVersion`: every pod but finished or terminating ones is deleted
    /// only as it was read, so it cannot have become Ready in between.
    static func enforcesResourceVersion(_ pod: KubeObject) -> Bool {
        let phase = pod.string(at: ["status", "phase"]) ?? ""
        return !(phase == "Succeeded" || phase == "Failed" || pod.deletionTimestamp != nil)
    }

    /// `getPodDisruptionBudgets`' filter: a budget with a null, empty or invalid selector
    /// matches no pod here (in the disruption controller an empty one matches all).
    static func budget(_ budget: KubeObject, selects pod: KubeObject) -> Bool {
        guard budget.namespace == pod.namespace, let value = budget.value(at: ["spec", "selector"]), value != .null,
              let selector = try? LabelSelector(object: value), !selector.isEmpty else { return false }
        return selector.matches(pod.labels)
    }

    /// `errors.NewTooManyRequests("Cannot evict pod ...", 0)` with the DisruptionBudget cause.
    static func tooManyRequests(cause: String) -> APIError {
        APIError(code: 429, reason: "TooManyRequests", message: "Cannot evict pod as it would violate the pod's disruption budget.",
                 details: APIError.Details(causes: [APIError.Cause(reason: PodDisruptionBudget.disruptionBudgetCause, message: cause)]))
    }
}
