import APIMachinery
import Foundation
import KubeAPI
import Storage

/// How a PATCH body is to be applied.
package enum PatchType: Sendable, Equatable {
    case merge
    case json
    case strategicMerge
    /// Server-side apply (`application/apply-patch+yaml`), `force` taking conflicting fields.
    case apply(force: Bool)
}

extension ResourceStore {
    /// Replaces an object (PUT), through the main resource or its `status` (or pods'
    /// `ephemeralcontainers`) subresource.
    package func update(namespace: String?, name: String, object input: KubeObject, subresource: String?,
                context: StrategyContext) async throws(APIError) -> (KubeObject, [String]) {
        var object = input
        try checkType(object)
        guard object.name == name else {
            throw APIError.badRequest("the name of the object (\(object.name ?? "")) does not match the name on the URL (\(name))")
        }
        if resource.namespaced, let bodyNamespace = object.namespace, bodyNamespace != namespace {
            throw APIError.badRequest("the namespace of the provided object does not match the namespace sent on the request")
        }
        object.namespace = resource.namespaced ? namespace : nil
        // "" and "0" are no precondition at all, as the etcd3 store reads them (its versioner
        // parses both to 0, and version 0 is an unconditional update where the type allows one).
        let precondition = try object.resourceVersion.flatMap { (text) throws(APIError) -> Int64? in
            guard let value = Int64(text.isEmpty ? "0" : text) else {
                throw APIError.badRequest("invalid resourceVersion \(ObjectValidation.quote(text)) in metadata")
            }
            return value == 0 ? nil : value
        }
        if precondition == nil, !strategy.allowsUnconditionalUpdate {
            throw APIError.invalid(kind: resource.kind, group: resource.group, name: name, errors: [
                ValidationError(type: .invalid, field: "metadata.resourceVersion", badValue: .json("0x0"), detail: "must be specified for an update"),
            ])
        }
        // Without a precondition the update applies to whatever is current: retry on races.
        while true {
            let old = try await get(namespace: namespace, name: name)
            if let precondition, String(precondition) != old.resourceVersion {
                throw APIError.staleUpdate(resource.groupResource, name: name)
            }
            do {
                return try await replace(old: old, with: object, subresource: subresource, context: context)
            } catch StorageError.conflict where precondition == nil {
                continue
            } catch {
                throw translate(error, name: name)
            }
        }
    }

    /// Applies a PATCH to the current object and stores the result like an update.
    package func patch(namespace: String?, name: String, patch: JSONValue, type: PatchType, subresource: String?,
               context: StrategyContext) async throws(APIError) -> (KubeObject, [String]) {
        var context = context
        while true {
            let old = try await get(namespace: namespace, name: name)
            let patched: JSONValue
            switch type {
            case .merge: patched = JSONPatches.mergePatch(old.json, with: patch)
            case .json: patched = try JSONPatches.jsonPatch(old.json, operations: patch)
            case .strategicMerge: patched = try StrategicMergePatch.apply(patch, to: old.json, kind: resource.kind, group: resource.group)
            case .apply(let force):
                patched = try applied(patch, to: old, namespace: namespace, name: name, subresource: subresource, force: force,
                                      context: context).json
                context.managedFieldsApplied = true
            }
            guard case .object(let fields) = patched else {
                throw APIError.badRequest("the patch turned the \(resource.singularName) into \(patched.typeName)")
            }
            var object = KubeObject(fields: fields)
            guard object.name == name else {
                throw APIError.badRequest("the name of the object (\(object.name ?? "")) does not match the name on the URL (\(name))")
            }
            // A patch naming a resourceVersion is conditional on it; others retry on races.
            let precondition = object.resourceVersion
            if let precondition, precondition != old.resourceVersion {
                throw APIError.staleUpdate(resource.groupResource, name: name)
            }
            object.namespace = resource.namespaced ? namespace : nil
            do {
                return try await replace(old: old, with: object, subresource: subresource, context: context)
            } catch StorageError.conflict {
                if precondition != nil && patch["metadata"]?["resourceVersion"] != nil {
                    throw APIError.staleUpdate(resource.groupResource, name: name)
                }
                continue
            } catch {
                throw translate(error, name: name)
            }
        }
    }

    /// The one part of the stored object a write through `subresource` replaces; nil for a
    /// subresource that writes the object as a whole.
    static func partWritten(by subresource: String) -> [String]? {
        switch subresource {
        case "status": return ["status"]
        case "ephemeralcontainers": return ["spec", "ephemeralContainers"]
        default: return nil
        }
    }

