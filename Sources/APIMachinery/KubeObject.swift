import KubeAPI

/// A Kubernetes object held as its JSON fields, with typed access to the parts of
/// `metadata` the API server manages. The server stores and serves objects in this form and
/// only decodes them into `KubeAPI` types where behaviour depends on the contents (Pod
/// defaulting and validation, Table rows).
public struct KubeObject: Sendable, Equatable {
    /// The top-level fields (`apiVersion`, `kind`, `metadata`, `spec`, ...).
    public var fields: [String: JSONValue]

    public init(fields: [String: JSONValue]) {
        self.fields = fields
    }

    /// Parses a JSON object; anything else (an array, a number) is a `BadRequest`.
    public init(json bytes: [UInt8]) throws(APIError) {
        let value: JSONValue
        do {
            value = try JSONParser.parse(bytes)
        } catch {
            throw APIError.badRequest("the request body is not valid JSON: \(error.message) (at byte \(error.offset))")
        }
        guard case .object(let fields) = value else {
            throw APIError.badRequest("the request body must be a JSON object, not \(value.typeName)")
        }
        self.fields = fields
    }

    /// The object as compact JSON.
    public func serialized() -> [UInt8] {
        JSONSerializer.serialize(.object(fields))
    }

    public var json: JSONValue { .object(fields) }

    // MARK: - Paths

    /// The value at a dotted path of object keys, if every step exists.
    public func value(at path: [String]) -> JSONValue? {
        var current: JSONValue = .object(fields)
        for key in path {
            guard let next = current[key] else { return nil }
            current = next
        }
        return current
    }

    /// The string at `path`, if it is one.
    public func string(at path: [String]) -> String? {
        value(at: path)?.stringValue
    }

    /// Sets (or with nil removes) the value at `path`, creating intermediate objects.
    public mutating func set(_ value: JSONValue?, at path: [String]) {
        guard let first = path.first else { return }
        var root = JSONValue.object(fields)
        root.set(value, at: path[...])
        if case .object(let updated) = root {
            fields = updated
        } else {
            fields[first] = nil
        }
    }

    // MARK: - Type and metadata

    public var apiVersion: String? { fields["apiVersion"]?.stringValue }
    public var kind: String? { fields["kind"]?.stringValue }

    public var metadata: [String: JSONValue] {
        get { fields["metadata"]?.objectValue ?? [:] }
        set { fields["metadata"] = .object(newValue) }
    }

    private func meta(_ key: String) -> String? {
        guard let text = fields["metadata"]?[key]?.stringValue, !text.isEmpty else { return nil }
        return text
    }

    private mutating func setMeta(_ key: String, _ value: JSONValue?) {
        var metadata = self.metadata
        metadata[key] = value
        self.metadata = metadata
    }

    public var name: String? {
        get { meta("name") }
        set { setMeta("name", newValue.map { .string($0) }) }
    }

    public var generateName: String? { meta("generateName") }

    public var namespace: String? {
        get { meta("namespace") }
        set { setMeta("namespace", newValue.map { .string($0) }) }
    }

    public var uid: String? {
        get { meta("uid") }
        set { setMeta("uid", newValue.map { .string($0) }) }
    }

    public var resourceVersion: String? {
        get { meta("resourceVersion") }
        set { setMeta("resourceVersion", newValue.map { .string($0) }) }
    }

    public var creationTimestamp: String? {
        get { meta("creationTimestamp") }
        set { setMeta("creationTimestamp", newValue.map { .string($0) }) }
    }

    public var deletionTimestamp: String? {
        get { meta("deletionTimestamp") }
        set { setMeta("deletionTimestamp", newValue.map { .string($0) }) }
    }

    public var deletionGracePeriodSeconds: Int64? {
        get { metadata["deletionGracePeriodSeconds"]?.intValue }
        set { setMeta("deletionGracePeriodSeconds", newValue.map { .int($0) }) }
    }

    public var generation: Int64? {
        get { metadata["generation"]?.intValue }
        set { setMeta("generation", newValue.map { .int($0) }) }
    }

    public var labels: [String: String] {
        get { Self.stringMap(metadata["labels"]) }
        set { setMeta("labels", newValue.isEmpty ? nil : .object(newValue.mapValues { .string($0) })) }
    }

    public var annotations: [String: String] {
        Self.stringMap(metadata["annotations"])
    }

    public var finalizers: [String] {
        get { metadata["finalizers"]?.arrayValue?.compactMap(\.stringValue) ?? [] }
        set { setMeta("finalizers", newValue.isEmpty ? nil : .array(newValue.map { .string($0) })) }
    }

    private static func stringMap(_ value: JSONValue?) -> [String: String] {
        guard let members = value?.objectValue else { return [:] }
        return members.compactMapValues(\.stringValue)
    }
}
