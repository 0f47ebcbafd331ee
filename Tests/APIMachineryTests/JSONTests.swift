@testable import APIMachinery
import APITestSupport
import KubeAPI
import Testing

@Suite struct JSONTests {
    @Test func parsesAllValueKindsKeepingIntegersApart() throws {
        let value = try json(#"{"a":[1,-2,3.5,1e3,true,false,null,"x\"y\\z\n\u00e9\ud83d\ude00"],"b":{}}"#)
        #expect(value["a"] == .array([.int(1), .int(-2), .double(3.5), .double(1000), .bool(true), .bool(false), .null,
                                      .string("x\"y\\z\né😀")]))
        #expect(value["b"] == .object([:]))
    }

    @Test(arguments: [
        ("{\"a\": x}", "invalid character 'x' looking for beginning of value"),
        ("{\"a\":1", "unexpected end of JSON input"),
        ("{\"a\":1}}", "invalid character '}' after top-level value"),
        ("{a:1}", "invalid character 'a' looking for beginning of object key string"),
        ("[1,]", "invalid character ']' looking for beginning of value"),
        ("", "unexpected end of JSON input"),
        ("01", "invalid character '1' after top-level value"),
    ])
    func reportsErrorsInGoWords(input: String, message: String) {
        #expect(throws: JSONSyntaxError.self) { try JSONParser.parse(Array(input.utf8)) }
        do {
            _ = try JSONParser.parse(Array(input.utf8))
        } catch {
            #expect(error.message == message)
        }
    }

    @Test func refusesHostileNesting() {
        let deep = String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
        do {
            _ = try JSONParser.parse(Array(deep.utf8))
            Issue.record("10,000 levels of nesting were accepted")
        } catch {
            #expect(error.message.contains("exceeded max depth"))
        }
    }

    @Test func serializesWithTypeMetaFirstAndEscapes() throws {
        let value: JSONValue = .object([
            "spec": .object(["b": .int(2), "a": .double(1.5)]),
            "metadata": .object(["name": .string("q\"\n\u{01}")]),
            "kind": .string("Pod"),
            "apiVersion": .string("v1"),
        ])
        let text = String(decoding: JSONSerializer.serialize(value), as: UTF8.self)
        #expect(text == #"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"q\"\n\u0001"},"spec":{"a":1.5,"b":2}}"#)
        #expect(try JSONParser.parse(JSONSerializer.serialize(value)) == value)
    }
}

@Suite struct SelectorTests {
    @Test func labelSelectorSyntaxAndSemantics() throws {
        let selector = try LabelSelector(parsing: "app=web, tier!=db,env in (prod,staging),!canary,owner")
        #expect(selector.matches(["app": "web", "env": "prod", "owner": "me"]))
        #expect(!selector.matches(["app": "web", "env": "prod"]))                       // owner missing
        #expect(!selector.matches(["app": "web", "env": "dev", "owner": "me"]))
        #expect(!selector.matches(["app": "web", "env": "prod", "owner": "me", "canary": "1"]))
        #expect(selector.matches(["app": "web", "env": "prod", "owner": "me", "tier": "front"]))
        #expect(selector.description == "app=web,!canary,env in (prod,staging),owner,tier!=db")
        // `!=` and notin also match objects without the label.
        #expect(try LabelSelector(parsing: "tier notin (db)").matches([:]))
        #expect(try LabelSelector(parsing: "n>3").matches(["n": "4"]))
        // An empty value is a value.
        #expect(try LabelSelector(parsing: "app=").matches(["app": ""]))
        #expect(!(try LabelSelector(parsing: "app=").matches(["app": "web"])))
        #expect(!(try LabelSelector(parsing: "n<3").matches(["n": "4"])))
    }

    @Test(arguments: ["app in ()", "bad key=x", "a=b c", "a=(b"])
    func invalidLabelSelectorsAreBadRequests(text: String) {
        #expect(throws: APIError.self) { try LabelSelector(parsing: text) }
    }

    @Test func labelSelectorObjects() throws {
        let selector = try LabelSelector(object: try json("""
            {"matchLabels":{"app":"web"},"matchExpressions":[{"key":"env","operator":"NotIn","values":["dev"]},{"key":"x","operator":"Exists"}]}
            """))
        #expect(selector.matches(["app": "web", "x": ""]))
        #expect(!selector.matches(["app": "web", "x": "", "env": "dev"]))
        #expect(selector.description == "app=web,env notin (dev),x")
    }

    @Test func fieldSelectorsParseInAnyOrderWithEscapes() throws {
        let selector = try FieldSelector(parsing: "involvedObject.kind=Node,involvedObject.uid=,involvedObject.name=n\\,1,status.phase!=Failed")
        #expect(selector.terms.map(\.field) == ["involvedObject.kind", "involvedObject.uid", "involvedObject.name", "status.phase"])
        #expect(selector.terms[2].value == "n,1")
        let values = ["involvedObject.kind": "Node", "involvedObject.name": "n,1", "status.phase": "Running"]
        #expect(selector.matches { values[$0] ?? "" })
        #expect(!selector.matches { $0 == "status.phase" ? "Failed" : values[$0] ?? "" })
        #expect(throws: APIError.self) { try FieldSelector(parsing: "justaword") }
    }
}
