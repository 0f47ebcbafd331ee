import APIMachinery
import KubeAPI
import Storage

extension ResourceStore {
    /// A list page: objects matching the selectors, the revision it reflects, and a continue
    /// token when `limit` cut it short.
    package func list(namespace: String?, options: ListOptions) async throws(APIError) -> ObjectList {
        let page = try await page(namespace: namespace, options: options) { stored -> PageEntry<KubeObject> in
            // An entry that cannot be decoded is left out and reported, not allowed to fail
            // the list of all its neighbours (upstream fails the whole list with
            // StorageReadError; every controller would stall on one bad key).
            guard let object = try? object(from: stored) else { return .unreadable }
            return matches(object, options) ? .item(object) : .skipped
        }
        var list = ObjectList(items: page.items, revision: page.revision, continueToken: page.continueToken,
                              remainingItemCount: page.remainingItemCount)
        list.unreadableKeys = page.unreadableKeys
        return list
    }

    /// `list` as the JSON of each item, in member order with its resourceVersion, for a JSON
    /// list response: entries stored in member order are served as stored with the version
    /// spliced in (`StoredJSON`), parsed only when a selector must look inside. Nil for a
    /// resource served over another's stored form (the conversion needs the object).
    package func listJSON(namespace: String?, options: ListOptions) async throws(APIError) -> ListPage<[UInt8]>? {
        guard conversion == nil else { return nil }
        let selects = !options.labelSelector.isEmpty || !options.fieldSelector.isEmpty
        return try await page(namespace: namespace, options: options) { stored -> PageEntry<[UInt8]> in
            if selects {
                guard let object = try? object(from: stored) else { return .unreadable }
                guard matches(object, options) else { return .skipped }
            }
            var bytes: [UInt8] = []
            if StoredJSON.append(stored.value, resourceVersion: String(stored.revision), to: &bytes) {
                return .item(bytes)
            }
            // Stored before objects were kept in member order: parse and write it.
            guard let object = try? object(from: stored) else { return .unreadable }
            return .item(JSONSerializer.serializeInTypeOrder(object.json))
        }
    }

    /// How one stored entry enters a page.
    enum PageEntry<Item> {
        case item(Item)
        /// Not selected.
        case skipped
        /// Cannot be decoded: left out and its key reported.
        case unreadable
    }

    /// The one list walk behind `list` and `listJSON`: reads the prefix (at the continue
    /// token's revision when there is one), starts after the token's key, makes each entry an
    /// item with `entry`, and cuts the page at `limit` with a continue token and, without
    /// selectors, the count of the rest (as kube-apiserver's etcd3 store does).
    func page<Item>(namespace: String?, options: ListOptions,
                    entry: (StoredObject) -> PageEntry<Item>) async throws(APIError) -> ListPage<Item> {
        try checkFieldSelector(options)
        let prefix = prefix(namespace: namespace)
        var start = ""
        let list: StorageList
        do {
            if let token = try options.continueToken.map({ (text) throws(APIError) in try ContinueToken(decoding: text) }) {
                start = token.start
                do {
                    list = try await storage.list(prefix: prefix, atRevision: token.rv)
                } catch StorageError.expired {
                    throw APIError.expired("The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.")
                }
            } else {
                list = try await storage.list(prefix: prefix)
                // Any version at least as new as the one asked for will do; a future one cannot.
                if let requested = try options.revision(), requested > list.revision {
                    throw APIError.tooLargeResourceVersion(requested: requested, current: list.revision)
                }
            }
        } catch {
            throw translate(error, name: "")
        }
        var page = ListPage<Item>(items: [], revision: list.revision)
        var lastKey: Substring?
        var remaining = 0
        let scans = fieldScans(options)
        for stored in list.objects {
            let relative = stored.key.dropFirst(resource.keyPrefix.count)
            if !start.isEmpty, relative < start { continue }
            if !mayMatch(stored, scans) { continue }
            let item: Item
            switch entry(stored) {
            case .item(let made): item = made
            case .skipped: continue
            case .unreadable:
                page.unreadableKeys.append(stored.key)
                continue
            }
            if let limit = options.limit, page.items.count >= limit {
                remaining += 1
                if page.continueToken == nil, let lastKey {
                    page.continueToken = ContinueToken(rv: list.revision, start: lastKey + "\u{0}").encoded
                }
                continue
            }
            page.items.append(item)
            lastKey = relative
        }
        let countRemaining = options.labelSelector.isEmpty && options.fieldSelector.isEmpty
        if page.continueToken != nil, countRemaining { page.remainingItemCount = remaining }
        return page
    }

