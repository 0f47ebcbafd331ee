import APIMachinery
import APIRegistry
import Foundation
import Hummingbird
import KubeAPI

/// One request on a resource path: verb dispatch, parameters, and representation.
struct ResourceRequest {
    let handler: APIHandler
    let request: Request
    let info: RequestInfo
    let query: [String: String]
    /// Who asks (nil: no authentication configured).
    let user: UserInfo?

    init(handler: APIHandler, request: Request, info: RequestInfo, user: UserInfo? = nil) {
        self.handler = handler
        self.request = request
        self.info = info
        self.query = URLQuery.parse(request.uri.query)
        self.user = user
    }

    var service: APIService { handler.service }

    func handle() async throws(APIError) -> Response {
        guard let resource = service.registry.resource(group: info.group, version: info.version, name: info.resource) else {
            throw APIError.pathNotFound()
        }
        let store = try service.store(resource)
        let isNamespaces = resource.group.isEmpty && resource.name == "namespaces"
        // The namespace of the objects addressed: none for cluster-scoped resources.
        let namespace: String?
        if resource.namespaced {
            namespace = info.namespace
            if namespace == nil, info.name != nil { throw APIError.pathNotFound() }
        } else {
            if info.namespace != nil, !isNamespaces { throw APIError.pathNotFound() }
            namespace = nil
        }
        let name = info.name
        if resource.group.isEmpty, resource.name == "pods", info.subresource == "log", let name, let namespace {
            // pods/log is no stored subresource: it is streamed from the pod's kubelet.
            guard request.method == .get || request.method == .head else { throw APIError.methodNotAllowed() }
            try await NodeAuthorizer.authorize(user, RequestAttributes(verb: "get", group: "", resource: "pods", subresource: "log",
                                                                       namespace: namespace, name: name), service: service)
            return try await handler.podLogs.respond(service: service, namespace: namespace, name: name, query: query, request: request)
        }
        if resource.group.isEmpty, resource.name == "pods", let subresource = info.subresource,
           PodStreamProxy.subresources.contains(subresource), let name, let namespace {
            // Served by PodStreamProxy when the request asks to switch protocols; a plain
            // request gets kube-apiserver's answer (UpgradeAwareHandler with UpgradeRequired).
            guard request.method == .get || request.method == .post else { throw APIError.methodNotAllowed() }
            try await NodeAuthorizer.authorize(user, RequestAttributes(verb: "create", group: "", resource: "pods", subresource: subresource,
                                                                       namespace: namespace, name: name), service: service)
            _ = try await service.store(group: "", name: "pods").get(namespace: namespace, name: name)
            throw APIError.badRequest("Upgrade request required")
        }
        if resource.group.isEmpty, resource.name == "serviceaccounts", info.subresource == "token", let name, let namespace {
            // TokenRequest: a token is made, nothing is stored (Security/APIHandler+TokenRequest.swift).
            guard request.method == .post else { throw APIError.methodNotAllowed() }
            try await NodeAuthorizer.authorize(user, RequestAttributes(verb: "create", group: "", resource: "serviceaccounts", subresource: "token",
                                                                       namespace: namespace, name: name), service: service)
            return try await handler.createToken(request, namespace: namespace, name: name, user: user)
        }
        if resource.group.isEmpty, resource.name == "pods", info.subresource == "eviction", let name, let namespace {
            // pods/eviction: a delete that honours the pod's PodDisruptionBudget (APIService+Eviction.swift).
            guard request.method == .post else { throw APIError.methodNotAllowed() }
            try await NodeAuthorizer.authorize(user, RequestAttributes(verb: "create", group: "", resource: "pods", subresource: "eviction",
                                                                       namespace: namespace, name: name), service: service)
            let eviction = KubeObject(fields: try await objectBody(kind: "Eviction"))
            let status = try await service.evict(namespace: namespace, name: name, eviction: eviction, context: try context())
            return try APIHandler.object(status, encoding: MediaTypes.statusEncoding(accept: request.headers[.accept]), status: .created)
        }
        if let subresource = info.subresource, !resource.subresources.contains(subresource) {
            throw APIError.pathNotFound()
        }
        // Protobuf for the kinds ProtobufEncoder has a schema for (all served ones today).
        let representation = try MediaTypes.negotiate(accept: request.headers[.accept],
                                                      protobufAvailable: ProtobufEncoder.canEncode(group: resource.group, kind: resource.kind))
        let encoding = representation.encoding
        let watch = info.watchPrefix || ListOptions.flag(query["watch"])
        let verb = verb(watch: watch)
        let attributes = RequestAttributes(verb: verb, group: resource.group, resource: resource.name,
                                           subresource: info.subresource, namespace: namespace,
                                           name: name ?? (verb == "list" || verb == "watch" ? selectedName() : nil))
        try await NodeAuthorizer.authorize(user, attributes, service: service)

        switch request.method {
        case .get, .head:
            if info.subresource == "binding" { throw APIError.methodNotAllowed() }
            if watch {
                var options = try ListOptions(query: query)
                if let name {
                    // `/watch/.../pods/web` watches one object.
                    options.fieldSelector = FieldSelector(terms: options.fieldSelector.terms + [
                        FieldSelector.Term(field: "metadata.name", value: name, negated: false),
                    ])
                }
                return try await WatchResponder(store: store, representation: representation.representation, encoding: encoding,
                                                includeObject: includeObject)
                    .respond(request: request, namespace: namespace, options: options)
            }
            guard let name else {
                let options = try ListOptions(query: query)
                if representation.representation == .object, let page = try await store.listJSON(namespace: namespace, options: options) {
                    return try render(jsonList: page, resource: resource, encoding: encoding)
                }
                let list = try await store.list(namespace: namespace, options: options)
                return try render(list: list, resource: resource, representation: representation)
            }
            if info.subresource == "scale" {
                return try APIHandler.object(service.scale(of: try await store.get(namespace: namespace, name: name)).json, encoding: encoding)
            }
            guard representation.representation == .object else {
                return try render(try await store.get(namespace: namespace, name: name), resource: resource, representation: representation)
            }
            switch try await store.fetch(namespace: namespace, name: name) {
            case .json(let bytes) where encoding == .json: return APIHandler.json(bytes: bytes)
            case .json(let bytes): return try APIHandler.object(try KubeObject(json: bytes).json, encoding: encoding)
            case .object(let object): return try render(object, resource: resource, representation: representation)
            }

        case .post:
            if let name, info.subresource == "binding" {
                let binding = KubeObject(fields: try await objectBody(kindFor: resource))
                try await service.bind(namespace: namespace, name: name, binding: binding, context: try context())
                return try APIHandler.object(.object([
                    "kind": .string("Status"), "apiVersion": .string("v1"), "metadata": .object([:]), "status": .string("Success"),
                ]), encoding: encoding, status: .created)
            }
            guard name == nil, info.subresource == nil else { throw APIError.methodNotAllowed() }
            try validateWriteOptions(kind: "CreateOptions")
            let object = KubeObject(fields: try await objectBody(kindFor: resource))
            try await NodeAuthorizer.admitCreate(user, attributes, object: object, service: service)
            let (created, warnings) = try await service.create(object, resource: resource, namespace: namespace, context: try context())
            return try render(created, resource: resource, representation: representation, status: .created, warnings: warnings)

        case .put:
            guard let name else { throw APIError.methodNotAllowed() }
            try validateWriteOptions(kind: "UpdateOptions")
            let body = KubeObject(fields: try await objectBody(kindFor: resource))
            if info.subresource == "scale" {
                let scale = try await service.updateScale(resource: resource, namespace: namespace, name: name, scale: body, context: try context())
                return try APIHandler.object(scale.json, encoding: encoding)
            }
            let (updated, warnings) = try await store.update(namespace: namespace, name: name, object: body,
                                                             subresource: info.subresource, context: try context())
            return try render(updated, resource: resource, representation: representation, warnings: warnings)

        case .patch:
            guard let name else { throw APIError.methodNotAllowed() }
            let type = try patchType()
            try validateWriteOptions(kind: "PatchOptions", patch: type)
            let patch = try await MediaTypes.decode(try await handler.body(of: request), contentType: request.headers[.contentType])
            if case .apply(let force) = type {
                if info.subresource == "scale" {
                    let (scale, warnings) = try await service.applyScale(patch, resource: resource, namespace: namespace, name: name,
                                                                         force: force, context: try context())
                    return try APIHandler.object(scale.json, encoding: encoding, warnings: warnings)
                }
                // An apply that creates is authorized and admitted as the create it is.
                var creating = attributes
                creating.verb = "create"
                let (object, warnings, created) = try await service.apply(
                    patch, resource: resource, namespace: namespace, name: name, subresource: info.subresource, force: force,
                    context: try context(), admitCreate: { (object) async throws(APIError) in
                        try await NodeAuthorizer.authorize(user, creating, service: service)
                        try await NodeAuthorizer.admitCreate(user, creating, object: object, service: service)
                    })
                return try render(object, resource: resource, representation: representation, status: created ? .created : .ok, warnings: warnings)
            }
            if info.subresource == "scale" {
                // A patch that names no resourceVersion applies to whatever is current, like any patch.
                let scale = try await service.updateScale(resource: resource, namespace: namespace, name: name, context: try context(),
                                                          retryOnConflict: patch["metadata"]?["resourceVersion"] == nil) { current throws(APIError) in
                    KubeObject(fields: try apply(patch, type: type, to: current.json).objectValue ?? [:])
                }
                return try APIHandler.object(scale.json, encoding: encoding)
            }
            let (updated, warnings) = try await store.patch(namespace: namespace, name: name, patch: patch, type: type,
                                                            subresource: info.subresource, context: try context())
            return try render(updated, resource: resource, representation: representation, warnings: warnings)

        case .delete:
            // No subresource is deleted (kube-apiserver serves none with the delete verb).
            guard info.subresource == nil else { throw APIError.methodNotAllowed() }
            let bytes = try await handler.body(of: request)
            let body = bytes.isEmpty ? nil : try await MediaTypes.decode(bytes, contentType: request.headers[.contentType])
            let options = try DeleteOptions(body: body, query: query)
            let context = try context(dryRun: options.dryRun)
            guard let name else {
                return try await deleteCollection(store: store, namespace: namespace, options: options, context: context, encoding: encoding)
            }
            let outcome = try await service.delete(resource: resource, namespace: namespace, name: name, options: options, context: context)
            switch outcome {
            case .pending(let object):
                return try APIHandler.object(object.json, encoding: encoding)
            case .deleted(let object):
                if store.strategy.returnsDeletedObject {
                    return try APIHandler.object(object.json, encoding: encoding)
                }
                return try APIHandler.object(Self.success(resource: resource, object: object), encoding: encoding)
            }

        default:
            throw APIError.methodNotAllowed()
        }
    }

