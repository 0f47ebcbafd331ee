import APIMachinery
import Foundation
import KubeAPI

/// Namespaces: Active on create, the `kubernetes` finalizer, and the immutable
/// `kubernetes.io/metadata.name` label Kubernetes adds to every namespace.
struct NamespaceStrategy: ResourceStrategy {
    static let nameLabel = "kubernetes.io/metadata.name"

    func prepareForCreate(_ object: inout KubeObject, context: StrategyContext) async throws(APIError) -> [String] {
        object.set(.object(["phase": .string("Active")]), at: ["status"])
        if object.value(at: ["spec", "finalizers"]) == nil {
            object.set(.array([.string("kubernetes")]), at: ["spec", "finalizers"])
        }
        Self.labelName(&object)
        return []
    }

    func prepareForUpdate(_ object: inout KubeObject, old: KubeObject, context: StrategyContext) async throws(APIError) -> [String] {
        object.set(old.fields["status"], at: ["status"])
        Self.labelName(&object)
        return []
    }

    private static func labelName(_ object: inout KubeObject) {
        var labels = object.labels
        labels[nameLabel] = object.name
        object.labels = labels
    }
}

/// Nodes: registered by their agent with a status; the main resource keeps the status on
/// update (the agent writes nodes/status).
struct NodeStrategy: ResourceStrategy {
    func prepareForUpdate(_ object: inout KubeObject, old: KubeObject, context: StrategyContext) async throws(APIError) -> [String] {
        object.set(old.fields["status"], at: ["status"])
        return []
    }
}

/// Secrets: type Opaque by default, `stringData` merged into base64 `data` (it is write-only
/// upstream too), data values checked to be base64.
struct SecretStrategy: ResourceStrategy {
    func prepareForCreate(_ object: inout KubeObject, context: StrategyContext) async throws(APIError) -> [String] {
        try normalize(&object)
        return []
    }

    func prepareForUpdate(_ object: inout KubeObject, old: KubeObject, context: StrategyContext) async throws(APIError) -> [String] {
        try normalize(&object)
        if let oldType = old.fields["type"]?.stringValue, object.fields["type"]?.stringValue != oldType {
            throw APIError.invalid(kind: "Secret", group: "", name: object.name ?? "", errors: [
                ValidationError(type: .invalid, field: "type", badValue: .string(object.fields["type"]?.stringValue ?? ""),
                                detail: "field is immutable"),
            ])
        }
        let errors = Self.immutableErrors(object, old: old, fields: ["data"])
        if !errors.isEmpty { throw APIError.invalid(kind: "Secret", group: "", name: object.name ?? "", errors: errors) }
        return []
    }

    /// ValidateSecretUpdate / ValidateConfigMapUpdate: once `immutable: true` is set, it stays
    /// set and the data fields never change ("field is immutable when `immutable` is set").
    static func immutableErrors(_ object: KubeObject, old: KubeObject, fields: [String]) -> [ValidationError] {
        guard old.fields["immutable"] == .bool(true) else { return [] }
        var errors: [ValidationError] = []
        if object.fields["immutable"] != .bool(true) {
            errors.append(ValidationError(type: .forbidden, field: "immutable", detail: "field is immutable when `immutable` is set"))
        }
        for field in fields where (object.fields[field] ?? .object([:])) != (old.fields[field] ?? .object([:])) {
            errors.append(ValidationError(type: .forbidden, field: field, detail: "field is immutable when `immutable` is set"))
        }
        return errors
    }

