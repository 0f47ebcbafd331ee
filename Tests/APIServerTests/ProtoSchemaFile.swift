@testable import APIMachinery
@testable import APIServer
import APITestSupport
import Foundation

/// The proto2 `.proto` files `protoc --decode` reads the server's protobuf with, made at test
/// time from the server's own schema tables (`TypeSchema.messages`, and the meta/v1 messages
/// `ProtobufEncoder.metaMessages` adds): every field's number, label (optional, repeated, map)
/// and scalar type as `ProtobufEncoder` writes it, in the proto packages Kubernetes declares
/// them in (`k8s.io.api.core.v1.Pod`, `k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta`), one
/// file per package at its upstream import path (a .proto file has one package).
///
/// Upstream's generated.proto files are not in this repository, so the field numbers here
/// come from the tables, which the encoder reads too: protoc checks the wire format (tags,
/// wire types, lengths, nesting, map entries, the scalars' encodings) and that every value is
/// where the JSON has it. The numbers themselves are checked against upstream's by
/// `ProtobufResponseTests.protocRawReadsUpstreamFieldNumbers` (copied by hand). The
/// apimachinery messages whose JSON form is not their message (`Time`, `Quantity`,
/// `IntOrString`, `RawExtension`, `FieldsV1`, ...) are written in the encoder by code, not
/// from a table: they are declared here as upstream declares them, so protoc checks those
/// numbers against upstream's too.
enum ProtoSchemaFile {
    static let metaV1 = "k8s.io.apimachinery.pkg.apis.meta.v1"

    /// apimachinery's messages with JSON forms of their own, as upstream's generated.proto
    /// files declare them (k8s.io/apimachinery v0.32): package, name, fields.
    static let nativeMessages: [(package: String, name: String, fields: [String])] = [
        (metaV1, "Time", ["optional int64 seconds = 1;", "optional int32 nanos = 2;"]),
        (metaV1, "MicroTime", ["optional int64 seconds = 1;", "optional int32 nanos = 2;"]),
        (metaV1, "Duration", ["optional int64 duration = 1;"]),
        (metaV1, "FieldsV1", ["optional bytes Raw = 1;"]),
        ("k8s.io.apimachinery.pkg.runtime", "RawExtension", ["optional bytes raw = 1;"]),
        ("k8s.io.apimachinery.pkg.api.resource", "Quantity", ["optional string string = 1;"]),
        ("k8s.io.apimachinery.pkg.util.intstr", "IntOrString",
         ["optional int64 type = 1;", "optional int32 intVal = 2;", "optional string strVal = 3;"]),
    ]

    /// Writes every file under `directory` (which must exist) and returns their relative paths.
    static func write(to directory: String) throws -> [String] {
        let files = try sources()
        for (path, text) in files {
            let full = directory + "/" + path
            try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try text.write(toFile: full, atomically: false, encoding: .utf8)
        }
        return files.keys.sorted()
    }

    /// The proto package of a table message (`Pod` → `k8s.io.api.core.v1`).
    static func package(of name: String) -> String? {
        if let native = nativeMessages.first(where: { $0.name == name }) { return native.package }
        if let definition = TypeSchema.definition(of: name), !definition.protoPackage.isEmpty { return definition.protoPackage }
        // The meta/v1 messages the encoder adds (ListMeta, Status, WatchEvent, ...).
        return ProtobufEncoder.metaMessages[name] != nil ? metaV1 : nil
    }

    /// The message name within its package: the tables' `events.v1.Event` is `Event`.
    static func goName(_ name: String) -> String {
        name.split(separator: ".").last.map(String.init) ?? name
    }

    /// A package's file path, as upstream lays its files out (`k8s.io/api/core/v1/generated.proto`).
    static func path(of package: String) -> String {
        let labels = package.split(separator: ".").map(String.init)
        return ([labels.prefix(2).joined(separator: ".")] + labels.dropFirst(2)).joined(separator: "/") + "/generated.proto"
    }