    // MARK: - Parameters

    /// The Kubernetes verb of the request, as authorization sees it.
    private func verb(watch: Bool) -> String {
        switch request.method {
        case .get, .head: return watch ? "watch" : (info.name == nil ? "list" : "get")
        case .post: return "create"
        case .put: return "update"
        case .patch: return "patch"
        case .delete: return info.name == nil ? "deletecollection" : "delete"
        default: return request.method.rawValue.lowercased()
        }
    }

    /// The object a list or watch is limited to by `fieldSelector=metadata.name=x`, which
    /// authorization treats as a request for that object, as kube-apiserver's RequestInfo does
    /// (a kubelet watches each Secret its pods use this way).
    private func selectedName() -> String? {
        guard let text = query["fieldSelector"], let selector = try? FieldSelector(parsing: text) else { return nil }
        let names = selector.terms.filter { $0.field == "metadata.name" && !$0.negated }
        return names.count == 1 ? names[0].value : nil
    }

    private var includeObject: IncludeObjectPolicy {
        query["includeObject"].flatMap(IncludeObjectPolicy.init(rawValue:)) ?? .metadata
    }

    private func context(dryRun: Bool = false) throws(APIError) -> StrategyContext {
        var dry = dryRun
        if let value = query["dryRun"] {
            guard value == "All" || value.isEmpty else {
                throw APIError.badRequest("Invalid dryRun value: \(ObjectValidation.quote(value)); supported value: \"All\"")
            }
            dry = dry || value == "All"
        }
        var validation = FieldValidation.warn
        if let value = query["fieldValidation"], !value.isEmpty {
            guard let parsed = FieldValidation(rawValue: value) else {
                throw APIError.badRequest("fieldValidation parameter unsupported: \(value)")
            }
            validation = parsed
        }
        return service.context(dryRun: dry, fieldValidation: validation,
                               fieldManager: FieldManager.manager(fieldManager: query["fieldManager"], userAgent: request.headers[.userAgent]))
    }

