import APIMachinery
import APITestSupport
import Foundation
import KubeAPI
import TestSupport

/// `protoc --decode` as an independent reader of the server's protobuf: the message printed
/// in protobuf text format, parsed into a tree, and compared with the JSON the server answers
/// for the same object. The .proto files are made for each decode from the server's schema
/// tables (`ProtoSchemaFile`) in a temporary directory, removed after.
enum ProtocText {
    static let protoc = "/usr/bin/protoc"

    /// Whether protoc is there (Debian's protobuf-compiler).
    static var isInstalled: Bool { FileManager.default.isExecutableFile(atPath: protoc) }

    /// protoc's text for `bytes` as the message `type` (`k8s.io.api.core.v1.Pod`).
    static func decode(_ type: String, _ bytes: [UInt8]) async throws -> String {
        let directory = NSTemporaryDirectory() + "swiftlet-proto-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let files = try ProtoSchemaFile.write(to: directory)
        let result = try await blocking {
            try TestChild.launch([protoc, "-I", directory, "--decode=" + type] + files,
                                 stdin: .bytes(bytes), stdout: .capture, stderr: .capture).finish()
        }
        guard result.status == 0 else {
            throw TestFailure("protoc --decode=\(type) failed: \(String(decoding: result.stderr, as: UTF8.self))")
        }
        return String(decoding: result.stdout, as: UTF8.self)
    }

    /// `protoc --decode_raw`'s reading of `bytes`, parsed: fields named by their numbers.
    static func decodeRaw(_ bytes: [UInt8]) async throws -> Node {
        let result = try await blocking {
            try TestChild.launch([protoc, "--decode_raw"], stdin: .bytes(bytes), stdout: .capture, stderr: .capture).finish()
        }
        guard result.status == 0 else {
            throw TestFailure("protoc --decode_raw failed: \(String(decoding: result.stderr, as: UTF8.self))")
        }
        return try parse(String(decoding: result.stdout, as: UTF8.self))
    }

    /// A parsed field value: a scalar's text (strings unescaped) or a message's fields in order.
    indirect enum Node: Equatable {
        case scalar(String)
        case message([(String, Node)])

        static func == (lhs: Node, rhs: Node) -> Bool {
            switch (lhs, rhs) {
            case (.scalar(let a), .scalar(let b)): return a == b
            case (.message(let a), .message(let b)): return a.count == b.count && zip(a, b).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
            default: return false
            }
        }

        var fields: [(String, Node)] {
            if case .message(let fields) = self { return fields }
            return []
        }

        func all(_ name: String) -> [Node] { fields.filter { $0.0 == name }.map(\.1) }
        subscript(_ name: String) -> Node? { all(name).first }
        var text: String? {
            if case .scalar(let text) = self { return text }
            return nil
        }
    }

    /// Parses protoc's text format: `name: value`, `name {` ... `}`.
    static func parse(_ text: String) throws -> Node {
        var stack: [(String, [(String, Node)])] = [("", [])]
        for raw in text.split(separator: "\n") {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line == "}" {
                guard stack.count > 1, let (name, fields) = stack.popLast() else { throw TestFailure("unbalanced } in protoc output") }
                stack[stack.count - 1].1.append((name, .message(fields)))
            } else if line.hasSuffix(" {"), !line.contains(":") {
                stack.append((String(line.dropLast(2)), []))
            } else if let colon = line.range(of: ": ") {
                let name = String(line[..<colon.lowerBound])
                let value = String(line[colon.upperBound...])
                stack[stack.count - 1].1.append((name, .scalar(value.hasPrefix("\"") ? unescape(value) : value)))
            } else {
                throw TestFailure("unexpected protoc line: \(line)")
            }
        }
        guard stack.count == 1 else { throw TestFailure("unclosed message in protoc output") }
        return .message(stack[0].1)
    }

    /// A C-escaped, quoted string as protoc writes it (octal for bytes that are not printable).
    static func unescape(_ quoted: String) -> String {
        String(decoding: unescapedBytes(quoted), as: UTF8.self)
    }

