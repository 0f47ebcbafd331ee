@testable import APIMachinery
@testable import APIRegistry
import APITestSupport
import KubeAPI
import Testing

/// JSON merge patch (RFC 7386) and JSON patch (RFC 6902), as PATCH applies them.
@Suite struct JSONPatchesTests {
    @Test func mergePatchFollowsRFC7386() throws {
        let target = try json(#"{"a":"b","c":{"d":"e","f":"g"},"l":[1,2]}"#)
        let patch = try json(#"{"a":"z","c":{"f":null},"l":[3],"n":{"x":1}}"#)
        #expect(JSONPatches.mergePatch(target, with: patch) == (try json(#"{"a":"z","c":{"d":"e"},"l":[3],"n":{"x":1}}"#)))
    }

    @Test func jsonPatchOperations() throws {
        let target = try json(#"{"a":[1,2],"b":{"c":1}}"#)
        let patched = try JSONPatches.jsonPatch(target, operations: try json("""
            [{"op":"add","path":"/a/1","value":9},{"op":"add","path":"/a/-","value":3},{"op":"remove","path":"/b/c"},
             {"op":"copy","from":"/a/0","path":"/b/d"},{"op":"test","path":"/b/d","value":1},{"op":"move","from":"/b/d","path":"/e"}]
            """))
        #expect(patched == (try json(#"{"a":[1,9,2,3],"b":{},"e":1}"#)))
        #expect(throws: APIError.self) {
            try JSONPatches.jsonPatch(target, operations: try json(#"[{"op":"remove","path":"/missing"}]"#))
        }
    }
}