    /// `ValidateCreateOptions`/`ValidateUpdateOptions`/`ValidatePatchOptions`: apply needs a
    /// `fieldManager`, only apply takes `force`, a manager is at most 128 printable bytes.
    private func validateWriteOptions(kind: String, patch: PatchType? = nil) throws(APIError) {
        var errors: [ValidationError] = []
        let manager = query["fieldManager"] ?? ""
        if let patch {
            if case .apply = patch {
                if manager.isEmpty { errors.append(ValidationError(type: .required, field: "fieldManager", detail: "is required for apply patch")) }
            } else if query["force"] != nil {
                errors.append(ValidationError(type: .forbidden, field: "force", detail: "may not be specified for non-apply patch"))
            }
        }
        if manager.utf8.count > 128 {
            errors.append(ValidationError(type: .tooLong, field: "fieldManager", badValue: .string("<value omitted>"), detail: "may not be more than 128 bytes"))
        }
        for (position, scalar) in manager.unicodeScalars.enumerated() where !Self.isPrintable(scalar) {
            let code = String(scalar.value, radix: 16, uppercase: true)
            errors.append(ValidationError(type: .invalid, field: "fieldManager", badValue: .string(manager),
                                          detail: "invalid character U+\(String(repeating: "0", count: max(0, 4 - code.count)) + code) (at position \(position))"))
        }
        if !errors.isEmpty {
            throw APIError.invalid(kind: kind, group: "meta.k8s.io", name: "", errors: errors)
        }
    }

