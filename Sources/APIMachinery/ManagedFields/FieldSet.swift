import KubeAPI

/// A set of field paths, stored as a tree (structured-merge-diff `fieldpath.Set`): at each
/// level the elements that are themselves in the set (`members`) and the subtrees below
/// elements (`children`). An element can be both: a list element owned as a whole and
/// fields inside it (`".": {}` in `fieldsV1`). Subtrees are never empty.
package struct FieldSet: Hashable, Sendable {
    package var members: Set<FieldPathElement> = []
    package var children: [FieldPathElement: FieldSet] = [:]

    package init() {}

    package init(_ paths: [[FieldPathElement]]) {
        for path in paths { insert(path) }
    }

    package var isEmpty: Bool { members.isEmpty && children.isEmpty }

    package mutating func insert(_ path: some Collection<FieldPathElement>) {
        guard let first = path.first else { return }
        let rest = path.dropFirst()
        if rest.isEmpty {
            members.insert(first)
        } else {
            children[first, default: FieldSet()].insert(rest)
        }
    }

    package func contains(_ path: some Collection<FieldPathElement>) -> Bool {
        guard let first = path.first else { return false }
        let rest = path.dropFirst()
        if rest.isEmpty { return members.contains(first) }
        return children[first]?.contains(rest) ?? false
    }

    /// The subtree below `element` (`WithPrefix`).
    package func below(_ element: FieldPathElement) -> FieldSet {
        children[element] ?? FieldSet()
    }

    package func union(_ other: FieldSet) -> FieldSet {
        var result = self
        result.members.formUnion(other.members)
        for (element, subtree) in other.children {
            result.children[element] = result.children[element].map { $0.union(subtree) } ?? subtree
        }
        return result
    }

    /// Paths of this set that `other` does not hold; a member of `other` does not take the
    /// paths below it away (that is `recursiveDifference`).
    package func difference(_ other: FieldSet) -> FieldSet {
        var result = FieldSet()
        result.members = members.subtracting(other.members)
        for (element, subtree) in children {
            if let theirs = other.children[element] {
                let rest = subtree.difference(theirs)
                if !rest.isEmpty { result.children[element] = rest }
            } else {
                result.children[element] = subtree
            }
        }
        return result
    }

    /// Like `difference`, but a member of `other` also removes everything below it.
    package func recursiveDifference(_ other: FieldSet) -> FieldSet {
        var result = FieldSet()
        result.members = members.subtracting(other.members)
        for (element, subtree) in children where !other.members.contains(element) {
            let rest = other.children[element].map { subtree.recursiveDifference($0) } ?? subtree
            if !rest.isEmpty { result.children[element] = rest }
        }
        return result
    }

    package func intersection(_ other: FieldSet) -> FieldSet {
        var result = FieldSet()
        result.members = members.intersection(other.members)
        for (element, subtree) in children {
            guard let theirs = other.children[element] else { continue }
            let both = subtree.intersection(theirs)
            if !both.isEmpty { result.children[element] = both }
        }
        return result
    }

    /// Every path of the set, members of a level before its subtrees, each in upstream's
    /// element order (`Iterate`).
    package var paths: [[FieldPathElement]] {
        var result: [[FieldPathElement]] = []
        collect(prefix: [], into: &result)
        return result
    }

    private func collect(prefix: [FieldPathElement], into result: inout [[FieldPathElement]]) {
        for member in members.sorted() { result.append(prefix + [member]) }
        for element in children.keys.sorted() {
            children[element]?.collect(prefix: prefix + [element], into: &result)
        }
    }

    // MARK: - fieldsV1

    /// The `fieldsV1` form: an object keyed by serialized elements; an empty object is a
    /// member with nothing below it, `".": {}` marks an element that is a member and has a
    /// subtree.
    package var fieldsV1: JSONValue {
        var object: [String: JSONValue] = [:]
        for member in members where children[member] == nil {
            object[member.serialized] = .object([:])
        }
        for (element, subtree) in children {
            var inner = subtree.fieldsV1.objectValue ?? [:]
            if members.contains(element) { inner["."] = .object([:]) }
            object[element.serialized] = .object(inner)
        }
        return .object(object)
    }

    /// Reads `fieldsV1`. Unknown element types are skipped, as upstream does.
    package init(fieldsV1 value: JSONValue) throws(FieldsV1Error) {
        guard case .object(let object) = value else { throw FieldsV1Error("fieldsV1 must be an object") }
        try self.init(level: object, depth: 0)
    }

    private init(level object: [String: JSONValue], depth: Int) throws(FieldsV1Error) {
        guard depth < 64 else { throw FieldsV1Error("fieldsV1 nested deeper than 64 levels") }
        for (key, value) in object where key != "." {
            guard let element = try FieldPathElement(serialized: key) else { continue }
            guard case .object(let inner) = value else { throw FieldsV1Error("the value of \(key) must be an object") }
            if inner.isEmpty || inner["."] != nil { members.insert(element) }
            let subtree = try FieldSet(level: inner, depth: depth + 1)
            if !subtree.isEmpty { children[element] = subtree }
        }
    }
}
