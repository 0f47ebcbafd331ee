import KubeAPI

/// The walks server-side apply makes over objects, following their schema
/// (structured-merge-diff's `typed` package: ToFieldSet, Compare, Merge, RemoveItems).
/// Values that do not have the shape the schema gives (an object where a list is expected)
/// are treated as leaves; the API's validation refuses them later.
package struct StructuredValue: Sendable {
    package let schema: any MergeSchema

    package init(schema: any MergeSchema) {
        self.schema = schema
    }

    /// An element that cannot be identified: an element of a keyed list without a key field.
    package struct ElementError: Error, CustomStringConvertible, Sendable {
        package let description: String
    }

    /// What changed between two versions of an object (`typed.Comparison`).
    package struct Comparison: Sendable {
        package var added = FieldSet()
        package var modified = FieldSet()
        package var removed = FieldSet()

        package var isEmpty: Bool { added.isEmpty && modified.isEmpty && removed.isEmpty }

        /// Without `fields` and everything below them (`ExcludeFields`).
        package func excluding(_ fields: FieldSet) -> Comparison {
            Comparison(added: added.recursiveDifference(fields), modified: modified.recursiveDifference(fields),
                       removed: removed.recursiveDifference(fields))
        }
    }

    // MARK: - Field sets

    /// The fields `value` sets: its leaves, the elements of its granular lists, and its empty
    /// or null struct fields and map entries.
    package func fieldSet(of value: JSONValue, shape: MergeShape) throws(ElementError) -> FieldSet {
        var set = FieldSet()
        try collect(value, shape: shape, path: [], into: &set)
        return set
    }

    private func collect(_ value: JSONValue, shape: MergeShape, path: [FieldPathElement], into set: inout FieldSet) throws(ElementError) {
        switch (shape, value) {
        case (.structure(let structure), .object(let members)):
            let named = schema.fields(of: structure) ?? [:]
            for (name, member) in members {
                let childPath = path + [.field(name)]
                try collect(member, shape: named[name] ?? .leaf, path: childPath, into: &set)
                if member == .null || member == .object([:]) || named[name] == nil { set.insert(childPath) }
            }
        case (.map(let element), .object(let members)):
            for (name, member) in members {
                let childPath = path + [.field(name)]
                try collect(member, shape: element, path: childPath, into: &set)
                set.insert(childPath)
            }
        case (.set, .array(let items)), (.keyedList, .array(let items)):
            let elements = try identify(items, shape: shape, path: path)
            var counts: [FieldPathElement: Int] = [:]
            for element in elements { counts[element, default: 0] += 1 }
            for (item, element) in zip(items, elements) {
                let childPath = path + [element]
                // Duplicates are owned as a whole, never field by field.
                if counts[element, default: 0] == 1 { try collect(item, shape: elementShape(shape), path: childPath, into: &set) }
                set.insert(childPath)
            }
        default:
            set.insert(path)
        }
    }

    private func elementShape(_ shape: MergeShape) -> MergeShape {
        if case .keyedList(let element, _, _) = shape { return element }
        return .leaf
    }

    private func identify(_ items: [JSONValue], shape: MergeShape, path: [FieldPathElement]) throws(ElementError) -> [FieldPathElement] {
        var elements: [FieldPathElement] = []
        for (index, item) in items.enumerated() {
            guard let element = schema.element(for: item, in: shape) else {
                var keys = ""
                if case .keyedList(_, let names, _) = shape { keys = names.joined(separator: ", ") }
                throw ElementError(description: "\(path.pathDescription): element \(index): associative list with keys has an element that omits key field(s) \(keys)")
            }
            elements.append(element)
        }
        return elements
    }

    // MARK: - Compare

    package func compare(_ old: JSONValue, _ new: JSONValue, shape: MergeShape) throws(ElementError) -> Comparison {
        var comparison = Comparison()
        try compare(old, new, shape: shape, path: [], into: &comparison)
        return comparison
    }

    private func compare(_ lhs: JSONValue?, _ rhs: JSONValue?, shape: MergeShape, path: [FieldPathElement],
                         into comparison: inout Comparison) throws(ElementError) {
        var inLeaf = false
        func leaf() {
            inLeaf = true
            if lhs == nil { comparison.added.insert(path) }
            else if rhs == nil { comparison.removed.insert(path) }
            else if lhs != rhs { comparison.modified.insert(path) }
        }
        switch shape {
        case .structure, .map:
            if let left = Self.members(lhs), let right = Self.members(rhs), !(left.isEmpty && right.isEmpty) {
                let keys = Set(left.keys).union(right.keys)
                for key in keys {
                    try compare(left[key], right[key], shape: schema.childShape(shape, field: key), path: path + [.field(key)], into: &comparison)
                }
            } else {
                leaf()
            }
        case .set, .keyedList:
            if let left = Self.items(lhs), let right = Self.items(rhs), !(left.isEmpty && right.isEmpty) {
                try compareItems(left, right, shape: shape, path: path, into: &comparison)
            } else {
                leaf()
            }
        case .leaf:
            leaf()
        }
        if !inLeaf {
            if lhs == nil { comparison.added.insert(path) }
            else if rhs == nil { comparison.removed.insert(path) }
        }
    }

    private func compareItems(_ lhs: [JSONValue], _ rhs: [JSONValue], shape: MergeShape, path: [FieldPathElement],
                              into comparison: inout Comparison) throws(ElementError) {
        let leftElements = try identify(lhs, shape: shape, path: path)
        let rightElements = try identify(rhs, shape: shape, path: path)
        var left: [FieldPathElement: [JSONValue]] = [:], right: [FieldPathElement: [JSONValue]] = [:]
        var order: [FieldPathElement] = []
        for (item, element) in zip(lhs, leftElements) {
            if left[element] == nil { order.append(element) }
            left[element, default: []].append(item)
        }
        for (item, element) in zip(rhs, rightElements) {
            if right[element] == nil, left[element] == nil { order.append(element) }
            right[element, default: []].append(item)
        }
        let child = elementShape(shape)
        for element in order {
            let l = left[element] ?? [], r = right[element] ?? []
            switch (l.count, r.count) {
            case (0...1, 0...1):
                try compare(l.first, r.first, shape: child, path: path + [element], into: &comparison)
            case (2..., 2...):
                if l != r { comparison.modified.insert(path + [element]) }
            case (2..., _):
                if let first = r.first { try compare(nil, first, shape: child, path: path + [element], into: &comparison) }
                comparison.removed.insert(path + [element])
            default:
                if let first = l.first { try compare(first, nil, shape: child, path: path + [element], into: &comparison) }
                comparison.added.insert(path + [element])
            }
        }
    }

    /// An object's members; an empty map for an absent or null value; nil for other values.
    private static func members(_ value: JSONValue?) -> [String: JSONValue]? {
        switch value {
        case nil, .null?: return [:]
        case .object(let members)?: return members
        default: return nil
        }
    }

    private static func items(_ value: JSONValue?) -> [JSONValue]? {
        switch value {
        case nil, .null?: return []
        case .array(let items)?: return items
        default: return nil
        }
    }

    // MARK: - Merge

    /// `config` merged into `live`: config's leaves win, structs and maps merge member by
    /// member, granular lists element by element keeping both sides' order (`typed.Merge`).
    package func merge(_ live: JSONValue, _ config: JSONValue, shape: MergeShape) throws(ElementError) -> JSONValue {
        try merge(Optional(live), Optional(config), shape: shape, path: []) ?? .object([:])
    }

    private func merge(_ lhs: JSONValue?, _ rhs: JSONValue?, shape: MergeShape, path: [FieldPathElement]) throws(ElementError) -> JSONValue? {
        guard let rhs else { return lhs }
        guard let lhs else { return rhs }
        switch shape {
        case .structure, .map:
            guard let left = Self.members(lhs), let right = Self.members(rhs), !(left.isEmpty && right.isEmpty) else { return rhs }
            var out: [String: JSONValue] = [:]
            for key in Set(left.keys).union(right.keys) {
                out[key] = try merge(left[key], right[key], shape: schema.childShape(shape, field: key), path: path + [.field(key)])
            }
            return out.isEmpty ? nil : .object(out)
        case .set, .keyedList:
            guard let left = Self.items(lhs), let right = Self.items(rhs), !(left.isEmpty && right.isEmpty) else { return rhs }
            let out = try mergeItems(left, right, shape: shape, path: path)
            return out.isEmpty ? nil : .array(out)
        case .leaf:
            return rhs
        }
    }

    /// Upstream's list merge (`visitListItems` in typed/merge.go): the live list's order,
    /// with the elements both lists hold in the config's order and the config's new elements
    /// placed after the shared element that precedes them there.
    private func mergeItems(_ lhs: [JSONValue], _ rhs: [JSONValue], shape: MergeShape, path: [FieldPathElement]) throws(ElementError) -> [JSONValue] {
        let leftElements = try identify(lhs, shape: shape, path: path)
        let rightElements = try identify(rhs, shape: shape, path: path)
        var right: [FieldPathElement: JSONValue] = [:]
        for (item, element) in zip(rhs, rightElements) {
            if right[element] != nil {
                throw ElementError(description: "\(path.pathDescription): duplicate entries for key \(element)")
            }
            right[element] = item
        }
        var left: [FieldPathElement: JSONValue?] = [:]
        for (item, element) in zip(lhs, leftElements) {
            // A duplicated live element merges as if it were absent.
            left[element] = left[element] == nil ? .some(item) : .some(nil)
        }
        var shared = rightElements.filter { left[$0] != nil }[...]
        var nextShared = shared.popFirst()
        var merged: Set<FieldPathElement> = []
        var out: [JSONValue] = []
        let child = elementShape(shape)
        func take(_ element: FieldPathElement, _ l: JSONValue?, _ r: JSONValue?) throws(ElementError) {
            if let value = try merge(l, r, shape: child, path: path + [element]) { out.append(value) }
        }
        var li = 0, ri = 0
        while li < leftElements.count || ri < rightElements.count {
            if li < leftElements.count, ri < rightElements.count {
                let element = leftElements[li]
                if element == rightElements[ri] {
                    merged.insert(element)
                    try take(element, left[element] ?? nil, right[element])
                    li += 1; ri += 1
                    nextShared = shared.popFirst()
                    continue
                }
                if right[element] != nil, let next = nextShared, next != element {
                    li += 1
                    continue
                }
            }
            if li < leftElements.count {
                let element = leftElements[li]
                if right[element] == nil {
                    try take(element, lhs[li], nil)
                    li += 1
                    continue
                } else if merged.contains(element) {
                    li += 1
                }
            }
            if ri < rightElements.count {
                let element = rightElements[ri]
                merged.insert(element)
                try take(element, left[element] ?? nil, right[element])
                ri += 1
                if nextShared == element { nextShared = shared.popFirst() }
            }
        }
        return out
    }

    // MARK: - Remove

    /// `value` without the fields in `set`: a member goes with everything below it
    /// (`RemoveItems`). Structs, maps and lists left empty go too (nil).
    package func removing(_ set: FieldSet, from value: JSONValue, shape: MergeShape) throws(ElementError) -> JSONValue? {
        if set.isEmpty { return value }
        switch (shape, value) {
        case (.structure, .object(let members)), (.map, .object(let members)):
            if members.isEmpty { return value }
            var out: [String: JSONValue] = [:]
            for (name, member) in members {
                let element = FieldPathElement.field(name)
                if set.members.contains(element) { continue }
                if let below = set.children[element] {
                    if let kept = try removing(below, from: member, shape: schema.childShape(shape, field: name)) { out[name] = kept }
                } else {
                    out[name] = member
                }
            }
            return out.isEmpty ? nil : .object(out)
        case (.set, .array(let items)), (.keyedList, .array(let items)):
            if items.isEmpty { return value }
            let elements = try identify(items, shape: shape, path: [])
            var out: [JSONValue] = []
            for (item, element) in zip(items, elements) {
                if set.members.contains(element) { continue }
                if let below = set.children[element] {
                    if let kept = try removing(below, from: item, shape: elementShape(shape)) { out.append(kept) }
                } else {
                    out.append(item)
                }
            }
            return out.isEmpty ? nil : .array(out)
        default:
            return value
        }
    }

    /// `set` with every struct field that has fields below it also a member
    /// (`EnsureNamedFieldsAreMembers`): removing such a set removes the struct field when
    /// nothing else below it is kept. Map entries are not named fields.
    package func withNamedFieldsAsMembers(_ set: FieldSet, shape: MergeShape) -> FieldSet {
        var result = set
        for (element, subtree) in set.children {
            var child = MergeShape.leaf
            switch (shape, element) {
            case (.structure(let structure), .field(let name)):
                if schema.fields(of: structure)?[name] != nil {
                    result.members.insert(element)
                }
                child = schema.shape(of: name, in: structure)
            case (.map(let inner), .field):
                child = inner
            case (.keyedList(let inner, _, _), _):
                child = inner
            default:
                break
            }
            result.children[element] = withNamedFieldsAsMembers(subtree, shape: child)
        }
        return result
    }
}