    /// Go's `unicode.IsPrint`, near enough: no control or format characters, spaces but U+0020.
    private static func isPrintable(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.properties.generalCategory {
        case .control, .format, .surrogate, .privateUse, .unassigned, .lineSeparator, .paragraphSeparator: return false
        case .spaceSeparator: return scalar == " "
        default: return true
        }
    }

    /// A create/update body: a JSON or YAML object.
    private func objectBody(kindFor resource: APIResource) async throws(APIError) -> [String: JSONValue] {
        try await objectBody(kind: resource.kind)
    }

    private func objectBody(kind: String) async throws(APIError) -> [String: JSONValue] {
        let contentType = request.headers[.contentType]
        let bytes = try await handler.body(of: request)
        guard !bytes.isEmpty else {
            throw APIError.badRequest("the request body is empty; send the \(kind) as JSON or YAML")
        }
        let value: JSONValue
        do {
            value = try await MediaTypes.decode(bytes, contentType: contentType)
        } catch where MediaTypes.isJSON(contentType) && error.code == 400 {
            // kube-apiserver's create/update handlers wrap the decoder's error so: a YAML body
            // sent as JSON says which kind was expected.
            throw APIError.badRequest("the object provided is unrecognized (must be of type \(kind)): couldn't get version/kind; "
                                      + error.message.replacingOccurrences(of: "the request body is not valid JSON", with: "json parse error"))
        }
        guard case .object(let fields) = value else {
            throw APIError.badRequest("the request body must be a \(kind) object, not \(value.typeName)")
        }
        return fields
    }

