import Yams

/// Finds the field path of a duplicated map key.
///
/// Yams rejects duplicate keys while composing, before any tree exists, and only reports
/// the text position of the first occurrence. To name the map the Kubernetes way
/// (`spec.containers[0]: duplicate field "image"`) the locator renames that occurrence with
/// a unique marker, composes again (neutralizing any further duplicates the same way) and
/// looks for the marker in the resulting tree.
enum DuplicateKeyLocator {
    static func failure(yaml: String, keys: [String], mark: Mark) -> DecodingFailure {
        let fallback = DecodingFailure(path: "", message: "duplicate field \"\(keys.sorted().first ?? "")\"", line: mark.line)
        let markers = Markers(base: uniqueMarker(avoiding: yaml))
        guard var text = insert(markers.primary, at: mark, in: yaml) else { return fallback }
        for attempt in 0..<64 {
            do {
                let parser = try Parser(yaml: text)
                while let root = try parser.nextRoot() {
                    if let found = find(markers, in: root, path: "") {
                        return found
                    }
                }
                return fallback
            } catch YamlError.duplicatedKeysInMapping(_, let context) {
                guard let next = insert(markers.neutral(attempt), at: context.mark, in: text) else { return fallback }
                text = next
            } catch {
                return fallback
            }
        }
        return fallback
    }

    /// The marker put on the occurrence Yams reported, and those that neutralize any further
    /// duplicates so the text composes.
    private struct Markers {
        let base: String
        var primary: String { base + "P" }

        func neutral(_ attempt: Int) -> String {
            base + "N\(attempt)Z"
        }

        /// A key with any marker removed.
        func original(_ key: String) -> String {
            guard key.hasPrefix(base) else { return key }
            let rest = key.dropFirst(base.count)
            if rest.first == "P" { return String(rest.dropFirst()) }
            guard let end = rest.firstIndex(of: "Z") else { return key }
            return String(rest[rest.index(after: end)...])
        }
    }

    /// A string that occurs nowhere in the text.
    private static func uniqueMarker(avoiding text: String) -> String {
        var marker = "zzSwiftletDuplicateMarker"
        while text.contains(marker) {
            marker += "X"
        }
        return marker
    }

    /// Inserts `marker` at the start of the key at `mark` (inside the quotes of a quoted key),
    /// counting lines and columns the way libyaml does (1-based, in characters).
    private static func insert(_ marker: String, at mark: Mark, in text: String) -> String? {
        var line = 1
        var column = 1
        var scalars = text.unicodeScalars
        var index = scalars.startIndex
        while index < scalars.endIndex {
            if line == mark.line, column == mark.column {
                let current = scalars[index]
                let position = current == "\"" || current == "'" ? scalars.index(after: index) : index
                scalars.insert(contentsOf: marker.unicodeScalars, at: position)
                return String(scalars)
            }
            if scalars[index] == "\n" {
                line += 1
                column = 1
            } else {
                column += 1
            }
            index = scalars.index(after: index)
        }
        return nil
    }

    /// The map holding the marked key, as a failure naming that map and its first duplicated
    /// key in document order (Yams reports the alphabetically first one).
    private static func find(_ markers: Markers, in node: Yams.Node, path: String) -> DecodingFailure? {
        switch node {
        case .mapping(let mapping):
            if mapping.contains(where: { $0.key.scalar?.string.hasPrefix(markers.primary) == true }) {
                var seen: Set<String> = []
                for key in mapping.keys {
                    let name = markers.original(key.scalar?.string ?? "")
                    if !seen.insert(name).inserted {
                        return DecodingFailure(path: path, message: "duplicate field \"\(name)\"", line: key.mark?.line)
                    }
                }
                return nil
            }
            for (key, value) in mapping {
                guard let name = key.scalar?.string else { continue }
                if let found = find(markers, in: value, path: FieldPath.appending(markers.original(name), to: path)) {
                    return found
                }
            }
            return nil
        case .sequence(let sequence):
            for (index, element) in sequence.enumerated() {
                if let found = find(markers, in: element, path: FieldPath.appending(index: index, to: path)) {
                    return found
                }
            }
            return nil
        case .scalar, .alias:
            return nil
        }
    }
}
