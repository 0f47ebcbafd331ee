@testable import APIMachinery
import Foundation
import KubeAPI

/// SplitMix64: a small, seedable generator, so case N of a run is the same body every time
/// (a failure names its seed and index, and can be replayed).
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE5_E9B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Derives hostile bodies from `FuzzCorpus` seeds: byte-level damage (flips, cuts,
/// duplicated and deleted ranges, splices of two seeds), tokens that broke or could break
/// parsers (`.inf`, aliases, merge keys, deep brackets, huge numbers, bad escapes and UTF-8),
/// structural changes to JSON (values of the wrong type, unknown fields, deep nesting,
/// enormous strings), generated alias bombs, and sends to the wrong content type.
struct BodyMutator {
    var random: SplitMix64

    static let tokens: [String] = [
        "{", "}", "[", "]", "\"", "\\", ",", ":", "\u{0}", "\u{7F}", "\\u0000", "\\ud800", "\\uDFFF", "\u{FEFF}",
        ".inf", "-.inf", ".nan", ".NaN", "+.INF", "1e400", "-1e400", "99999999999999999999999999", "-0", "0x7FFFFFFFFFFFFFFF",
        "1_000", "0o777", "1.5", "NaN", "Infinity", "true", "false", "null", "~", "yes", "no",
        "&a ", "*a", "*b", "&a [x, x, x] ", "<<: *a\n", "<<: [*a, *a]\n", "!!binary ", "!!str ", "!!int ", "!!float ", "? ",
        "---\n", "...\n", "\t", "\r\n", "\n", ": ", "- ", "|\n", ">-\n", "#", "%YAML 1.1\n", "'", "''",
        String(repeating: "[", count: 300), String(repeating: "{\"a\":", count: 300), String(repeating: "- ", count: 300),
        String(repeating: "A", count: 20_000), #""metadata":{"name":"x"},"#, #""apiVersion":"v2","#, #""kind":"Pod","#,
        #"{"$patch":"delete"}"#, #""$setElementOrder/containers":[{"name":"c"}],"#, #""$retainKeys":["a"],"#,
        #"{"op":"copy","from":"","path":"/x"}"#, #""resourceVersion":"-1","#, #""uid":"x","#, #""finalizers":["a/b"],"#,
        "\u{FF}\u{FE}", "\u{C0}\u{80}",
    ]

    mutating func int(_ range: Range<Int>) -> Int {
        range.isEmpty ? range.lowerBound : Int.random(in: range, using: &random)
    }

    mutating func chance(_ percent: Int) -> Bool {
        int(0..<100) < percent
    }

    /// One case: a seed (or two) damaged in one to four ways.
    mutating func mutate(_ seed: FuzzCorpus.Seed, other: FuzzCorpus.Seed) -> FuzzCorpus.Seed {
        var body = seed.body
        var contentType = seed.contentType
        let rounds = 1 + int(0..<4)
        for _ in 0..<rounds {
            switch int(0..<13) {
            case 0: flip(&body)
            case 1, 2: insertToken(&body)
            case 3: deleteRange(&body)
            case 4: duplicateRange(&body)
            case 5: body = Array(body.prefix(int(0..<(body.count + 1))))
            case 6: body = Array(body.prefix(int(0..<(body.count + 1)))) + Array(other.body.suffix(int(0..<(other.body.count + 1))))
            case 7, 8: if let structured = mutateJSON(body) { body = structured } else { insertToken(&body) }
            case 9: body = aliasBomb()
                contentType = FuzzCorpus.yaml
            case 10:
                // The same bytes declared as another type.
                contentType = [FuzzCorpus.json, FuzzCorpus.yaml, FuzzCorpus.protobuf, FuzzCorpus.merge, "text/plain", "application/x-yaml",
                               "application/apply-patch+yaml", "application/json; charset=utf-16", "", "*/*", "application/cbor"][int(0..<11)]
            case 11: if let nested = deepNesting(body) { body = nested } else { flip(&body) }
            default: insertToken(&body)
            }
        }
        return FuzzCorpus.Seed(seed.method, seed.path, contentType, body)
    }

    mutating func flip(_ body: inout [UInt8]) {
        guard !body.isEmpty else { return }
        for _ in 0..<(1 + int(0..<8)) {
            body[int(0..<body.count)] ^= UInt8(truncatingIfNeeded: 1 << int(0..<8))
        }
    }

    mutating func insertToken(_ body: inout [UInt8]) {
        let token = Self.tokens[int(0..<Self.tokens.count)]
        body.insert(contentsOf: Array(token.utf8), at: int(0..<(body.count + 1)))
    }

    mutating func deleteRange(_ body: inout [UInt8]) {
        guard body.count > 1 else { return }
        let start = int(0..<body.count)
        let length = int(1..<min(64, body.count - start) + 1)
        body.removeSubrange(start..<(start + length))
    }

    mutating func duplicateRange(_ body: inout [UInt8]) {
        guard !body.isEmpty else { return }
        let start = int(0..<body.count)
        let end = min(body.count, start + 1 + int(0..<256))
        let chunk = Array(body[start..<end])
        let copies = chance(10) ? 200 : 1 + int(0..<4)
        for _ in 0..<copies { body.insert(contentsOf: chunk, at: end) }
    }

    /// A JSON body with one value changed, a field added, or a value made huge.
    mutating func mutateJSON(_ body: [UInt8]) -> [UInt8]? {
        guard var value = try? JSONParser.parse(body), case .object = value else { return nil }
        var paths: [[String]] = []
        collectPaths(value, prefix: [], into: &paths)
        guard let path = paths.isEmpty ? nil : paths[int(0..<paths.count)] else { return nil }
        let replacements: [JSONValue] = [
            .null, .bool(true), .int(Int64.max), .int(-1), .int(0), .double(1e300), .double(-0.5), .string(""),
            .string(String(repeating: "é", count: 5_000)), .array([]), .object([:]), .array([.null, .int(1), .string("x")]),
            .object(["unknown": .int(1)]), .string("-1"), .string("1Gi"), .string("25%"), .string("2026-13-45T99:99:99Z"),
        ]
        switch int(0..<3) {
        case 0: value.setPath(path, replacements[int(0..<replacements.count)])
        case 1: value.setPath(path.dropLast() + ["zz-unknown-\(int(0..<5))"], replacements[int(0..<replacements.count)])
        default:
            var deep = JSONValue.string("x")
            for _ in 0..<int(1..<260) { deep = chance(50) ? .array([deep]) : .object(["a": deep]) }
            value.setPath(path, deep)
        }
        return JSONSerializer.serialize(value)
    }

    func collectPaths(_ value: JSONValue, prefix: [String], into paths: inout [[String]]) {
        guard paths.count < 500 else { return }
        if case .object(let members) = value {
            for (key, member) in members.sorted(by: { $0.key < $1.key }) {
                paths.append(prefix + [key])
                collectPaths(member, prefix: prefix + [key], into: &paths)
            }
        }
    }

    /// The body wrapped in many brackets, or nested YAML lists.
    mutating func deepNesting(_ body: [UInt8]) -> [UInt8]? {
        let depth = [150, 199, 201, 250, 1001, 5000][int(0..<6)]
        if chance(50) {
            return Array(String(repeating: "[", count: depth).utf8) + body + Array(String(repeating: "]", count: depth).utf8)
        }
        return Array((String(repeating: "- ", count: depth) + "x").utf8)
    }

    /// A YAML document of `levels` levels of `fanOut` aliases, with random shapes.
    mutating func aliasBomb() -> [UInt8] {
        let levels = int(2..<10), fanOut = int(2..<11)
        var yaml = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: bomb}\n"
        yaml += chance(50) ? "data:\n" : "x:\n"
        yaml += "  a0: &a0 " + (chance(50) ? "lol" : "[" + Array(repeating: "lol", count: fanOut).joined(separator: ", ") + "]") + "\n"
        for level in 1..<levels {
            let items = Array(repeating: "*a\(level - 1)", count: fanOut)
            yaml += chance(70) ? "  a\(level): &a\(level) [\(items.joined(separator: ", "))]\n"
                : "  a\(level): &a\(level) {" + items.enumerated().map { "k\($0.offset): \($0.element)" }.joined(separator: ", ") + "}\n"
        }
        return Array(yaml.utf8)
    }
}

extension JSONValue {
    /// Sets the value at a path of object keys, creating objects on the way.
    mutating func setPath<Path: Collection>(_ path: Path, _ value: JSONValue) where Path.Element == String {
        set(value, at: ArraySlice(path))
    }
}