    /// The files' text by path relative to the include directory
    /// (`k8s.io/api/core/v1/generated.proto`).
    static func sources() throws(TestFailure) -> [String: String] {
        // Message name → fields by number: the tables, the encoder's meta/v1 additions, and
        // every kind's list (`ListMeta metadata = 1; repeated X items = 2`, as the encoder
        // writes all of them).
        var messages = TypeSchema.messages
        for (name, fields) in ProtobufEncoder.metaMessages where messages[name] == nil { messages[name] = fields }
        for name in TypeSchema.messages.keys where TypeSchema.definition(of: name)?.isKind == true && messages[name + "List"] == nil {
            guard let fields = ProtobufEncoder.fields(of: name + "List") else { throw TestFailure("the encoder has no list of \(name)") }
            messages[name + "List"] = Dictionary(uniqueKeysWithValues: fields.map { ($0.number, $0.field) })
        }

        var bodies: [String: [String]] = [:]  // package → message declarations
        var imports: [String: Set<String>] = [:]  // package → packages it uses
        for (name, fields) in messages.sorted(by: { $0.key < $1.key }) {
            let owner = try packageOfMessage(name)
            var lines = ["message \(try identifier(goName(name))) {"]
            for (number, field) in fields.sorted(by: { $0.key < $1.key }) {
                lines.append("  " + (try declaration(number, field, in: name, imports: &imports[owner, default: []])))
            }
            lines.append("}")
            bodies[owner, default: []].append(lines.joined(separator: "\n"))
        }
        for native in nativeMessages {
            bodies[native.package, default: []].append((["message \(native.name) {"] + native.fields.map { "  " + $0 } + ["}"]).joined(separator: "\n"))
        }

        var files: [String: String] = [:]
        for (package, declarations) in bodies {
            let used = (imports[package] ?? []).subtracting([package]).sorted().map { "import \"\(path(of: $0))\";" }
            let header = ["// Made by Tests/APIServerTests/ProtoSchemaFile.swift from the server's schema tables.",
                          "syntax = \"proto2\";", "package \(package);"] + used
            files[path(of: package)] = (header + declarations).joined(separator: "\n") + "\n"
        }
        return files
    }

    /// The package of a table message or of a kind's list (`PodList`: Pod's).
    private static func packageOfMessage(_ name: String) throws(TestFailure) -> String {
        if name.hasSuffix("List"), package(of: name) == nil, let package = package(of: String(name.dropLast(4))) { return package }
        guard let package = package(of: name) else { throw TestFailure("no proto package for message \(name)") }
        return package
    }

    /// One field: `optional string name = 1;`, `repeated .k8s...Container containers = 2;`,
    /// `map<string, .k8s...Quantity> limits = 1;` (map entries are key 1, value 2, as written).
    private static func declaration(_ number: Int, _ field: TypeSchema.Field, in message: String,
                                    imports: inout Set<String>) throws(TestFailure) -> String {
        let name = try identifier(field.name)
        if case .map(let key, let value) = field.type {
            return "map<\(try typeName(key, imports: &imports)), \(try typeName(value, imports: &imports))> \(name) = \(number);"
        }
        return "\(field.repeated ? "repeated" : "optional") \(try typeName(field.type, imports: &imports)) \(name) = \(number);"
    }

    /// The proto type the encoder's writes read as: integers are varints of an Int64 (int32
    /// and int64 share that wire form), `[]byte` length-delimited, doubles and floats fixed.
    private static func typeName(_ type: TypeSchema.FieldType, imports: inout Set<String>) throws(TestFailure) -> String {
        switch type {
        case .string: return "string"
        case .integer: return "int64"
        case .bool: return "bool"
        case .bytes: return "bytes"
        case .double: return "double"
        case .float: return "float"
        case .message(let name):
            let package = try packageOfMessage(name)
            imports.insert(package)
            return "." + package + "." + goName(name)
        case .map: throw TestFailure("a map inside a map has no proto form")
        }
    }

    /// `name` when protoc takes it as an identifier; a table name it would not take fails the test.
    private static func identifier(_ name: String) throws(TestFailure) -> String {
        guard let first = name.unicodeScalars.first, first == "_" || first.properties.isAlphabetic, first.isASCII,
              name.unicodeScalars.allSatisfy({ $0.isASCII && ($0 == "_" || $0.properties.isAlphabetic || ("0"..."9").contains($0)) }) else {
            throw TestFailure("\(name) is not a proto identifier")
        }
        return name
    }
}