    static func unescapedBytes(_ quoted: String) -> [UInt8] {
        let bytes = Array(quoted.utf8.dropFirst().dropLast())
        var out: [UInt8] = []
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            index += 1
            guard byte == UInt8(ascii: "\\"), index < bytes.count else { out.append(byte); continue }
            let next = bytes[index]
            index += 1
            switch next {
            case UInt8(ascii: "n"): out.append(10)
            case UInt8(ascii: "t"): out.append(9)
            case UInt8(ascii: "r"): out.append(13)
            case UInt8(ascii: "0")...UInt8(ascii: "7"):
                var value = Int(next - UInt8(ascii: "0"))
                for _ in 0..<2 where index < bytes.count && (UInt8(ascii: "0")...UInt8(ascii: "7")).contains(bytes[index]) {
                    value = value * 8 + Int(bytes[index] - UInt8(ascii: "0"))
                    index += 1
                }
                out.append(UInt8(value & 0xFF))
            default: out.append(next)
            }
        }
        return out
    }

    /// Every difference between the JSON `value` (as the server answers it in JSON) and the
    /// message protoc decoded, by JSON path; empty when each JSON member is in the message with
    /// the same value. Knows only apimachinery's JSON forms (times as seconds, quantities,
    /// int-or-strings, maps as key/value entries, Go's inline structs found in a nested
    /// message), nothing of the server's schema tables.
    static func differences(_ value: JSONValue, _ node: Node, path: String = "") -> [String] {
        guard case .object(let members) = value else { return ["\(path): not an object"] }
        var found: [String] = []
        for (key, member) in members.sorted(by: { $0.key < $1.key }) where member != .null {
            // TypeMeta is in the envelope, not the message (of an object or a list's items).
            if key == "kind" || key == "apiVersion", path.isEmpty || path.hasSuffix("]") && node[key] == nil { continue }
            var matches = node.all(key)
            if matches.isEmpty {
                // An inline Go struct: its members are in a nested message.
                if let holder = node.fields.first(where: { !$0.1.all(key).isEmpty && $0.1.text == nil }) { matches = holder.1.all(key) }
            }
            found += compare(member, matches, path: path + "." + key)
        }
        return found
    }

    private static func compare(_ value: JSONValue, _ nodes: [Node], path: String) -> [String] {
        switch value {
        case .array(let elements):
            guard elements.count == nodes.count else { return ["\(path): \(elements.count) elements in JSON, \(nodes.count) in protobuf"] }
            return zip(elements, nodes).enumerated().flatMap { index, pair in compare(pair.0, [pair.1], path: "\(path)[\(index)]") }
        case .object(let members):
            // A map: entries with key and value.
            if nodes.allSatisfy({ $0["key"] != nil }), nodes.count == members.count, !(nodes.count == 1 && members["key"] != nil) {
                var found: [String] = []
                for entry in nodes {
                    let key = entry["key"]?.text ?? ""
                    guard let member = members[key] else { found.append("\(path): protobuf has key \(key), JSON not"); continue }
                    found += compare(member, entry.all("value"), path: "\(path)[\(key)]")
                }
                return found
            }
            if members.isEmpty { return nodes.count <= 1 ? [] : ["\(path): empty in JSON"] }
            // Embedded JSON (FieldsV1, RawExtension): the bytes in `Raw`/`raw`.
            if nodes.count == 1, let raw = (nodes[0]["Raw"] ?? nodes[0]["raw"])?.text {
                return (try? JSONParser.parse(Array(raw.utf8))) == value ? [] : ["\(path): JSON \(value), protobuf raw \(raw)"]
            }
            guard nodes.count == 1 else { return ["\(path): \(nodes.count) values in protobuf for an object"] }
            return differences(value, nodes[0], path: path)
        default:
            guard nodes.count == 1 else { return ["\(path): \(nodes.count) values in protobuf for \(value)"] }
            return compareScalar(value, nodes[0], path: path)
        }
    }

    private static func compareScalar(_ value: JSONValue, _ node: Node, path: String) -> [String] {
        let mismatch = ["\(path): JSON \(value), protobuf \(node)"]
        if let text = node.text {
            switch value {
            case .string(let string):
                if string == text { return [] }
                // []byte: base64 in JSON.
                if let data = Data(base64Encoded: string), Array(data) == Array(text.utf8) { return [] }
                return mismatch
            case .int(let number): return Int64(text) == number ? [] : mismatch
            case .bool(let flag): return text == (flag ? "true" : "false") ? [] : mismatch
            case .double(let number): return Double(text) == number ? [] : mismatch
            default: return mismatch
            }
        }
        // apimachinery's messages with JSON forms of their own.
        if let seconds = node["seconds"]?.text, case .string(let string) = value {
            guard let time = Time(rfc3339: string), Int64(time.date.timeIntervalSince1970) == Int64(seconds) else { return mismatch }
            return []
        }
        if let quantity = node["string"]?.text {
            return value == .string(quantity) || value.stringValue == nil && "\(value)".contains(quantity) ? [] : mismatch
        }
        if node["type"] != nil || node["intVal"] != nil || node["strVal"] != nil {
            let isString = node["type"]?.text == "1"
            switch value {
            case .string(let string): return isString && node["strVal"]?.text == string ? [] : mismatch
            case .int(let number): return !isString && Int64(node["intVal"]?.text ?? "0") == number ? [] : mismatch
            default: return mismatch
            }
        }
        return mismatch
    }
}