    private func normalize(_ object: inout KubeObject) throws(APIError) {
        if (object.fields["type"]?.stringValue ?? "").isEmpty {
            object.fields["type"] = .string("Opaque")
        }
        var data = object.fields["data"]?.objectValue ?? [:]
        for (key, value) in data {
            guard let text = value.stringValue, Data(base64Encoded: text) != nil else {
                throw APIError.badRequest("Secret in version \"v1\" cannot be handled as a Secret: illegal base64 data in data[\(key)]")
            }
        }
        for (key, value) in object.fields["stringData"]?.objectValue ?? [:] {
            data[key] = .string(Data((value.stringValue ?? "").utf8).base64EncodedString())
        }
        object.fields["stringData"] = nil
        object.fields["data"] = data.isEmpty ? nil : .object(data)
        var errors: [ValidationError] = []
        var totalSize = 0
        for key in data.keys.sorted() {
            if !Self.isValidKey(key) {
                errors.append(Self.invalidKey(key, field: "data[\(key)]"))
            }
            totalSize += data[key]?.stringValue.flatMap { Data(base64Encoded: $0)?.count } ?? 0
        }
        // ValidateSecret: the decoded values together at most MaxSecretSize (1 MiB).
        if totalSize > Self.maximumSize {
            errors.append(ValidationError(type: .tooLong, field: "data", detail: "may not be more than \(Self.maximumSize) bytes"))
        }
        if !errors.isEmpty {
            throw APIError.invalid(kind: "Secret", group: "", name: object.name ?? "", errors: errors)
        }
    }

    /// `core.MaxSecretSize`, which bounds ConfigMaps too.
    static let maximumSize = 1024 * 1024

    static func invalidKey(_ key: String, field: String) -> ValidationError {
        ValidationError(type: .invalid, field: field, badValue: .string(key),
                        detail: "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')")
    }

    static func isValidKey(_ key: String) -> Bool {
        !key.isEmpty && key.utf8.count <= 253 && key != "." && key != ".." && !key.hasPrefix("..")
            && key.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == ".") }
    }
}

/// ConfigMaps: `ValidateConfigMap`'s rules. Keys are config keys, none in both `data` and
/// `binaryData`, `binaryData` is base64, and the values together are at most 1 MiB
/// (`core.MaxSecretSize`): `ConfigMap "x" is invalid: []: Too long: may not be more than 1048576 bytes`.
/// See https://github.com/kubernetes/kubernetes/blob/master/pkg/apis/core/validation/validation.go
struct ConfigMapStrategy: ResourceStrategy {
    func prepareForCreate(_ object: inout KubeObject, context: StrategyContext) async throws(APIError) -> [String] {
        try validate(object)
        return []
    }

    func prepareForUpdate(_ object: inout KubeObject, old: KubeObject, context: StrategyContext) async throws(APIError) -> [String] {
        try validate(object)
        let errors = SecretStrategy.immutableErrors(object, old: old, fields: ["data", "binaryData"])
        if !errors.isEmpty { throw APIError.invalid(kind: "ConfigMap", group: "", name: object.name ?? "", errors: errors) }
        return []
    }

    private func validate(_ object: KubeObject) throws(APIError) {
        let data = object.fields["data"]?.objectValue ?? [:]
        let binaryData = object.fields["binaryData"]?.objectValue ?? [:]
        var errors: [ValidationError] = []
        var totalSize = 0
        for key in data.keys.sorted() {
            if !SecretStrategy.isValidKey(key) { errors.append(SecretStrategy.invalidKey(key, field: "data[\(key)]")) }
            if binaryData[key] != nil {
                errors.append(ValidationError(type: .invalid, field: "data[\(key)]", badValue: .string(key),
                                              detail: "duplicate of key present in binaryData"))
            }
            totalSize += data[key]?.stringValue?.utf8.count ?? 0
        }
        for key in binaryData.keys.sorted() {
            if !SecretStrategy.isValidKey(key) { errors.append(SecretStrategy.invalidKey(key, field: "binaryData[\(key)]")) }
            guard let text = binaryData[key]?.stringValue else { continue }
            guard let decoded = Data(base64Encoded: text) else {
                throw APIError.badRequest("ConfigMap in version \"v1\" cannot be handled as a ConfigMap: illegal base64 data in binaryData[\(key)]")
            }
            totalSize += decoded.count
        }
        if totalSize > SecretStrategy.maximumSize {
            // Upstream passes an empty path ("the whole object"), printed as `[]`.
            errors.append(ValidationError(type: .tooLong, field: "[]", detail: "may not be more than \(SecretStrategy.maximumSize) bytes"))
        }
        if !errors.isEmpty {
            throw APIError.invalid(kind: "ConfigMap", group: "", name: object.name ?? "", errors: errors)
        }
    }
}
