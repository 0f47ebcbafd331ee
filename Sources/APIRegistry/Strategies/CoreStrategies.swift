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
        return []
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
        for key in data.keys.sorted() where !Self.isValidKey(key) {
            errors.append(ValidationError(type: .invalid, field: "data[\(key)]", badValue: .string(key),
                                          detail: "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')"))
        }
        if !errors.isEmpty {
            throw APIError.invalid(kind: "Secret", group: "", name: object.name ?? "", errors: errors)
        }
    }

    static func isValidKey(_ key: String) -> Bool {
        !key.isEmpty && key.utf8.count <= 253 && key != "." && key != ".." && !key.hasPrefix("..")
            && key.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == ".") }
    }
}
