import Foundation
import Testing
import Yams
@testable import KubeAPI

/// `JSONValue`'s Decodable tries an object first (no failed attempts for the common case);
/// every other kind must still come out as before, from JSON and from YAML (whose decoder
/// reads any scalar as a String if asked first).
@Suite struct JSONValueDecodingTests {
    static let mixed = """
        {"object": {"nested": {"f:metadata": {"f:labels": {".": {}, "f:app": {}}}}, "empty": {}},
         "array": [1, "two", 3.5, true, null, {"k": "v"}, [], [[]]],
         "int": -42, "big": 9007199254740993, "double": 0.25, "exp": 1e3, "bool": false,
         "string": "true", "numberText": "12", "null": null, "unicode": "é\\u00e9"}
        """

    static let expected: JSONValue = .object([
        "object": .object([
            "nested": .object(["f:metadata": .object(["f:labels": .object([".": .object([:]), "f:app": .object([:])])])]),
            "empty": .object([:]),
        ]),
        "array": .array([.int(1), .string("two"), .double(3.5), .bool(true), .null, .object(["k": .string("v")]),
                         .array([]), .array([.array([])])]),
        "int": .int(-42), "big": .int(9_007_199_254_740_993), "double": .double(0.25),
        // Foundation's JSONDecoder reads `1e3` as the integer it is (unchanged by the order).
        "exp": .int(1000),
        "bool": .bool(false), "string": .string("true"), "numberText": .string("12"), "null": .null,
        "unicode": .string("éé"),
    ])

    @Test func everyKindFromJSON() throws {
        #expect(try JSONDecoder().decode(JSONValue.self, from: Data(Self.mixed.utf8)) == Self.expected)
    }

    @Test func everyKindFromYAML() throws {
        let yaml = """
            object: {a: 1, b: {c: [x, 2, 2.5, true, ~]}}
            quoted: "3"
            plain: word
            """
        let value = try YAMLDecoder().decode(JSONValue.self, from: yaml)
        #expect(value == .object([
            "object": .object(["a": .int(1), "b": .object(["c": .array([.string("x"), .int(2), .double(2.5), .bool(true), .null])])]),
            "quoted": .string("3"), "plain": .string("word"),
        ]))
    }

    @Test func aTopLevelScalarOrArray() throws {
        #expect(try JSONDecoder().decode(JSONValue.self, from: Data("\"s\"".utf8)) == .string("s"))
        #expect(try JSONDecoder().decode(JSONValue.self, from: Data("[{}]".utf8)) == .array([.object([:])]))
        #expect(try JSONDecoder().decode(JSONValue.self, from: Data("null".utf8)) == .null)
    }

    static let podWithManagedFields = """
        {"apiVersion": "v1", "kind": "Pod",
         "metadata": {"name": "web", "namespace": "default", "uid": "u-1", "resourceVersion": "7",
                      "labels": {"app": "web"}, "finalizers": ["f"], "generation": 2,
                      "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "rs", "uid": "u-0", "controller": true}],
                      "managedFields": [{"manager": "kubectl", "operation": "Update", "apiVersion": "v1",
                                         "time": "2026-12-04T20:00:00Z", "fieldsType": "FieldsV1",
                                         "fieldsV1": {"f:metadata": {"f:labels": {".": {}, "f:app": {}}}}}]},
         "spec": {"containers": [{"name": "c", "image": "busybox"}]}}
        """

    @Test func managedFieldsAreKeptUnlessTheDecoderStripsThem() throws {
        let data = Data(Self.podWithManagedFields.utf8)
        let kept = try JSONDecoder().decode(Pod.self, from: data)
        #expect(kept.metadata.managedFields?.first?["manager"] == .string("kubectl"))
        #expect(kept.metadata.managedFields?.first?["fieldsV1"]?["f:metadata"] != nil)

        let stripping = JSONDecoder()
        stripping.userInfo[.stripManagedFields] = true
        let stripped = try stripping.decode(Pod.self, from: data)
        #expect(stripped.metadata.managedFields == nil)
        // Everything else is as the plain decode has it.
        var expected = kept.metadata
        expected.managedFields = nil
        #expect(stripped.metadata == expected)
        #expect(stripped.metadata.ownerReferences?.first?.controller == true)
        #expect(stripped.metadata.generation == 2)
        #expect(stripped.spec == kept.spec)
    }
}