    /// The common tail of update and patch: system fields kept, strategy, validation, and a
    /// write conditional on the revision read (throws `StorageError.conflict` on a race).
    private func replace(old: KubeObject, with body: KubeObject, subresource: String?,
                         context: StrategyContext) async throws -> (KubeObject, [String]) {
        // The whole body is checked, also for `status`, as upstream decodes all of it.
        let (input, schemaWarnings) = try checkSchema(body, validation: context.fieldValidation)
        var object: KubeObject
        var warnings = schemaWarnings
        // A subresource that writes one part leaves admission and finishUpdate to the main resource.
        let part = subresource.flatMap(Self.partWritten)
        if let subresource, let part {
            // `status` changes the status and nothing else; pods' `ephemeralcontainers` only
            // `spec.ephemeralContainers` (upstream's dropNonEphemeralContainerUpdates).
            object = old
            object.set(input.value(at: part), at: part)
            warnings += subresource == "status"
                ? try await strategy.prepareForStatusUpdate(&object, old: old, context: context)
                : try await strategy.prepareForEphemeralContainersUpdate(&object, old: old, context: context)
            // Such a write cannot set managedFields; an apply through the subresource has computed them.
            let requested = context.managedFieldsApplied ? input.metadata["managedFields"] : old.metadata["managedFields"]
            object.metadata["managedFields"] = managedFields(of: object, requested: requested, replacing: old,
                                                             subresource: subresource, context: context)
        } else {
            object = input
            object.fields["apiVersion"] = .string(resource.groupVersion)
            object.fields["kind"] = .string(resource.kind)
            if let uid = object.uid, uid != old.uid {
                throw APIError.invalid(kind: resource.kind, group: resource.group, name: old.name ?? "", errors: [
                    ValidationError(type: .invalid, field: "metadata.uid", badValue: .string(uid), detail: "field is immutable"),
                ])
            }
            object.uid = old.uid
            object.creationTimestamp = old.creationTimestamp
            object.deletionTimestamp = old.deletionTimestamp
            object.deletionGracePeriodSeconds = old.deletionGracePeriodSeconds
            let requestedManagedFields = object.metadata["managedFields"]
            object.metadata["managedFields"] = nil
            object.metadata["selfLink"] = nil
            object.generation = old.generation
            warnings += try await strategy.prepareForUpdate(&object, old: old, context: context)
            if resource.tracksGeneration, object.fields["spec"] != old.fields["spec"] {
                object.generation = (old.generation ?? 0) + 1
            }
            // A write through `scale` writes the object as a whole but is its own manager entry
            // (`subresource: scale`), as kube-apiserver records the HPA's and `kubectl scale`'s.
            object.metadata["managedFields"] = managedFields(of: object, requested: requestedManagedFields, replacing: old,
                                                             subresource: subresource, context: context)
        }
        let prepared = object
        // From here every way out tells the strategy (which prepared a main-resource update)
        // whether the object was stored.
        do {
            if part == nil {
                try validateMetadata(object)
                if let updateAdmission { try await updateAdmission(object, old, context) }
            }
            let result = try await write(object, replacing: old, context: context)
            if part == nil {
                await strategy.finishUpdate(prepared, old: old, stored: result.stored, context: context)
            }
            if result.deleted { await strategy.finishDelete(old, context: context) }
            return (result.object, warnings)
        } catch {
            if part == nil {
                await strategy.finishUpdate(prepared, old: old, stored: false, context: context)
            }
            throw error
        }
    }

    /// Writes the replacement of `old` conditionally on its revision: nothing when nothing
    /// changed or on a dry run, a delete when the last finalizer of an object being deleted
    /// went, an update otherwise.
    private func write(_ input: KubeObject, replacing old: KubeObject,
                       context: StrategyContext) async throws -> (object: KubeObject, stored: Bool, deleted: Bool) {
        var object = input
        object.resourceVersion = nil
        var oldStored = old
        oldStored.resourceVersion = nil
        let name = old.name ?? ""
        let revision = Int64(old.resourceVersion ?? "") ?? 0
        // An update that changes nothing writes nothing (the resourceVersion stays).
        if object == oldStored || context.dryRun {
            object.resourceVersion = old.resourceVersion
            return (object, false, false)
        }
        // The last finalizer gone from an object being deleted: it goes now. (A namespace's
        // `spec.finalizers` hold it too, until the namespace controller has emptied it.)
        let specFinalizers = object.value(at: ["spec", "finalizers"])?.arrayValue ?? []
        if object.deletionTimestamp != nil, object.finalizers.isEmpty, specFinalizers.isEmpty,
           (object.deletionGracePeriodSeconds ?? 0) == 0 {
            let stored = try await storage.delete(key(namespace: old.namespace, name: name), expectedRevision: revision)
            object.resourceVersion = String(stored.revision)
            return (object, false, true)
        }
        let stored = try await storage.update(key(namespace: old.namespace, name: name), value: try storageBytes(object),
                                              expectedRevision: revision)
        object.resourceVersion = String(stored.revision)
        return (object, true, false)
    }

