import Foundation
import KubeAPI

/// Checks an object's JSON against the fields of its Kubernetes type (`TypeSchema`), as
/// kube-apiserver does by decoding every body into the type's Go struct with
/// sigs.k8s.io/json:
/// - members the type does not have are unknown fields: they are dropped (Go's decoder never
///   stores them) and reported, so `fieldValidation` can warn about them (Warn, the default)
///   or refuse the request (Strict); field names are case-sensitive;
/// - a member of the wrong JSON type is an error in every mode
///   (`json: cannot unmarshal number into Go struct field ConfigMap.data of type string`);
/// - numbers JSON cannot represent are errors (`json: unsupported value: +Inf`).
/// `null` is accepted anywhere, as Go leaves the field at its zero value.
///
/// One walker for every type, driven by the table, rather than a check per resource: the
/// strategies then see only fields their type has.
/// See https://kubernetes.io/docs/reference/using-api/api-concepts/#field-validation
package enum SchemaValidator {
    /// What the walk found.
    package struct Outcome: Sendable {
        /// The object without its unknown fields.
        package var value: JSONValue
        /// Field paths of the unknown members, in document order of the walk
        /// (`spec.containers[0].foo`), at most `maximumReported`.
        package var unknownFields: [String]
        /// How many unknown members there were in all.
        package var unknownCount: Int
    }

    /// A member whose JSON type the Go field cannot take.
    package struct TypeMismatch: Error, CustomStringConvertible, Sendable {
        /// Kubernetes' field path of the member (`data[a]`, `spec.replicas`).
        package let path: String
        /// Go's wording (`json: cannot unmarshal number into Go struct field ConfigMap.data of type string`).
        package let message: String

        package var description: String { message }
    }

    /// The most unknown fields listed in a warning or an error; more are counted.
    package static let maximumReported = 100

    /// Whether the schema knows `kind` (objects of other kinds are not checked).
    package static func knows(kind: String) -> Bool {
        TypeSchema.jsonFields[kind] != nil
    }

    /// Walks `object`, an object of type `kind`; nil when the schema does not know the kind.
    package static func check(_ object: JSONValue, kind: String) throws(TypeMismatch) -> Outcome? {
        guard knows(kind: kind) else { return nil }
        var walker = Walker()
        let value = try walker.message(object, name: kind, path: "", goPath: "", subject: "", root: true)
        return Outcome(value: value, unknownFields: walker.unknown, unknownCount: walker.unknownCount)
    }

    private struct Walker {
        var unknown: [String] = []
        var unknownCount = 0

        /// `subject` names the field for errors (`Deployment.spec`); empty for the whole object.
        mutating func message(_ value: JSONValue, name: String, path: String, goPath: String, subject: String,
                              root: Bool = false) throws(TypeMismatch) -> JSONValue {
            switch name {
            case "Time", "MicroTime", "Duration":
                guard case .string = value else { throw mismatch(value, path, subject, type: "v1.\(name)") }
                return value
            case "IntOrString":
                switch value {
                case .string, .int: return value
                case .double(let number) where number.isFinite && number.rounded() == number && abs(number) < 2_147_483_648:
                    return .int(Int64(number))
                default: throw mismatch(value, path, subject, type: "intstr.IntOrString")
                }
            case "Quantity":
                switch value {
                case .string, .int: return value
                case .double(let number) where number.isFinite: return value
                default: throw mismatch(value, path, subject, type: "resource.Quantity")
                }
            case "RawExtension":
                return try finite(value, path: path)
            case "FieldsV1":
                guard case .object = value else { throw mismatch(value, path, subject, type: "v1.FieldsV1") }
                return try finite(value, path: path)
            default:
                break
            }
            guard case .object(let members) = value else { throw mismatch(value, path, subject, type: "v1.\(name)") }
            let fields = TypeSchema.jsonFields[name] ?? [:]
            var result: [String: JSONValue] = [:]
            result.reserveCapacity(members.count)
            // Sorted, so that the unknown fields reported (and the first error) do not depend
            // on dictionary order.
            for key in members.keys.sorted() {
                guard let member = members[key] else { continue }
                let memberPath = FieldPath.appending(key, to: path)
                if root, key == "apiVersion" || key == "kind" {
                    guard case .string = member else { throw mismatch(member, memberPath, "\(name).\(key)", type: "string") }
                    result[key] = member
                    continue
                }
                guard let field = fields[key] else {
                    unknownCount += 1
                    if unknown.count < SchemaValidator.maximumReported { unknown.append(memberPath) }
                    continue
                }
                let memberGoPath = goPath.isEmpty ? key : goPath + "." + key
                // Go names the struct without the group prefix the tables use (`discovery.v1.EndpointConditions`).
                result[key] = try self.field(member, field, structName: Self.goName(name), path: memberPath, goPath: memberGoPath)
            }
            return .object(result)
        }

        mutating func field(_ value: JSONValue, _ field: TypeSchema.Field, structName: String, path: String,
                            goPath: String) throws(TypeMismatch) -> JSONValue {
            if case .null = value { return value }
            guard field.repeated else {
                return try single(value, field.type, structName: structName, path: path, goPath: goPath)
            }
            guard case .array(let elements) = value else {
                throw mismatch(value, path, "\(structName).\(goPath)", type: "[]" + goType(field.type))
            }
            var result: [JSONValue] = []
            result.reserveCapacity(elements.count)
            for (index, element) in elements.enumerated() {
                if case .null = element {
                    result.append(element)
                    continue
                }
                result.append(try single(element, field.type, structName: structName,
                                         path: FieldPath.appending(index: index, to: path), goPath: goPath))
            }
            return .array(result)
        }

        mutating func single(_ value: JSONValue, _ type: TypeSchema.FieldType, structName: String, path: String,
                             goPath: String) throws(TypeMismatch) -> JSONValue {
            let qualified = "\(structName).\(goPath)"
            switch type {
            case .string, .bytes:
                // []byte is base64 text in JSON; the strategies check the alphabet where it matters.
                guard case .string = value else { throw mismatch(value, path, qualified, type: goType(type)) }
                return value
            case .bool:
                guard case .bool = value else { throw mismatch(value, path, qualified, type: "bool") }
                return value
            case .integer:
                switch value {
                case .int: return value
                case .double(let number) where number.isFinite && number.rounded() == number && abs(number) < 9.2e18:
                    // YAML's `3.0` or JSON's `3e0`: an integral number, stored as the integer.
                    return .int(Int64(number))
                default: throw mismatch(value, path, qualified, type: "integer")
                }
            case .double, .float:
                switch value {
                case .int: return value
                case .double(let number) where number.isFinite: return value
                default: throw mismatch(value, path, qualified, type: goType(type))
                }
            case .map(_, let valueType):
                guard case .object(let members) = value else { throw mismatch(value, path, qualified, type: goType(type)) }
                var result: [String: JSONValue] = [:]
                result.reserveCapacity(members.count)
                for key in members.keys.sorted() {
                    guard let member = members[key] else { continue }
                    if case .null = member {
                        result[key] = member
                        continue
                    }
                    result[key] = try single(member, valueType, structName: structName, path: FieldPath.appending(key, to: path), goPath: goPath)
                }
                return .object(result)
            case .message(let name):
                return try message(value, name: name, path: path, goPath: goPath, subject: qualified)
            }
        }

        /// Raw JSON is kept as it is, but still has to be JSON.
        func finite(_ value: JSONValue, path: String) throws(TypeMismatch) -> JSONValue {
            do {
                _ = try JSONSerializer.checkedSerialize(value)
            } catch {
                throw TypeMismatch(path: path, message: "\(path): \(error)")
            }
            return value
        }

        /// Go's `UnmarshalTypeError` text.
        func mismatch(_ value: JSONValue, _ path: String, _ subject: String, type: String) -> TypeMismatch {
            if case .double(let number) = value, !number.isFinite {
                return TypeMismatch(path: path, message: "\(path): \(JSONSerializer.unsupportedNumber(number))")
            }
            let found: String
            switch value {
            case .null: found = "null"
            case .bool: found = "bool"
            case .int(let number): found = "number \(number)"
            case .double(let number): found = "number \(JSONSerializer.goFloat(number))"
            case .string: found = "string"
            case .array: found = "array"
            case .object: found = "object"
            }
            let target = subject.isEmpty ? "Go value" : "Go struct field \(subject)"
            return TypeMismatch(path: path, message: "json: cannot unmarshal \(found) into \(target) of type \(type)")
        }

        /// The Go type's name of a message (`EndpointConditions` for `discovery.v1.EndpointConditions`).
        static func goName(_ message: String) -> String {
            message.split(separator: ".").last.map(String.init) ?? message
        }

        func goType(_ type: TypeSchema.FieldType) -> String {
            switch type {
            case .string: return "string"
            case .integer: return "integer"
            case .bool: return "bool"
            case .bytes: return "[]uint8"
            case .double: return "float64"
            case .float: return "float32"
            case .message(let name): return "v1.\(Self.goName(name))"
            case .map(_, let value): return "map[string]" + goType(value)
            }
        }
    }
}