    /// The first object of `namespace` that passes `options`' selectors and `predicate`, parsed
    /// one stored entry at a time and no further than the first match. For questions such as
    /// the Node authorizer's "does a pod on this node name that ConfigMap?", asked at every pod
    /// start: a full list parsed every pod of the namespace each time (100 pods starting on a
    /// node cost 10,000 pod parses).
    package func first(namespace: String?, options: ListOptions,
                       where predicate: (KubeObject) -> Bool) async throws(APIError) -> KubeObject? {
        try checkFieldSelector(options)
        let list: StorageList
        do {
            list = try await storage.list(prefix: prefix(namespace: namespace))
        } catch {
            throw translate(error, name: "")
        }
        let scans = fieldScans(options)
        for stored in list.objects where mayMatch(stored, scans) {
            guard let object = try? object(from: stored) else { continue }
            if matches(object, options), predicate(object) { return object }
        }
        return nil
    }

    /// The member each `key=value` field selector term needs in a stored entry, for
    /// `StoredJSON.mayHave`: the last step of the field's path in the object (`nodeName` for
    /// `spec.nodeName`) and the value. Negated and empty terms match entries that lack the
    /// member, so they rule nothing out; `metadata.*` are read from the key's object as a whole.
    /// None for a resource served over another's stored form (events.k8s.io/v1 over core
    /// Events): its fields' paths are in the converted object, not in the stored bytes.
    func fieldScans(_ options: ListOptions) -> [(key: String, value: String)] {
        guard conversion == nil else { return [] }
        return options.fieldSelector.terms.compactMap { term in
            guard !term.negated, !term.value.isEmpty, let key = resource.selectableFields[term.field]?.last else { return nil }
            return (key, term.value)
        }
    }

    /// False when a stored entry cannot pass the field selector terms `scans` came from.
    func mayMatch(_ stored: StoredObject, _ scans: [(key: String, value: String)]) -> Bool {
        scans.allSatisfy { StoredJSON.mayHave(stored.value, key: $0.key, value: $0.value) }
    }

    /// Whether an object passes the label and field selectors of `options`.
    func matches(_ object: KubeObject, _ options: ListOptions) -> Bool {
        options.labelSelector.matches(object.labels) && options.fieldSelector.matches { field in fieldValue(field, of: object) }
    }

    /// A selectable field's value as a field selector compares it.
    func fieldValue(_ field: String, of object: KubeObject) -> String {
        switch field {
        case "metadata.name": return object.name ?? ""
        case "metadata.namespace": return object.namespace ?? ""
        default:
            guard let path = resource.selectableFields[field], let value = object.value(at: path) else { return "" }
            switch value {
            case .string(let text): return text
            case .bool(let flag): return flag ? "true" : "false"
            case .int(let number): return String(number)
            default: return ""
            }
        }
    }

    func checkFieldSelector(_ options: ListOptions) throws(APIError) {
        for term in options.fieldSelector.terms {
            let field = term.field
            guard field == "metadata.name" || field == "metadata.namespace" || resource.selectableFields[field] != nil else {
                // kubectl prefixes this with `Unable to find "/v1, Resource=pods" that match ...`.
                throw APIError.badRequest("field label not supported: \(field)")
            }
        }
    }
}