    private func patchType() throws(APIError) -> PatchType {
        switch MediaTypes.mediaType(request.headers[.contentType]) {
        case MediaTypes.mergePatch: return .merge
        case MediaTypes.jsonPatch: return .json
        case MediaTypes.strategicMergePatch: return .strategicMerge
        case MediaTypes.applyPatch:
            // Query booleans as apimachinery converts them (Convert_Slice_string_To_bool): only
            // absence, "0" and "false" in any case are false (the Python client sends "True").
            guard let text = query["force"] else { return .apply(force: false) }
            return .apply(force: !(text == "0" || text.lowercased() == "false"))
        case let other:
            throw APIError.unsupportedMediaType(other, accepted: [MediaTypes.jsonPatch, MediaTypes.mergePatch, MediaTypes.strategicMergePatch, MediaTypes.applyPatch])
        }
    }

    private func apply(_ patch: JSONValue, type: PatchType, to target: JSONValue) throws(APIError) -> JSONValue {
        switch type {
        case .merge: return JSONPatches.mergePatch(target, with: patch)
        case .json: return try JSONPatches.jsonPatch(target, operations: patch)
        case .strategicMerge: return try StrategicMergePatch.apply(patch, to: target, kind: "Scale")
        case .apply: throw APIError.unsupportedMediaType(MediaTypes.applyPatch, accepted: [MediaTypes.jsonPatch, MediaTypes.mergePatch, MediaTypes.strategicMergePatch])
        }
    }

    // MARK: - Rendering

    private func render(_ object: KubeObject, resource: APIResource, representation negotiated: MediaTypes.Negotiated,
                        status: HTTPResponse.Status = .ok, warnings: [String] = []) throws(APIError) -> Response {
        switch negotiated.representation {
        case .object:
            return try APIHandler.object(object.json, encoding: negotiated.encoding, status: status, warnings: warnings)
        case .table(let version):
            let table = TableConverter.table(for: resource, objects: [object],
                                             listMetadata: ["resourceVersion": .string(object.resourceVersion ?? "")],
                                             include: includeObject, apiVersion: "meta.k8s.io/\(version)")
            return APIHandler.json(table, status: status, warnings: warnings)
        case .partialMetadata(_, list: true):
            // handlers/response.go asPartialObjectMetadataList's refusal.
            throw APIError(code: 406, reason: "NotAcceptable",
                           message: "you requested PartialObjectMetadataList, but the requested object is not a list (*\(resource.version).\(resource.kind))")
        case .partialMetadata(let version, list: false):
            return APIHandler.json(MediaTypes.Representation.partial(object, version: version), status: status, warnings: warnings)
        }
    }

    /// A list's `metadata` (ListMeta).
    private static func listMetadata<Item>(_ page: ListPage<Item>) -> [String: JSONValue] {
        var metadata: [String: JSONValue] = ["resourceVersion": .string(String(page.revision))]
        if let token = page.continueToken { metadata["continue"] = .string(token) }
        if let remaining = page.remainingItemCount { metadata["remainingItemCount"] = .int(Int64(remaining)) }
        return metadata
    }

    /// Entries the store could not decode were left out; say which, so they can be removed.
    private static func listWarnings<Item>(_ page: ListPage<Item>, resource: APIResource) -> [String] {
        page.unreadableKeys.isEmpty ? [] : [
            "\(page.unreadableKeys.count) stored \(resource.name) could not be decoded and were left out of the list "
                + "(the store may be corrupt): \(page.unreadableKeys.prefix(20).joined(separator: ", "))",
        ]
    }

