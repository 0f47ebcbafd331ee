import Foundation
import Yams

/// Decodes Kubernetes manifests (YAML or JSON) strictly, the way the API server does with
/// field validation "Strict": unknown and duplicate fields are errors, numbers are not
/// strings, and every error names its field path ("spec.containers[0].image") and line.
///
/// Every failure is a `DecodingFailure`.
public enum Manifest {
    /// Decodes a single YAML document (a leading `---` is fine; a second document is not).
    public static func decode<T: Decodable>(_ type: T.Type, yaml: String) throws -> T {
        try decodeDocument(type, node: try singleDocument(yaml))
    }

    /// Decodes a JSON document (parsed by the same strict reader: JSON is YAML).
    public static func decode<T: Decodable>(_ type: T.Type, json: Data) throws -> T {
        try decode(type, yaml: try text(of: json))
    }

    /// Decodes a value already parsed into JSON's data model, with the same strictness and
    /// the same errors as `decode(_:json:)` on its compact JSON text, without the text.
    public static func decode<T: Decodable>(_ type: T.Type, value: JSONValue) throws -> T {
        try decodeDocument(type, node: ManifestNode(json: value))
    }

    /// The deepest nesting a manifest may have (the API server's JSON reader accepts 200 too).
    public static let maximumDepth = 200

    /// One YAML document in JSON's data model, as kube-apiserver reads a YAML request body
    /// (sigs.k8s.io/yaml: go-yaml, then JSON): merge keys applied, aliases expanded within
    /// go-yaml's limits (`yaml: document contains excessive aliasing`), nesting bounded,
    /// duplicate keys and numbers JSON cannot hold (`.inf`, `.nan`) refused with their path.
    /// nil for an empty document; a second document is an error.
    ///
    /// Every failure is a `DecodingFailure`.
    public static func jsonValue(yaml: String) throws -> JSONValue? {
        let all = try documents(yaml, nodeLimit: nil)
        guard all.count <= 1 else {
            throw DecodingFailure(path: "", message: "expected a single document, found \(all.count) (separated by ---)",
                                  line: all[1].line)
        }
        return try all.first?.jsonValue()
    }

    /// Decodes every document of a `---` separated stream, skipping empty documents.
    public static func decodeAll<T: Decodable>(_ type: T.Type, yaml: String) throws -> [T] {
        try documents(yaml).map { try decodeDocument(type, node: $0) }
    }

    /// Decodes a Pod, first checking that the document says `apiVersion: v1` and `kind: Pod`.
    public static func decodePod(yaml: String) throws -> Pod {
        let node = try singleDocument(yaml)
        let typeMeta = try decodeDocument(TypeMeta.self, node: node)
        try expect(field: "apiVersion", of: node, value: typeMeta.apiVersion, toBe: "v1")
        try expect(field: "kind", of: node, value: typeMeta.kind, toBe: "Pod")
        return try decodeDocument(Pod.self, node: node)
    }

    /// `decodePod(yaml:)` for JSON input.
    public static func decodePod(json: Data) throws -> Pod {
        try decodePod(yaml: try text(of: json))
    }

    // MARK: - Steps

    private static func text(of json: Data) throws -> String {
        guard let text = String(data: json, encoding: .utf8) else {
            throw DecodingFailure(path: "", message: "the JSON input is not valid UTF-8")
        }
        return text
    }

    private static func expect(field: String, of node: ManifestNode, value: String?, toBe expected: String) throws {
        var line: Int?
        if case .mapping(let entries, _) = node {
            line = entries.first { $0.key == field }?.line
        }
        guard let value, !value.isEmpty else {
            throw DecodingFailure(path: field, message: "Required value: a Pod manifest needs \(field): \(expected)", line: line)
        }
        guard value == expected else {
            throw DecodingFailure(path: field, message: "Unsupported value: \(GoQuote.quote(value)): supported values: \(GoQuote.quote(expected))",
                                  line: line)
        }
    }

    /// Decodes one document and then looks for fields nobody asked for.
    static func decodeDocument<T: Decodable>(_ type: T.Type, node: ManifestNode) throws -> T {
        let state = DecodingState()
        let value = try ValueDecoder(node: node, state: state).decodeValue(type)
        if let unknown = state.firstUnknownField(in: node) {
            throw unknown
        }
        return value
    }

    private static func singleDocument(_ yaml: String) throws -> ManifestNode {
        let all = try documents(yaml)
        guard all.count <= 1 else {
            throw DecodingFailure(path: "", message: "expected a single document, found \(all.count) (separated by ---)",
                                  line: all[1].line)
        }
        guard let document = all.first else {
            throw DecodingFailure(path: "", message: "the document is empty")
        }
        return document
    }

    /// Parses a YAML stream into its non-empty documents.
    /// `nodeLimit` bounds the nodes of one document with aliases expanded (go-yaml's alias
    /// ratio applies in any case).
    static func documents(_ yaml: String, nodeLimit: Int? = ManifestNode.nodeLimit) throws -> [ManifestNode] {
        do {
            // Depth and alias expansion are checked on libyaml's flat event stream first:
            // Yams composes recursively, and expanding aliases is what a bomb is made of.
            try YAMLExpansionCheck(maximumDepth: maximumDepth, nodeLimit: nodeLimit).check(yaml)
            let parser = try Parser(yaml: yaml)
            var documents: [ManifestNode] = []
            while let root = try parser.nextRoot() {
                var budget = nodeLimit ?? Int.max
                let node = try ManifestNode(yaml: root, path: "", budget: &budget)
                if !node.isNull {
                    documents.append(node)
                }
            }
            return documents
        } catch let failure as DecodingFailure {
            throw failure
        } catch let error as YamlError {
            throw translate(error, yaml: yaml)
        }
    }

    /// Yams' errors as `DecodingFailure`s with the line and column.
    private static func translate(_ error: YamlError, yaml: String) -> DecodingFailure {
        func syntax(_ problem: String, _ mark: Mark, _ context: YamlError.Context?) -> DecodingFailure {
            var message = "invalid YAML: \(problem) (column \(mark.column)"
            if let context {
                message += "; \(context.text) at line \(context.mark.line), column \(context.mark.column)"
            }
            return DecodingFailure(path: "", message: message + ")", line: mark.line)
        }
        switch error {
        case .duplicatedKeysInMapping(let duplicates, let context):
            return DuplicateKeyLocator.failure(yaml: yaml, keys: duplicates, mark: context.mark)
        case .scanner(let context, let problem, let mark, _),
             .parser(let context, let problem, let mark, _),
             .composer(let context, let problem, let mark, _):
            return syntax(problem, mark, context)
        case .reader(let problem, _, _, _):
            return DecodingFailure(path: "", message: "invalid YAML: \(problem)")
        default:
            return DecodingFailure(path: "", message: "invalid YAML: \(error)")
        }
    }
}
