import APIMachinery
import KubeAPI

extension ResourceStore {
    /// The field manager of writes to this resource through `subresource`. The fields a
    /// write cannot change are nobody's (the strategies' reset fields upstream): `status` for
    /// the main resource of a type with a status subresource, `spec` for that subresource.
    func fieldManager(subresource: String?) -> FieldManager {
        var ignored = FieldSet()
        if subresource == "status" {
            ignored = FieldSet([[.field("spec")]])
        } else if resource.subresources.contains("status") {
            ignored = FieldSet([[.field("status")]])
        }
        return FieldManager(schema: TypeSchema.mergeSchema, kind: TypeSchema.messageName(group: resource.group, kind: resource.kind),
                            apiVersion: resource.groupVersion, subresource: subresource ?? "", ignored: ignored)
    }

    /// `object`'s `managedFields` after a plain write of it replacing `old` (nil: a create):
    /// the request's own `managedFields` (`requested`) may set or reset them, as upstream
    /// allows; server-side apply has computed them already.
    func managedFields(of object: KubeObject, requested: JSONValue?, replacing old: KubeObject?, subresource: String?,
                       context: StrategyContext) -> JSONValue? {
        if context.managedFieldsApplied { return requested }
        var new = object
        new.metadata["managedFields"] = requested
        var live = old
        live?.resourceVersion = nil
        new.resourceVersion = nil
        return fieldManager(subresource: subresource).update(live: live?.json, new: new.json, manager: context.fieldManager,
                                                             now: context.now.description)
    }

    /// `config` applied by `context.fieldManager` to the object `old` (`PATCH` with
    /// `application/apply-patch+yaml`), or to nothing when it does not exist yet.
    package func applied(_ config: JSONValue, to old: KubeObject?, namespace: String?, name: String, subresource: String?,
                         force: Bool, context: StrategyContext) throws(APIError) -> KubeObject {
        let manager = fieldManager(subresource: subresource)
        let object: JSONValue
        do {
            object = try manager.apply(live: old?.json, config: config, manager: context.fieldManager, force: force,
                                       now: context.now.description)
        } catch {
            switch error {
            case .conflicts(let conflicts):
                throw Self.applyConflict(conflicts)
            case .invalid(let why):
                // objectGVKNN: "namespace/name; group/version, Kind=Kind".
                throw APIError.badRequest("failed to create typed patch object (\(namespace ?? "")/\(name); \(resource.groupVersion), Kind=\(resource.kind)): \(why)")
            }
        }
        guard case .object(let fields) = object else { throw APIError.badRequest("the apply patch must be an object") }
        return KubeObject(fields: fields)
    }

    /// kube-apiserver's 409 for apply conflicts (`NewConflictError`): one cause per field, the
    /// message grouping the fields by manager.
    static func applyConflict(_ conflicts: [FieldManager.Conflict]) -> APIError {
        let causes = conflicts.map {
            APIError.Cause(reason: "FieldManagerConflict", message: "conflict with \($0.manager.description)", field: $0.path.pathDescription)
        }
        let message: String
        if conflicts.count == 1, let conflict = conflicts.first {
            message = "Apply failed with 1 conflict: conflict with \(conflict.manager.description): \(conflict.path.pathDescription)"
        } else {
            var byManager: [String: [String]] = [:]
            for conflict in conflicts { byManager[conflict.manager.description, default: []].append(conflict.path.pathDescription) }
            var lines: [String] = []
            for manager in byManager.keys.sorted() {
                lines.append("conflicts with \(manager):")
                lines += byManager[manager, default: []].map { "- " + $0 }
            }
            message = "Apply failed with \(conflicts.count) conflicts: " + lines.joined(separator: "\n")
        }
        return APIError(code: 409, reason: "Conflict", message: message, details: APIError.Details(causes: causes))
    }
}
