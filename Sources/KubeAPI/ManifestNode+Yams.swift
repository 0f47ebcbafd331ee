import Yams

extension ManifestNode {
    /// The most nodes one document may expand to; aliases can make a short text describe an
    /// enormous tree ("billion laughs"), which must fail cleanly instead of exhausting memory.
    static let nodeLimit = 250_000

    /// Converts a composed Yams document; `budget` counts down the nodes still allowed.
    init(yaml node: Yams.Node, path: String, budget: inout Int) throws {
        budget -= 1
        guard budget >= 0 else {
            throw DecodingFailure(path: path, message: "document too large: more than \(ManifestNode.nodeLimit) values after expanding aliases",
                                  line: node.mark?.line)
        }
        switch node {
        case .scalar(let scalar):
            // A `!!str` tag forces a string; quoted scalars carry that tag too.
            let forcedString = scalar.tag.description == Tag.Name.str.rawValue
            self = .scalar(ManifestScalar(text: scalar.string, plain: scalar.style == .plain || scalar.style == .any,
                                          forcedString: forcedString, line: scalar.mark?.line))
        case .sequence(let sequence):
            var elements: [ManifestNode] = []
            elements.reserveCapacity(sequence.count)
            for (index, element) in sequence.enumerated() {
                elements.append(try ManifestNode(yaml: element, path: FieldPath.appending(index: index, to: path), budget: &budget))
            }
            self = .sequence(elements, line: sequence.mark?.line)
        case .mapping(let mapping):
            self = .mapping(try ManifestNode.entries(of: mapping, path: path, budget: &budget), line: mapping.mark?.line)
        case .alias(let alias):
            // Yams resolves aliases while composing; one left over is an undefined anchor.
            throw DecodingFailure(path: path, message: "invalid YAML: undefined alias \"\(alias.anchor.rawValue)\"", line: alias.mark?.line)
        }
    }

    /// The entries of a mapping in document order, with YAML merge keys (`<<: *base`)
    /// applied: explicit keys win over merged ones, earlier merged maps over later ones.
    private static func entries(of mapping: Yams.Node.Mapping, path: String, budget: inout Int) throws -> [ManifestEntry] {
        var explicit: [ManifestEntry] = []
        var merged: [ManifestEntry] = []
        var seen: [String: Int?] = [:]
        for (keyNode, valueNode) in mapping {
            guard case .scalar(let keyScalar) = keyNode else {
                throw DecodingFailure(path: path, message: "map keys must be strings, got \(keyNode.isSequence ? "a list" : "a map")",
                                      line: keyNode.mark?.line)
            }
            if keyScalar.string == "<<", keyScalar.style == .plain || keyScalar.style == .any {
                for source in mergeSources(valueNode) {
                    guard case .mapping(let sourceMapping) = source else {
                        throw DecodingFailure(path: path, message: "a merge key (<<) needs a map or a list of maps, got \(source.isSequence ? "a list" : "a scalar")",
                                              line: keyScalar.mark?.line)
                    }
                    merged.append(contentsOf: try entries(of: sourceMapping, path: path, budget: &budget))
                }
                continue
            }
            let key = keyScalar.string
            let childPath = FieldPath.appending(key, to: path)
            // Yams rejects literal duplicates; keys that only become equal as strings
            // (`1:` and `"1":`) are caught here.
            if seen[key] != nil {
                throw DecodingFailure(path: path, message: "duplicate field \"\(key)\"", line: keyScalar.mark?.line)
            }
            seen[key] = keyScalar.mark?.line
            explicit.append(ManifestEntry(key: key, line: keyScalar.mark?.line,
                                          value: try ManifestNode(yaml: valueNode, path: childPath, budget: &budget)))
        }
        for entry in merged where seen[entry.key] == nil {
            seen[entry.key] = entry.line
            explicit.append(entry)
        }
        return explicit
    }

    private static func mergeSources(_ node: Yams.Node) -> [Yams.Node] {
        if case .sequence(let sequence) = node { return Array(sequence) }
        return [node]
    }
}

private extension Yams.Node {
    var isSequence: Bool {
        if case .sequence = self { return true }
        return false
    }
}
