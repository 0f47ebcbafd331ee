internal import CYaml

/// Bounds what a YAML text may make a reader build, before anything is built: nesting depth and
/// alias expansion ("billion laughs": nine levels of nine aliases in 410 bytes describe
/// 387 million nodes).
///
/// It reads libyaml's event stream, which is flat (no recursion however deep the document),
/// and counts the nodes a decoder would produce with every alias expanded, the way go-yaml does
/// for sigs.k8s.io/yaml and so for kube-apiserver: each node decoded counts once, nodes reached
/// through an alias count as aliased too, and a document fails with `yaml: document contains
/// excessive aliasing` once more than 100 aliased nodes out of more than 1000 exceed the allowed
/// share (99% up to 400,000 nodes, falling linearly to 10% at 4,000,000).
/// See https://github.com/go-yaml/yaml/blob/v2/decode.go (allowedAliasRatio).
///
/// Yams composes recursively (a stack frame per level), so depth must be known before Yams sees
/// the text; aliases it resolves by sharing, so the expansion happens only when the composed
/// tree is walked, which is what this check makes safe.
struct YAMLExpansionCheck {
    /// The deepest nesting of collections accepted.
    let maximumDepth: Int
    /// The most nodes one document may expand to, when there is a fixed bound (the agent's
    /// manifests); go-yaml's ratio applies either way.
    let nodeLimit: Int?

    /// Throws a `DecodingFailure` for the first document that nests too deep or expands too
    /// much. Syntax errors are left to the real parse, which reports them with context.
    func check(_ yaml: String) throws {
        var bytes = Array(yaml.utf8)
        if bytes.isEmpty { return }
        var parser = yaml_parser_t()
        guard yaml_parser_initialize(&parser) == 1 else {
            throw DecodingFailure(path: "", message: "invalid YAML: the parser could not be initialised (out of memory)")
        }
        defer { yaml_parser_delete(&parser) }
        try bytes.withUnsafeMutableBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return }
            yaml_parser_set_input_string(&parser, base, buffer.count)
            var document = DocumentCount()
            while true {
                var event = yaml_event_t()
                guard yaml_parser_parse(&parser, &event) == 1 else { return }
                defer { yaml_event_delete(&event) }
                let line = Int(event.start_mark.line) + 1
                switch event.type {
                case YAML_STREAM_END_EVENT:
                    return
                case YAML_DOCUMENT_START_EVENT:
                    document = DocumentCount()
                case YAML_SCALAR_EVENT:
                    try document.node(anchor: Self.text(event.data.scalar.anchor), line: line, check: self)
                    try document.close(line: line, check: self)
                case YAML_SEQUENCE_START_EVENT:
                    try document.node(anchor: Self.text(event.data.sequence_start.anchor), line: line, check: self)
                case YAML_MAPPING_START_EVENT:
                    try document.node(anchor: Self.text(event.data.mapping_start.anchor), line: line, check: self)
                case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
                    try document.close(line: line, check: self)
                case YAML_ALIAS_EVENT:
                    try document.alias(Self.text(event.data.alias.anchor) ?? "", line: line, check: self)
                default:
                    break
                }
            }
        }
    }

    private static func text(_ pointer: UnsafeMutablePointer<yaml_char_t>?) -> String? {
        guard let pointer else { return nil }
        return String(cString: UnsafePointer(pointer))
    }

    /// go-yaml's share of nodes that may come from aliases, for a document of `decoded` nodes.
    static func allowedAliasRatio(_ decoded: Int) -> Double {
        let low = 400_000, high = 4_000_000
        if decoded <= low { return 0.99 }
        if decoded >= high { return 0.10 }
        return 0.99 - 0.89 * Double(decoded - low) / Double(high - low)
    }

    /// The tally of one document.
    private struct DocumentCount {
        /// Nodes decoded so far, aliases expanded; and how many of them came through aliases.
        var decoded = 0
        var aliased = 0
        /// Open collections: their anchor and the count when they started.
        var open: [(anchor: String?, start: Int)] = []
        /// Each anchor's size in decoded nodes (its own aliases expanded).
        var anchorSizes: [String: Int] = [:]

        /// Counts grow by whole anchors at a time; keep them far from overflowing.
        static let ceiling = Int.max / 4

        mutating func node(anchor: String?, line: Int, check: YAMLExpansionCheck) throws {
            open.append((anchor, decoded))
            decoded = min(decoded + 1, Self.ceiling)
            guard open.count <= check.maximumDepth else {
                throw DecodingFailure(path: "", message: "invalid YAML: nested deeper than \(check.maximumDepth) levels", line: line)
            }
            try verify(line: line, check: check)
        }

        mutating func close(line: Int, check: YAMLExpansionCheck) throws {
            guard let last = open.popLast() else { return }
            if let anchor = last.anchor {
                anchorSizes[anchor] = decoded - last.start
            }
        }

        mutating func alias(_ anchor: String, line: Int, check: YAMLExpansionCheck) throws {
            // The alias node itself, then everything its anchor stands for, as aliased.
            let size = anchorSizes[anchor] ?? 0
            decoded = min(decoded + 1 + size, Self.ceiling)
            aliased = min(aliased + size, Self.ceiling)
            try verify(line: line, check: check)
        }

        func verify(line: Int, check: YAMLExpansionCheck) throws {
            if let limit = check.nodeLimit, decoded > limit {
                throw DecodingFailure(path: "", message: "document too large: more than \(limit) values after expanding aliases", line: line)
            }
            if aliased > 100, decoded > 1000, Double(aliased) / Double(decoded) > YAMLExpansionCheck.allowedAliasRatio(decoded) {
                throw DecodingFailure(path: "", message: "yaml: document contains excessive aliasing", line: line)
            }
        }
    }
}
