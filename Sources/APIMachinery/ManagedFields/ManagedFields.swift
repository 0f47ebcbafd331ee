import KubeAPI

/// Who manages which fields of an object: `metadata.managedFields` decoded
/// (k8s.io/apimachinery pkg/util/managedfields/internal/managedfields.go). Entries are
/// identified by manager, operation, subresource and, for updates, API version; an applier
/// is one entry whatever version it applied with.
package struct ManagedFields: Equatable, Sendable {
    package enum Operation: String, Sendable, Comparable {
        case apply = "Apply"
        case update = "Update"

        package static func < (lhs: Operation, rhs: Operation) -> Bool { lhs.rawValue < rhs.rawValue }
    }

    package struct Identity: Hashable, Sendable {
        package let manager: String
        package let operation: Operation
        /// Empty for appliers (`BuildManagerIdentifier` leaves it out).
        package let apiVersion: String
        package let subresource: String

        package init(manager: String, operation: Operation, apiVersion: String, subresource: String) {
            self.manager = manager
            self.operation = operation
            self.apiVersion = operation == .apply ? "" : apiVersion
            self.subresource = subresource
        }

        /// How a conflict names the manager (`printManager`): `"kubectl-edit" using apps/v1`,
        /// `"kubelet" with subresource "status" using v1`, `"kubectl"` for an applier.
        package var description: String {
            var text = "\"\(manager)\""
            if !subresource.isEmpty { text += " with subresource \"\(subresource)\"" }
            if operation == .update { text += " using \(apiVersion)" }
            return text
        }
    }

    package struct Entry: Equatable, Sendable {
        package var fields: FieldSet
        /// The version the fields are named in.
        package var apiVersion: String
        /// RFC 3339 time of the last change, seconds precision.
        package var time: String?
    }

    package var entries: [Identity: Entry] = [:]

    package init() {}

    package var isEmpty: Bool { entries.isEmpty }

    // MARK: - Decode

    /// Reads `metadata.managedFields`; throws when an entry is malformed (the caller then
    /// falls back as upstream does: to the live object's, or to none).
    package init(_ value: JSONValue?) throws(FieldsV1Error) {
        guard let value, value != .null else { return }
        guard case .array(let items) = value else { throw FieldsV1Error("managedFields must be a list") }
        for item in items {
            guard case .object(let entry) = item else { throw FieldsV1Error("a managedFields entry must be an object") }
            guard let operationText = entry["operation"]?.stringValue, let operation = Operation(rawValue: operationText) else {
                throw FieldsV1Error("managedFields operation must be `Apply` or `Update`")
            }
            if let type = entry["fieldsType"]?.stringValue, !type.isEmpty, type != "FieldsV1" {
                throw FieldsV1Error("managedFields fieldsType must be `FieldsV1`")
            }
            let apiVersion = entry["apiVersion"]?.stringValue ?? ""
            let identity = Identity(manager: entry["manager"]?.stringValue ?? "", operation: operation, apiVersion: apiVersion,
                                    subresource: entry["subresource"]?.stringValue ?? "")
            let fields = try entry["fieldsV1"].map { (value) throws(FieldsV1Error) in try FieldSet(fieldsV1: value) } ?? FieldSet()
            entries[identity] = Entry(fields: fields, apiVersion: apiVersion, time: entry["time"]?.stringValue)
        }
    }

    /// Whether a request's `managedFields` asks for them to be cleared: an empty list, or a
    /// list of one empty entry (`isResetManagedFields`).
    package static func isReset(_ value: JSONValue?) -> Bool {
        switch value {
        case .array(let items)?: return items.isEmpty || items == [.object([:])]
        default: return false
        }
    }

    // MARK: - Encode

    /// The `metadata.managedFields` list, nil when no one manages anything. Entries are sorted
    /// as upstream sorts them: appliers first, then by time, manager, version, subresource.
    package var encoded: JSONValue? {
        let live = entries.filter { !$0.value.fields.isEmpty }
        guard !live.isEmpty else { return nil }
        let sorted = live.sorted { a, b in
            if a.key.operation != b.key.operation { return a.key.operation < b.key.operation }
            let ta = a.value.time ?? "", tb = b.value.time ?? ""
            if ta != tb { return ta < tb }
            if a.key.manager != b.key.manager { return a.key.manager < b.key.manager }
            if a.value.apiVersion != b.value.apiVersion { return a.value.apiVersion < b.value.apiVersion }
            return a.key.subresource < b.key.subresource
        }
        return .array(sorted.map { identity, entry in
            var object: [String: JSONValue] = [
                "manager": .string(identity.manager), "operation": .string(identity.operation.rawValue),
                "apiVersion": .string(entry.apiVersion), "fieldsType": .string("FieldsV1"), "fieldsV1": entry.fields.fieldsV1,
            ]
            if let time = entry.time { object["time"] = .string(time) }
            if !identity.subresource.isEmpty { object["subresource"] = .string(identity.subresource) }
            return .object(object)
        })
    }

    // MARK: - Capping

    /// At most `limit` update managers: the oldest are merged into `ancient-changes`, one per
    /// version (`capManagersManager`, limit 10 upstream).
    package mutating func capUpdateManagers(limit: Int = 10) {
        let updaters = entries.filter { $0.key.operation == .update }
        guard updaters.count > limit else { return }
        let oldestFirst = updaters.sorted { a, b in
            let ta = a.value.time ?? "", tb = b.value.time ?? ""
            if ta != tb { return ta < tb }
            return a.key.manager < b.key.manager
        }
        var remaining = updaters.count
        var firstOfVersion: [String: Identity] = [:]
        for (identity, entry) in oldestFirst where remaining > limit {
            let bucket = Identity(manager: "ancient-changes", operation: .update, apiVersion: entry.apiVersion, subresource: "")
            if let first = firstOfVersion[entry.apiVersion] {
                if entries[bucket] == nil, let firstEntry = entries.removeValue(forKey: first) {
                    entries[bucket] = firstEntry
                }
                let merged = entry.fields.union(entries[bucket]?.fields ?? FieldSet())
                entries[bucket]?.fields = merged
                entries[bucket]?.time = entry.time
                entries[identity] = nil
                remaining -= 1
            } else {
                firstOfVersion[entry.apiVersion] = identity
            }
        }
    }
}