    /// A JSON list whose items are already written (`ResourceStore.listJSON`): the envelope
    /// in member order around them, the same bytes `render(list:)` writes for `.object`.
    private func render(jsonList page: ListPage<[UInt8]>, resource: APIResource, encoding: MediaTypes.Encoding) throws(APIError) -> Response {
        if encoding == .protobuf {
            // Protobuf is written from values: each stored item is parsed, then encoded.
            let bytes = try ProtobufEncoder.encodeList(apiVersion: resource.groupVersion, kind: resource.kind + "List",
                                                       metadata: .object(Self.listMetadata(page)), items: page.items)
            return APIHandler.protobuf(bytes: bytes, warnings: Self.listWarnings(page, resource: resource))
        }
        // The envelope with an empty `items`, which comes last in a list's member order; the
        // items go between its brackets.
        var bytes = JSONSerializer.serializeInTypeOrder(.object([
            "kind": .string(resource.kind + "List"), "apiVersion": .string(resource.groupVersion),
            "metadata": .object(Self.listMetadata(page)), "items": .array([]),
        ]))
        bytes.removeLast(2)
        bytes.reserveCapacity(bytes.count + page.items.reduce(0) { $0 + $1.count + 1 } + 3)
        for (index, item) in page.items.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            bytes.append(contentsOf: item)
        }
        bytes.append(contentsOf: "]}".utf8)
        return APIHandler.json(bytes: bytes, warnings: Self.listWarnings(page, resource: resource))
    }

    private func render(list: ObjectList, resource: APIResource, representation negotiated: MediaTypes.Negotiated) throws(APIError) -> Response {
        let metadata = Self.listMetadata(list)
        let warnings = Self.listWarnings(list, resource: resource)
        switch negotiated.representation {
        case .object:
            return try APIHandler.object(.object([
                "kind": .string(resource.kind + "List"), "apiVersion": .string(resource.groupVersion),
                "metadata": .object(metadata), "items": .array(list.items.map(\.json)),
            ]), encoding: negotiated.encoding, warnings: warnings)
        case .table(let version):
            return APIHandler.json(TableConverter.table(for: resource, objects: list.items, listMetadata: metadata,
                                                        include: includeObject, apiVersion: "meta.k8s.io/\(version)"), warnings: warnings)
        case .partialMetadata(_, list: false):
            throw APIError(code: 406, reason: "NotAcceptable",
                           message: "you requested PartialObjectMetadata, but the requested object is a list (*\(resource.version).\(resource.kind)List)")
        case .partialMetadata(let version, list: true):
            return APIHandler.json(.object([
                "kind": .string("PartialObjectMetadataList"), "apiVersion": .string("meta.k8s.io/\(version)"),
                "metadata": .object(metadata),
                "items": .array(list.items.map { MediaTypes.Representation.partial($0, version: version) }),
            ]), warnings: warnings)
        }
    }

    /// The `Status` a DELETE answers for resources that do not return the object.
    static func success(resource: APIResource, object: KubeObject) -> JSONValue {
        var details: [String: JSONValue] = ["name": .string(object.name ?? ""), "kind": .string(resource.name)]
        if !resource.group.isEmpty { details["group"] = .string(resource.group) }
        if let uid = object.uid { details["uid"] = .string(uid) }
        return .object([
            "kind": .string("Status"), "apiVersion": .string("v1"), "metadata": .object([:]),
            "status": .string("Success"), "details": .object(details),
        ])
    }

    private func deleteCollection(store: ResourceStore, namespace: String?, options: DeleteOptions,
                                  context: StrategyContext, encoding: MediaTypes.Encoding) async throws(APIError) -> Response {
        let list = try await store.list(namespace: namespace, options: try ListOptions(query: query))
        var deleted: [JSONValue] = []
        for item in list.items {
            guard let name = item.name else { continue }
            do {
                switch try await service.delete(resource: store.resource, namespace: item.namespace, name: name, options: options, context: context) {
                case .deleted(let object), .pending(let object): deleted.append(object.json)
                }
            } catch where error.code == 404 {
                continue
            }
        }
        return try APIHandler.object(.object([
            "kind": .string(store.resource.kind + "List"), "apiVersion": .string(store.resource.groupVersion),
            "metadata": .object(["resourceVersion": .string("")]), "items": .array(deleted),
        ]), encoding: encoding)
    }
}