    // MARK: - Delete

    func delete(namespace: String?, name: String, options: DeleteOptions, context: StrategyContext) async throws(APIError) -> DeleteOutcome {
        if options.ignoreStoreReadError, let outcome = try await deleteUnreadable(namespace: namespace, name: name, context: context) {
            return outcome
        }
        while true {
            var object = try await get(namespace: namespace, name: name)
            if let uid = options.preconditionUID, uid != object.uid {
                throw APIError.conflict(resource.groupResource, name: name,
                                        "Precondition failed: UID in precondition: \(uid), UID in object meta: \(object.uid ?? "")")
            }
            if let version = options.preconditionResourceVersion, version != object.resourceVersion {
                throw APIError.conflict(resource.groupResource, name: name,
                                        "Precondition failed: ResourceVersion in precondition: \(version), ResourceVersion in object meta: \(object.resourceVersion ?? "")")
            }
            let revision = Int64(object.resourceVersion ?? "") ?? 0
            let grace = strategy.gracePeriod(for: object, requested: options.gracePeriodSeconds)
            let finalizers = Self.garbageCollectionFinalizers(object.finalizers, policy: options.propagationPolicy)
            let finalizersChanged = finalizers != object.finalizers
            object.finalizers = finalizers
            let hasFinalizers = !object.finalizers.isEmpty
            if grace != nil || hasFinalizers {
                // Graceful: set (or shorten) deletionTimestamp and leave the rest to the owner.
                let seconds = grace ?? 0
                let deadline = Time(context.now.date.addingTimeInterval(Double(seconds)))
                if let current = object.deletionTimestamp.flatMap(Time.init(rfc3339:)), current <= deadline {
                    if !finalizersChanged { return .pending(object) }
                } else {
                    object.deletionTimestamp = deadline.description
                    object.deletionGracePeriodSeconds = seconds
                }
                if context.dryRun { return .pending(object) }
                object.resourceVersion = nil
                do {
                    let stored = try await storage.update(key(namespace: namespace, name: name), value: try storageBytes(object),
                                                          expectedRevision: revision)
                    object.resourceVersion = String(stored.revision)
                    return .pending(object)
                } catch StorageError.conflict {
                    continue
                } catch {
                    throw translate(error, name: name)
                }
            }
            if context.dryRun { return .deleted(object) }
            do {
                let stored = try await storage.delete(key(namespace: namespace, name: name), expectedRevision: revision)
                let deleted = try self.object(from: stored)
                await strategy.finishDelete(deleted, context: context)
                return .deleted(deleted)
            } catch StorageError.conflict where options.preconditionResourceVersion == nil {
                continue
            } catch {
                throw translate(error, name: name)
            }
        }
    }

    /// KEP-3926's unsafe deletion: an entry that cannot be decoded goes without being read
    /// (no finalizers, no grace period, no owner references honoured). nil when the entry
    /// decodes: it is then deleted the normal way.
    private func deleteUnreadable(namespace: String?, name: String, context: StrategyContext) async throws(APIError) -> DeleteOutcome? {
        let key = key(namespace: namespace, name: name)
        do {
            guard let stored = try await storage.get(key), (try? object(from: stored)) == nil else { return nil }
            var metadata: [String: JSONValue] = ["name": .string(name)]
            if let namespace, resource.namespaced { metadata["namespace"] = .string(namespace) }
            let placeholder = KubeObject(fields: [
                "apiVersion": .string(resource.groupVersion), "kind": .string(resource.kind), "metadata": .object(metadata),
            ])
            if context.dryRun { return .deleted(placeholder) }
            _ = try await storage.delete(key, expectedRevision: stored.revision)
            return .deleted(placeholder)
        } catch {
            throw translate(error, name: name)
        }
    }

    /// The finalizers after a DELETE with `policy` (`deletionFinalizersForGarbageCollection`):
    /// `Orphan` asks the garbage collector to orphan the dependents first (`orphan`),
    /// `Foreground` to delete them first (`foregroundDeletion`), `Background` for neither;
    /// without a policy the object keeps what it has. Every resource here defaults to
    /// Background, as apps/v1 and core/v1 do upstream.
    static func garbageCollectionFinalizers(_ finalizers: [String], policy: String?) -> [String] {
        guard let policy else { return finalizers }
        var result = finalizers.filter { $0 != Finalizers.orphanDependents && $0 != Finalizers.deleteDependents }
        switch policy {
        case "Orphan": result.append(Finalizers.orphanDependents)
        case "Foreground": result.append(Finalizers.deleteDependents)
        default: break
        }
        // Unchanged up to order is unchanged (no write for a repeated DELETE).
        return Set(result) == Set(finalizers) ? finalizers : result
    }
}
