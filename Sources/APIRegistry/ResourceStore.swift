import APIMachinery
import Foundation
import KubeAPI
import Storage

/// The generic REST storage of one resource (Kubernetes' `genericregistry.Store`): keys,
/// system metadata, optimistic concurrency, graceful deletion and finalizers, over any
/// `Storage`. Objects are stored without `metadata.resourceVersion`; it is the store
/// revision of the write and is filled in on every read, as the etcd3 store does.
package struct ResourceStore: Sendable {
    package let resource: APIResource
    let storage: any Storage
    package let strategy: any ResourceStrategy
    /// Set for a resource served over another's stored objects (events.k8s.io's events).
    package var conversion: (any StoredFormConversion)? = nil
    /// The validating admission of updates through the main resource (ResourceQuota's, for
    /// Services): sees the prepared object and the old one before the write.
    package typealias UpdateAdmission = @Sendable (_ object: KubeObject, _ old: KubeObject, StrategyContext) async throws(APIError) -> Void
    package var updateAdmission: UpdateAdmission? = nil

    // MARK: - Keys

    func key(namespace: String?, name: String) -> String {
        resource.keyPrefix + (resource.namespaced ? "\(namespace ?? "")/" : "") + name
    }

    /// The prefix of a list: one namespace, or every object of the resource.
    func prefix(namespace: String?) -> String {
        guard resource.namespaced, let namespace, !namespace.isEmpty else { return resource.keyPrefix }
        return resource.keyPrefix + namespace + "/"
    }

    /// A stored value as the object clients see.
    func object(from value: [UInt8], revision: Int64) throws(APIError) -> KubeObject {
        guard case .object(let fields)? = try? JSONParser.parse(value) else {
            throw APIError.internalError("the stored \(resource.singularName) is not a JSON object; the store may be corrupt")
        }
        var object = KubeObject(fields: fields)
        if let conversion { object = conversion.fromStored(object) }
        object.resourceVersion = String(revision)
        return object
    }

    /// The error of an entry that cannot be decoded (KEP-3926's `StorageReadError`): it names
    /// the key and the way out, a DELETE with `ignoreStoreReadErrorWithClusterBreakingPotential`.
    func unreadable(_ stored: StoredObject) -> APIError {
        let why: String
        do {
            let value = try JSONParser.parse(stored.value)
            why = "it is \(value.typeName), not a JSON object"
        } catch {
            why = "\(error.message) (at byte \(error.offset))"
        }
        return APIError(code: 500, reason: "StorageReadError",
                        message: "the stored \(resource.singularName) at \(stored.key) cannot be decoded: \(why); the store may be corrupt. "
                            + "Other objects are not affected; remove this one with a DELETE that sets ignoreStoreReadErrorWithClusterBreakingPotential=true")
    }

    func object(from stored: StoredObject) throws(APIError) -> KubeObject {
        do {
            return try object(from: stored.value, revision: stored.revision)
        } catch {
            throw unreadable(stored)
        }
    }

    /// The largest object the store takes: etcd's default `--max-request-bytes` (1.5 MiB),
    /// which is what bounds a Kubernetes object behind the 3 MiB request limit.
    package static let maximumStoredBytes = 1_572_864

    /// The bytes stored for `object`: JSON that `object(from:)` reads back (finite numbers,
    /// nesting within the parser's limit) and no larger than `maximumStoredBytes`. Every write
    /// goes through here, so no request can leave an entry that blocks reads of it.
    ///
    /// Written in kube-apiserver's member order and without `metadata.resourceVersion`, as
    /// the etcd3 store keeps objects: a list serves these bytes with the version spliced in
    /// (`StoredJSON`) instead of parsing and writing every object again.
    func storageBytes(_ object: KubeObject) throws(APIError) -> [UInt8] {
        let bytes: [UInt8]
        do {
            var stored = conversion?.toStored(object) ?? object
            stored.resourceVersion = nil
            bytes = try JSONSerializer.checkedSerializeInTypeOrder(stored.json)
        } catch {
            throw APIError.badRequest("\(resource.kind) in version \(ObjectValidation.quote(resource.version)) cannot be handled as a \(resource.kind): \(error)")
        }
        guard bytes.count <= Self.maximumStoredBytes else {
            throw APIError(code: 413, reason: "RequestEntityTooLarge",
                           message: "Request entity too large: \(resource.groupResource) \(ObjectValidation.quote(object.name ?? "")) would be stored as \(bytes.count) bytes, more than the limit of \(Self.maximumStoredBytes) bytes for one object")
        }
        return bytes
    }

    /// Storage errors in Kubernetes' words for this resource.
    func translate(_ error: any Error, name: String) -> APIError {
        switch error {
        case let error as APIError: return error
        case StorageError.notFound: return .notFound(resource.groupResource, name: name)
        case StorageError.alreadyExists: return .alreadyExists(resource.groupResource, name: name)
        case StorageError.conflict: return .staleUpdate(resource.groupResource, name: name)
        case StorageError.expired(let requested, let oldest):
            return .expired("too old resource version: \(requested) (\(oldest))")
        case StorageError.revisionTooLarge(let requested, let current):
            return .tooLargeResourceVersion(requested: requested, current: current)
        default: return .internalError("\(error)")
        }
    }

    // MARK: - Read

    package func get(namespace: String?, name: String) async throws(APIError) -> KubeObject {
        guard let object = try await find(namespace: namespace, name: name) else {
            throw APIError.notFound(resource.groupResource, name: name)
        }
        return object
    }

    /// One object as a JSON response wants it.
    package enum Fetched {
        /// In member order with its resourceVersion, written from the stored bytes (`StoredJSON`).
        case json([UInt8])
        /// Parsed: a resource over another's stored form, or an entry of the old layout.
        case object(KubeObject)
    }

    /// The object for a JSON response: from the stored bytes when they can be served as they
    /// are, else parsed (with `get`'s errors, a StorageReadError for an entry that is not JSON),
    /// reading the store once either way.
    package func fetch(namespace: String?, name: String) async throws(APIError) -> Fetched {
        guard conversion == nil else { return .object(try await get(namespace: namespace, name: name)) }
        let stored: StoredObject?
        do {
            stored = try await storage.get(key(namespace: namespace, name: name))
        } catch {
            throw translate(error, name: name)
        }
        guard let stored else { throw APIError.notFound(resource.groupResource, name: name) }
        var bytes: [UInt8] = []
        if StoredJSON.append(stored.value, resourceVersion: String(stored.revision), to: &bytes) {
            return .json(bytes)
        }
        return .object(try object(from: stored))
    }

    /// The object, or nil when there is none.
    package func find(namespace: String?, name: String) async throws(APIError) -> KubeObject? {
        let stored: StoredObject?
        do {
            stored = try await storage.get(key(namespace: namespace, name: name))
        } catch {
            throw translate(error, name: name)
        }
        return try stored.map { (stored) throws(APIError) in try object(from: stored) }
    }

    // MARK: - Create

    /// The validating admission plugins of a create (LimitRanger's checks, ResourceQuota):
    /// they see the object after the strategy defaulted and validated it, before it is stored.
    package typealias ValidatingAdmission = @Sendable (KubeObject) async throws(APIError) -> Void

    /// Creates `object` in `namespace` (already checked to exist).
    func create(namespace: String?, object input: KubeObject, context: StrategyContext,
                admission: ValidatingAdmission? = nil) async throws(APIError) -> (KubeObject, [String]) {
        try checkType(input)
        var (object, schemaWarnings) = try checkSchema(input, validation: context.fieldValidation)
        if resource.namespaced {
            if let bodyNamespace = object.namespace, bodyNamespace != namespace {
                throw APIError.badRequest("the namespace of the provided object does not match the namespace sent on the request")
            }
            object.namespace = namespace
        } else {
            object.namespace = nil
        }
        if object.resourceVersion != nil {
            throw APIError(code: 500, reason: "", message: "resourceVersion should not be set on objects to be created")
        }
        let generateName = object.name == nil ? object.generateName : nil
        // Names from generateName may collide; try a few, as Kubernetes does since 1.30.
        for attempt in 0..<8 {
            if let generateName {
                object.name = Self.generatedName(generateName)
            }
            var prepared = object
            prepared.fields["apiVersion"] = .string(resource.groupVersion)
            prepared.fields["kind"] = .string(resource.kind)
            prepared.uid = UUID().uuidString.lowercased()
            prepared.creationTimestamp = context.now.description
            prepared.deletionTimestamp = nil
            prepared.deletionGracePeriodSeconds = nil
            let requestedManagedFields = prepared.metadata["managedFields"]
            prepared.metadata["managedFields"] = nil
            prepared.metadata["selfLink"] = nil
            prepared.generation = resource.tracksGeneration ? 1 : nil
            let warnings = schemaWarnings + (try await strategy.prepareForCreate(&prepared, context: context))
            prepared.metadata["managedFields"] = managedFields(of: prepared, requested: requestedManagedFields, replacing: nil,
                                                               subresource: nil, context: context)
            // From here every way out tells the strategy whether the object was stored.
            do {
                try validateMetadata(prepared)
                if let admission { try await admission(prepared) }
                if !context.dryRun {
                    let stored = try await storage.create(key(namespace: namespace, name: prepared.name ?? ""), value: try storageBytes(prepared))
                    prepared.resourceVersion = String(stored.revision)
                }
                await strategy.finishCreate(prepared, stored: !context.dryRun, context: context)
                return (prepared, warnings)
            } catch StorageError.alreadyExists where generateName != nil && attempt < 7 {
                await strategy.finishCreate(prepared, stored: false, context: context)
                continue
            } catch {
                await strategy.finishCreate(prepared, stored: false, context: context)
                throw translate(error, name: prepared.name ?? "")
            }
        }
        throw APIError.alreadyExists(resource.groupResource, name: object.name ?? "")
    }

    /// `names.SimpleNameGenerator`: the prefix (cut to 58 characters) and 5 random characters
    /// from an alphabet without vowels or look-alikes.
    static func generatedName(_ base: String) -> String {
        let alphabet = Array("bcdfghjklmnpqrstvwxz2456789")
        let prefix = String(base.prefix(58))
        return prefix + String((0..<5).map { _ in alphabet[Int.random(in: 0..<alphabet.count)] })
    }

    /// The body must be of this resource's kind and version (when it says).
    func checkType(_ object: KubeObject) throws(APIError) {
        if let apiVersion = object.apiVersion, !apiVersion.isEmpty, apiVersion != resource.groupVersion {
            throw APIError.badRequest("the API version in the data (\(apiVersion)) does not match the expected API version (\(resource.groupVersion))")
        }
        if let kind = object.kind, !kind.isEmpty, kind != resource.kind {
            throw APIError.badRequest("the kind in the data (\(kind)) does not match the expected kind (\(resource.kind)) of \(resource.name)")
        }
    }

    /// The body checked against the fields of its type (`SchemaValidator`), as decoding it into
    /// the Go type does upstream: unknown fields dropped, and refused with
    /// `fieldValidation=Strict` or reported as warnings with Warn (the default); members of the
    /// wrong JSON type refused whatever the mode.
    func checkSchema(_ object: KubeObject, validation: FieldValidation) throws(APIError) -> (KubeObject, [String]) {
        let prefix = "\(resource.kind) in version \(ObjectValidation.quote(resource.version)) cannot be handled as a \(resource.kind): "
        let checked: SchemaValidator.Outcome?
        do {
            checked = try SchemaValidator.check(object.json, kind: TypeSchema.messageName(group: resource.group, kind: resource.kind))
        } catch {
            throw APIError.badRequest(prefix + error.message)
        }
        guard let checked, case .object(let fields) = checked.value else { return (object, []) }
        var reported = checked.unknownFields.map { "unknown field \(ObjectValidation.quote($0))" }
        if checked.unknownCount > reported.count {
            reported.append("and \(checked.unknownCount - reported.count) more unknown fields")
        }
        switch validation {
        case .strict where !reported.isEmpty:
            throw APIError.badRequest(prefix + "strict decoding error: " + reported.joined(separator: ", "))
        case .warn:
            return (KubeObject(fields: fields), reported)
        default:
            return (KubeObject(fields: fields), [])
        }
    }

    func validateMetadata(_ object: KubeObject) throws(APIError) {
        guard !strategy.validatesMetadata else { return }
        let meta: ObjectMeta
        do {
            meta = try JSONDecoder().decode(ObjectMeta.self, from: Data(JSONSerializer.serialize(.object(object.metadata))))
        } catch {
            throw APIError.badRequest("\(resource.kind) in version \(ObjectValidation.quote(resource.version)) cannot be handled as a \(resource.kind): metadata: \(error)")
        }
        let errors = ObjectValidation.validateMetadata(meta, namespaced: resource.namespaced, nameRule: resource.nameRule)
        if !errors.isEmpty {
            throw APIError.invalid(kind: resource.kind, group: resource.group, name: object.name ?? "", errors: errors)
        }
    }
}
