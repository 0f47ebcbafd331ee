import KubeAPI

extension JSONSerializer {
    /// `value` as kube-apiserver writes it: an object's members in its Go struct's field order
    /// (`kind`, `apiVersion`, `metadata`, `spec`, `status`; a container's `name` before its
    /// `image`), maps' keys sorted, and members the type does not declare after the declared
    /// ones, sorted. The type of an object is found from its `kind` and `apiVersion` (and
    /// `items` of a `...List` from the list's kind), then followed through the schema; objects
    /// of unknown types keep the stored order (`apiVersion`, `kind`, `metadata`, the rest
    /// sorted). Some clients compare bodies or grep fields in this order.
    package static func serializeInTypeOrder(_ value: JSONValue) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(1024)
        TypeOrder.write(value, type: nil, to: &out)
        return out
    }
}

/// The member order of each definition, built once.
enum TypeOrder {
    struct Member {
        let position: Int
        /// The message of the member's value (of its elements or map values), nil for scalars.
        let type: String?
        let isMap: Bool
    }

    static let members: [String: [String: Member]] = {
        var result: [String: [String: Member]] = [:]
        for (name, definition) in TypeSchema.definitions {
            var members: [String: Member] = [:]
            for (position, property) in definition.properties.enumerated() {
                let type = property.isScalar || TypeSchema.nativeMessages.contains(property.type) ? nil : property.type
                members[property.name] = Member(position: position, type: type, isMap: property.map)
            }
            result[name] = members
        }
        return result
    }()

    /// The message of a top-level object from its `kind` and `apiVersion`.
    static func message(of members: [String: JSONValue]) -> String? {
        guard let kind = members["kind"]?.stringValue, let apiVersion = members["apiVersion"]?.stringValue else { return nil }
        let group = apiVersion.contains("/") ? String(apiVersion.split(separator: "/").first ?? "") : ""
        let name = TypeSchema.messageName(group: group, kind: kind)
        return Self.members[name] != nil ? name : nil
    }

    static func write(_ value: JSONValue, type: String?, to out: inout [UInt8]) {
        switch value {
        case .array(let elements):
            out.append(UInt8(ascii: "["))
            for (position, element) in elements.enumerated() {
                if position > 0 { out.append(UInt8(ascii: ",")) }
                write(element, type: type, to: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let members):
            // Raw JSON (a watch event's object, a table row's) says its own type.
            let type = type.flatMap { Self.members[$0] != nil ? $0 : nil } ?? message(of: members)
            if type == nil, let kind = members["kind"]?.stringValue, kind.hasSuffix("List"), members["items"] != nil,
               let apiVersion = members["apiVersion"]?.stringValue {
                // A list of a served kind (`metav1.List` shape): its items are of the kind.
                let item = message(of: ["kind": .string(String(kind.dropLast(4))), "apiVersion": .string(apiVersion)])
                writeObject(members, declared: ["metadata": Member(position: 0, type: "ListMeta", isMap: false),
                                                "items": Member(position: 1, type: item, isMap: false)], known: true, to: &out)
                return
            }
            writeObject(members, declared: type.flatMap { Self.members[$0] } ?? [:], known: type != nil, to: &out)
        default:
            JSONSerializer.write(value, to: &out)
        }
    }

    private static func writeObject(_ members: [String: JSONValue], declared: [String: Member], known: Bool, to out: inout [UInt8]) {
        let keys = members.keys.sorted { lhs, rhs in
            let left = rank(lhs, declared, known: known), right = rank(rhs, declared, known: known)
            return left != right ? left < right : lhs < rhs
        }
        out.append(UInt8(ascii: "{"))
        for (position, key) in keys.enumerated() {
            guard let member = members[key] else { continue }
            if position > 0 { out.append(UInt8(ascii: ",")) }
            JSONSerializer.writeString(key, to: &out)
            out.append(UInt8(ascii: ":"))
            if let field = declared[key], field.isMap, case .object(let entries) = member {
                // A map: keys sorted as Go writes them, values of the map's type.
                out.append(UInt8(ascii: "{"))
                for (index, entry) in entries.keys.sorted().enumerated() {
                    if index > 0 { out.append(UInt8(ascii: ",")) }
                    JSONSerializer.writeString(entry, to: &out)
                    out.append(UInt8(ascii: ":"))
                    write(entries[entry] ?? .null, type: field.type, to: &out)
                }
                out.append(UInt8(ascii: "}"))
            } else {
                write(member, type: declared[key]?.type, to: &out)
            }
        }
        out.append(UInt8(ascii: "}"))
    }

    /// TypeMeta's members first (`kind`, then `apiVersion`), then `metadata` for objects of
    /// unknown types, then the declared members in order, then the rest.
    private static func rank(_ key: String, _ declared: [String: Member], known: Bool) -> Int {
        switch key {
        case "kind": return 0
        case "apiVersion": return 1
        case "metadata" where !known: return 2
        default:
            if let member = declared[key] { return 3 + member.position }
            return Int.max
        }
    }
}
