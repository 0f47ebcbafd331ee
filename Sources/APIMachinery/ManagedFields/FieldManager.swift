import KubeAPI

/// Field ownership for the writes to one resource (k8s.io/apimachinery
/// pkg/util/managedfields, the stack `NewDefaultFieldManager` builds): every create, update
/// and patch records the fields its manager changed (`Update`), and server-side apply merges a
/// configuration into the live object, removes what the applier stopped applying, and refuses
/// to change fields other managers own unless forced (`Apply`).
package struct FieldManager: Sendable {
    package let values: StructuredValue
    /// The shape of the whole object.
    package let root: MergeShape
    /// The group/version of the resource (`apps/v1`, `v1`).
    package let apiVersion: String
    /// `status` for writes through that subresource, empty for the main resource.
    package let subresource: String
    /// Fields the write cannot change and nobody is given (the strategy's reset fields:
    /// `status` for the main resource of a type with a status subresource, `spec` and
    /// `metadata` for the status subresource).
    package let ignored: FieldSet

    package init(schema: any MergeSchema, kind: String, apiVersion: String, subresource: String, ignored: FieldSet) {
        self.values = StructuredValue(schema: schema)
        self.root = .structure(kind)
        self.apiVersion = apiVersion
        self.subresource = subresource
        self.ignored = ignored
    }

    /// The fields no one owns: type and identity, and what the server sets (`stripMetaManager`).
    static let stripped = FieldSet([
        [.field("apiVersion")], [.field("kind")], [.field("metadata")],
        [.field("metadata"), .field("name")], [.field("metadata"), .field("namespace")],
        [.field("metadata"), .field("creationTimestamp")], [.field("metadata"), .field("selfLink")],
        [.field("metadata"), .field("uid")], [.field("metadata"), .field("clusterName")],
        [.field("metadata"), .field("generation")], [.field("metadata"), .field("managedFields")],
        [.field("metadata"), .field("resourceVersion")],
    ])

    /// The manager of a write without `fieldManager`: the user agent up to its first `/`
    /// (`prefixFromUserAgent`), cut to 128 bytes.
    package static func manager(fieldManager: String?, userAgent: String?) -> String {
        if let fieldManager, !fieldManager.isEmpty { return fieldManager }
        let prefix = String((userAgent ?? "").split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false).first ?? "")
        return String(decoding: prefix.utf8.prefix(128), as: UTF8.self)
    }

    // MARK: - Update

    /// The `managedFields` of `new`, an object replacing `live` (nil for a create) by a plain
    /// write of `manager` at `now`. Like upstream's `UpdateNoErrors` this never fails the
    /// write: when the fields cannot be worked out, the live object's entries are kept.
    package func update(live: JSONValue?, new: JSONValue, manager: String, now: String) -> JSONValue? {
        let liveFields = live?["metadata"]?["managedFields"]
        var managed = decodeLiveOrNew(live: liveFields, new: new["metadata"]?["managedFields"])
        // An existing object nobody manages stays unmanaged until its first apply
        // (skipNonAppliedManager).
        if managed.isEmpty, live != nil { return nil }
        do {
            try record(&managed, live: Self.setting(nil, on: live ?? .object([:])), new: Self.setting(nil, on: new),
                       identity: identity(manager, .update), now: now)
        } catch {
            return liveFields
        }
        managed.capUpdateManagers()
        return managed.encoded
    }

    /// The entries to start from (`decodeLiveOrNew`): a status write's are the live object's;
    /// a main-resource write may set its own or reset them; undecodable ones count as none.
    private func decodeLiveOrNew(live: JSONValue?, new: JSONValue?) -> ManagedFields {
        let fromLive = (try? ManagedFields(live)) ?? ManagedFields()
        if !subresource.isEmpty { return fromLive }
        if ManagedFields.isReset(new) { return ManagedFields() }
        if let fromNew = try? ManagedFields(new), !fromNew.isEmpty { return fromNew }
        return fromLive
    }

    /// An update's bookkeeping: other managers lose what changed, the writer gains it.
    private func record(_ managed: inout ManagedFields, live: JSONValue, new: JSONValue,
                        identity: ManagedFields.Identity, now: String) throws(StructuredValue.ElementError) {
        let comparison = try values.compare(live, new, shape: root).excluding(ignored)
        let changed = comparison.modified.union(comparison.added)
        for (other, entry) in managed.entries where other != identity {
            managed.entries[other]?.fields = entry.fields.difference(changed).difference(comparison.removed)
        }
        let taken = changed.recursiveDifference(ignored).difference(Self.stripped)
        if !taken.isEmpty {
            let previous = managed.entries[identity]?.fields ?? FieldSet()
            managed.entries[identity] = ManagedFields.Entry(fields: taken.union(previous), apiVersion: apiVersion, time: now)
        }
        managed.entries = managed.entries.filter { !$0.value.fields.isEmpty }
    }

    private func identity(_ manager: String, _ operation: ManagedFields.Operation) -> ManagedFields.Identity {
        ManagedFields.Identity(manager: manager.isEmpty ? "unknown" : manager, operation: operation, apiVersion: apiVersion, subresource: subresource)
    }

    // MARK: - Apply

    /// One field another manager owns and the apply would change.
    package struct Conflict: Sendable, Equatable {
        package let manager: ManagedFields.Identity
        package let path: [FieldPathElement]
    }

    package enum ApplyError: Error, Sendable {
        case conflicts([Conflict])
        case invalid(String)
    }

    /// The object after `manager` applies `config` to `live` (nil: the object does not exist
    /// yet), with its `managedFields`. An apply that changes no value can still change who
    /// owns what: the caller writes whatever differs from the live object.
    package func apply(live: JSONValue?, config: JSONValue, manager: String, force: Bool,
                       now: String) throws(ApplyError) -> JSONValue {
        let current = Self.setting(nil, on: live ?? .object([:]))
        var managed = (try? ManagedFields(live?["metadata"]?["managedFields"])) ?? ManagedFields()
        do {
            // The first apply to an object nobody manages: its fields so far belong to
            // `before-first-apply`, so the apply conflicts with them (skipNonAppliedManager).
            if managed.isEmpty, live != nil {
                try record(&managed, live: .object([:]), new: current, identity: identity("before-first-apply", .update), now: now)
            }
            var object: JSONValue
            do {
                object = try structuredApply(&managed, current: current, config: config, manager: manager, force: force, now: now)
            } catch ApplyError.conflicts(let conflicts) where manager == "kubectl" && !force {
                // kubectl's move from client-side to server-side apply: conflicts on fields whose
                // value is still the one last applied client-side are allowed (lastAppliedManager).
                let allowed = allowedByLastApplied(current)
                let remaining = conflicts.filter { !allowed.contains($0.path) }
                guard remaining.isEmpty else { throw ApplyError.conflicts(remaining) }
                object = try structuredApply(&managed, current: current, config: config, manager: manager, force: true, now: now)
            }
            if manager == "kubectl", Self.lastApplied(of: current) != nil {
                object = Self.settingLastApplied(config, on: object)
            }
            return Self.setting(managed.encoded, on: object)
        } catch let error as StructuredValue.ElementError {
            throw .invalid(error.description)
        } catch let error as ApplyError {
            throw error
        } catch {
            throw .invalid("\(error)")
        }
    }

    private func structuredApply(_ managed: inout ManagedFields, current: JSONValue, config: JSONValue, manager: String,
                                 force: Bool, now: String) throws -> JSONValue {
        let applier = identity(manager, .apply)
        var candidate = managed
        let merged = try values.merge(current, config, shape: root)
        let lastSet = candidate.entries[applier]?.fields
        let set = try values.fieldSet(of: config, shape: root).recursiveDifference(ignored)
        candidate.entries[applier] = ManagedFields.Entry(fields: set, apiVersion: apiVersion, time: candidate.entries[applier]?.time)
        let pruned = try prune(merged, managed: candidate, lastSet: lastSet)
        // Other managers lose what the apply changes, or the apply fails on it.
        let comparison = try values.compare(current, pruned, shape: root).excluding(ignored)
        let changed = comparison.modified.union(comparison.added)
        var conflicts: [Conflict] = []
        for (other, entry) in candidate.entries where other != applier {
            let taken = entry.fields.intersection(changed)
            if !taken.isEmpty { conflicts += taken.paths.map { Conflict(manager: other, path: $0) } }
        }
        if !force, !conflicts.isEmpty { throw ApplyError.conflicts(conflicts) }
        for (other, entry) in candidate.entries where other != applier {
            candidate.entries[other]?.fields = entry.fields.difference(changed).difference(comparison.removed)
        }
        candidate.entries[applier]?.fields = set.difference(Self.stripped)
        // The time says when the applier last changed the object (managedFieldsUpdater).
        if pruned != current { candidate.entries[applier]?.time = now }
        candidate.entries = candidate.entries.filter { !$0.value.fields.isEmpty }
        managed = candidate
        return pruned
    }

    /// Removes what the applier applied last time and not this time, unless another manager
    /// (or this apply) still owns it (`Updater.prune` with `addBackOwnedItems` and
    /// `addBackDanglingItems`).
    private func prune(_ merged: JSONValue, managed: ManagedFields, lastSet: FieldSet?) throws(StructuredValue.ElementError) -> JSONValue {
        guard let lastSet, !lastSet.isEmpty else { return merged }
        let last = values.withNamedFieldsAsMembers(lastSet, shape: root)
        var pruned = try values.removing(last, from: merged, shape: root) ?? .object([:])
        let owned = managed.entries.values.reduce(FieldSet()) { $0.union($1.fields) }
        let mergedSet = values.withNamedFieldsAsMembers(try values.fieldSet(of: merged, shape: root), shape: root)
        var prunedSet = values.withNamedFieldsAsMembers(try values.fieldSet(of: pruned, shape: root), shape: root)
        pruned = try values.removing(mergedSet.difference(prunedSet.union(values.withNamedFieldsAsMembers(owned, shape: root))),
                                     from: merged, shape: root) ?? .object([:])
        prunedSet = values.withNamedFieldsAsMembers(try values.fieldSet(of: pruned, shape: root), shape: root)
        return try values.removing(mergedSet.difference(prunedSet).intersection(last), from: merged, shape: root) ?? .object([:])
    }

    // MARK: - kubectl's last-applied annotation

    package static let lastAppliedAnnotation = "kubectl.kubernetes.io/last-applied-configuration"

    static func lastApplied(of object: JSONValue) -> String? {
        guard let text = object["metadata"]?["annotations"]?[lastAppliedAnnotation]?.stringValue, !text.isEmpty else { return nil }
        return text
    }

    /// The fields whose live value is still the one kubectl last applied client-side.
    private func allowedByLastApplied(_ live: JSONValue) -> FieldSet {
        guard let text = Self.lastApplied(of: live), let last = try? JSONParser.parse(Array(text.utf8)),
              last["apiVersion"]?.stringValue == apiVersion,
              let set = try? values.fieldSet(of: last, shape: root),
              let comparison = try? values.compare(last, live, shape: root) else { return FieldSet() }
        return set.difference(comparison.modified).difference(comparison.added).difference(comparison.removed)
    }

    /// The object with kubectl's annotation set to `config` (`lastAppliedUpdater`), so a later
    /// client-side apply starts from what was applied server-side.
    static func settingLastApplied(_ config: JSONValue, on object: JSONValue) -> JSONValue {
        guard case .object(var configMembers) = config else { return object }
        if case .object(var metadata)? = configMembers["metadata"] {
            if case .object(var annotations)? = metadata["annotations"] {
                annotations[lastAppliedAnnotation] = nil
                metadata["annotations"] = annotations.isEmpty ? nil : .object(annotations)
            }
            configMembers["metadata"] = .object(metadata)
        }
        let text = String(decoding: JSONSerializer.serialize(.object(configMembers)), as: UTF8.self)
        guard case .object(var members) = object else { return object }
        var metadata = members["metadata"]?.objectValue ?? [:]
        var annotations = metadata["annotations"]?.objectValue ?? [:]
        annotations[lastAppliedAnnotation] = .string(text)
        metadata["annotations"] = .object(annotations)
        members["metadata"] = .object(metadata)
        return .object(members)
    }

    /// `object` with `managedFields` (nil: without any).
    static func setting(_ managedFields: JSONValue?, on object: JSONValue) -> JSONValue {
        guard case .object(var members) = object else { return object }
        var metadata = members["metadata"]?.objectValue ?? [:]
        metadata["managedFields"] = managedFields
        members["metadata"] = .object(metadata)
        return .object(members)
    }
}
