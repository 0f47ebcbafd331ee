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

/// Numbers as Go's encoding/json writes float64 (what Kubernetes stores), and the checked
/// serialization every stored object goes through.
@Suite struct JSONNumberTests {
    @Test(arguments: [
        (2.0, "2"), (0.5, "0.5"), (-0.25, "-0.25"), (1e20, "100000000000000000000"), (1e21, "1e+21"),
        (1.5e21, "1.5e+21"), (1e-6, "0.000001"), (1.5e-7, "1.5e-7"), (1e-7, "1e-7"), (123456.789, "123456.789"),
        (1e15, "1000000000000000"), (5e-324, "5e-324"), (1.7976931348623157e308, "1.7976931348623157e+308"),
        (0.1 + 0.2, "0.30000000000000004"), (-1e100, "-1e+100"),
    ])
    func doublesAreWrittenAsGoWritesThem(number: Double, text: String) throws {
        #expect(JSONSerializer.goFloat(number) == text)
        // And they read back as the same number.
        let parsed = try JSONParser.parse(Array(text.utf8))
        switch parsed {
        case .double(let value): #expect(value == number)
        case .int(let value): #expect(Double(value) == number)
        default: Issue.record("\(text) parsed as \(parsed)")
        }
    }

    @Test func nonFiniteNumbersNeverBecomeInvalidJSON() throws {
        // The plain serializer writes null rather than `inf`; the checked one refuses, naming the field.
        let value = JSONValue.object(["data": .object(["l": .double(.infinity)]), "spec": .object(["x": .array([.int(1), .double(.nan)])])])
        #expect(String(decoding: JSONSerializer.serialize(value), as: UTF8.self) == #"{"data":{"l":null},"spec":{"x":[1,null]}}"#)
        #expect {
            _ = try JSONSerializer.checkedSerialize(value)
        } throws: { error in
            (error as? JSONEncodingFailure)?.description == "data.l: +Inf is not a number JSON can represent (json: unsupported value: +Inf)"
        }
        #expect {
            _ = try JSONSerializer.checkedSerialize(.object(["spec": .object(["x": .array([.int(1), .double(-.infinity)])])]))
        } throws: { error in
            (error as? JSONEncodingFailure)?.path == "spec.x[1]"
        }
    }

    @Test func checkedSerializationBoundsDepthAsTheParserDoes() throws {
        var deep = JSONValue.int(1)
        for _ in 0..<JSONParser.maximumDepth { deep = .array([deep]) }
        let bytes = try JSONSerializer.checkedSerialize(deep)
        #expect(try JSONParser.parse(bytes) == deep)
        #expect(throws: JSONEncodingFailure.self) { _ = try JSONSerializer.checkedSerialize(.array([deep])) }
        #expect(throws: JSONSyntaxError.self) { _ = try JSONParser.parse(JSONSerializer.serialize(.array([deep]))) }
    }
}
