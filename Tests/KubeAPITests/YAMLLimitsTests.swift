import Foundation
@testable import KubeAPI
import Testing

/// The bounds of reading YAML (`YAMLExpansionCheck`, `Manifest.jsonValue`): alias expansion as
/// go-yaml bounds it, nesting depth checked before Yams composes, and numbers JSON cannot hold.
@Suite struct YAMLLimitsTests {
    /// `levels` levels of `fanOut` aliases to the level below: `fanOut^levels` leaves.
    static func bomb(levels: Int, fanOut: Int) -> String {
        var yaml = "a0: &a0 [" + Array(repeating: "x", count: fanOut).joined(separator: ", ") + "]\n"
        for level in 1...levels {
            yaml += "a\(level): &a\(level) [\(Array(repeating: "*a\(level - 1)", count: fanOut).joined(separator: ", "))]\n"
        }
        return yaml
    }

    @Test func theIssuesNineByNineBombFailsBeforeAnythingIsExpanded() throws {
        let yaml = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n" + Self.bomb(levels: 9, fanOut: 9)
        #expect {
            _ = try Manifest.jsonValue(yaml: yaml)
        } throws: { error in
            (error as? DecodingFailure)?.message == "yaml: document contains excessive aliasing"
        }
    }

    @Test func modestReuseOfAnchorsIsAllowed() throws {
        // Two levels of ten: 100 aliased leaves among a few hundred nodes, well within the
        // rule (more than 100 aliased nodes out of more than 1000 at a 99% share).
        let value = try #require(try Manifest.jsonValue(yaml: Self.bomb(levels: 2, fanOut: 10)))
        guard case .array(let outer)? = value["a2"], case .array(let inner)? = outer.first else {
            Issue.record("a2 is not a list of lists: \(value)")
            return
        }
        #expect(outer.count == 10)
        #expect(inner.count == 10)
        // Merge keys are resolved, as sigs.k8s.io/yaml resolves them.
        let merged = try #require(try Manifest.jsonValue(yaml: "base: &b {a: 1, b: 2}\nderived:\n  <<: *b\n  b: 3\n"))
        #expect(merged["derived"] == .object(["a": .int(1), "b": .int(3)]))
    }

    @Test func aliasRatioFollowsGoYAML() {
        #expect(YAMLExpansionCheck.allowedAliasRatio(1000) == 0.99)
        #expect(YAMLExpansionCheck.allowedAliasRatio(400_000) == 0.99)
        #expect(abs(YAMLExpansionCheck.allowedAliasRatio(2_200_000) - 0.545) < 1e-9)
        #expect(YAMLExpansionCheck.allowedAliasRatio(4_000_000) == 0.10)
        #expect(YAMLExpansionCheck.allowedAliasRatio(9_000_000) == 0.10)
    }

    @Test func nestingIsBoundedBeforeYamsRecurses() throws {
        // Yams composes recursively: 100,000 levels would overflow the stack (a crash, not an
        // error). libyaml stops at 1000 levels itself; the check stops at 200, as JSON does.
        for depth in [201, 999, 1001, 100_000] {
            for yaml in [String(repeating: "[", count: depth) + String(repeating: "]", count: depth),
                         String(repeating: "- ", count: depth) + "x",
                         String(repeating: "{a: ", count: depth) + "1" + String(repeating: "}", count: depth)] {
                #expect {
                    _ = try Manifest.jsonValue(yaml: yaml)
                } throws: { error in
                    guard let failure = error as? DecodingFailure else { return false }
                    return depth < 1000 ? failure.message == "invalid YAML: nested deeper than 200 levels"
                        : failure.message.contains("nested deeper than 200 levels") || failure.message.contains("Maximum nesting level reached")
                }
            }
        }
        let deepButFine = String(repeating: "[", count: 150) + "1" + String(repeating: "]", count: 150)
        #expect(try Manifest.jsonValue(yaml: deepButFine) != nil)
    }

    @Test func nonFiniteNumbersAreRefusedWithTheirPath() throws {
        for (text, shown) in [(".inf", "+Inf"), ("-.inf", "-Inf"), (".nan", "NaN"), ("+.INF", "+Inf"), (".NaN", "NaN")] {
            let yaml = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata:\n  l: \(text)\n"
            #expect {
                _ = try Manifest.jsonValue(yaml: yaml)
            } throws: { error in
                (error as? DecodingFailure)?.description == "line 5: data.l: \(text) is not a number JSON can represent (json: unsupported value: \(shown))"
            }
        }
        // In lists and under odd keys too; quoted, it is a string.
        #expect(throws: DecodingFailure.self) { _ = try Manifest.jsonValue(yaml: "spec:\n  x: [1, .inf]\n") }
        #expect(try Manifest.jsonValue(yaml: "data: {l: '.inf'}") == .object(["data": .object(["l": .string(".inf")])]))
    }

    @Test func quotedInfinityIsAString() throws {
        #expect(try Manifest.jsonValue(yaml: "data: {l: \".nan\"}") == .object(["data": .object(["l": .string(".nan")])]))
    }

    @Test func scalarsBecomeJSONAsTheAPIServerReadsThem() throws {
        let value = try #require(try Manifest.jsonValue(yaml: """
            a: 1
            b: 1.5
            c: true
            d: ~
            e: "1"
            f: 0x1F
            g: 3.0
            h: 99999999999999999999
            i: yes
            """))
        #expect(value == .object([
            "a": .int(1), "b": .double(1.5), "c": .bool(true), "d": .null, "e": .string("1"), "f": .int(31),
            "g": .double(3), "h": .double(1e20), "i": .string("yes"),
        ]))
        #expect(try Manifest.jsonValue(yaml: "") == nil)
        #expect(throws: DecodingFailure.self) { _ = try Manifest.jsonValue(yaml: "a: 1\n---\nb: 2\n") }
        #expect(throws: DecodingFailure.self) { _ = try Manifest.jsonValue(yaml: "a: 1\na: 2\n") }
    }
}
