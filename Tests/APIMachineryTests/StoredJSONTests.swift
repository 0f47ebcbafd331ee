@testable import APIMachinery
import KubeAPI
import Testing

/// `StoredJSON`: a stored object served with its resourceVersion spliced in must be byte for
/// byte what parsing it, setting the version and writing it in member order gives.
@Suite struct StoredJSONTests {
    /// The stored form of `json` (member order, no version) and the expected response with `rv`.
    func storedAndExpected(_ json: String, rv: String) throws -> (stored: [UInt8], expected: [UInt8]) {
        guard case .object(let fields) = try JSONParser.parse(Array(json.utf8)) else { throw Failure.notAnObject }
        var object = KubeObject(fields: fields)
        object.resourceVersion = nil
        let stored = try JSONSerializer.checkedSerializeInTypeOrder(object.json)
        object.resourceVersion = rv
        return (stored, JSONSerializer.serializeInTypeOrder(object.json))
    }

    enum Failure: Error { case notAnObject }

    func spliced(_ stored: [UInt8], rv: String) -> String? {
        var out: [UInt8] = Array("prefix,".utf8)
        guard StoredJSON.append(stored, resourceVersion: rv, to: &out) else {
            #expect(out == Array("prefix,".utf8), "a refused entry leaves the output alone")
            return nil
        }
        #expect(out.starts(with: Array("prefix,".utf8)))
        return String(decoding: out.dropFirst(7), as: UTF8.self)
    }

    @Test(arguments: [
        // The common shape: the version goes after uid, before generation/creationTimestamp.
        #"{"kind":"Pod","apiVersion":"v1","metadata":{"name":"web","namespace":"default","uid":"u-1","creationTimestamp":"2026-12-03T07:00:00Z","labels":{"app":"web"}},"spec":{"containers":[{"name":"c","image":"busybox"}]}}"#,
        // Nothing after the members that precede it: the version closes metadata.
        #"{"kind":"Namespace","apiVersion":"v1","metadata":{"name":"ns","uid":"x"}}"#,
        // Empty metadata.
        #"{"kind":"ConfigMap","apiVersion":"v1","metadata":{},"data":{"a":"b"}}"#,
        // No member before it: the version comes first.
        #"{"kind":"ConfigMap","apiVersion":"v1","metadata":{"labels":{"a":"b"},"annotations":{"x":"y"}}}"#,
        // Members the type does not declare come after the declared ones.
        #"{"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":"n","zzz":1,"aaa":[1,{"b":"}"}]}}"#,
        // Strings with quotes, brackets and backslashes before metadata and inside it.
        #"{"kind":"ConfigMap","apiVersion":"v1","data":{"k":"a \"quoted\" } ] {[ \\ value"},"metadata":{"name":"q","generateName":"q\"\\{","annotations":{"a":"\"}"}}}"#,
        // Numbers, null and booleans skipped on the way.
        #"{"kind":"Service","apiVersion":"v1","spec":{"ports":[{"port":80,"x":1.5,"y":null,"z":[true,false]}]},"metadata":{"name":"s"}}"#,
    ])
    func splicedBytesEqualParsedAndWritten(json: String) throws {
        let (stored, expected) = try storedAndExpected(json, rv: "12345")
        #expect(spliced(stored, rv: "12345") == String(decoding: expected, as: UTF8.self))
    }

    @Test func entriesNotInTheStoredLayoutAreRefused() throws {
        // The layout before member order: apiVersion first.
        #expect(spliced(Array(#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"a"}}"#.utf8), rv: "1") == nil)
        // Already carrying a version (never stored so): parse instead of writing two.
        #expect(spliced(Array(#"{"kind":"Pod","apiVersion":"v1","metadata":{"name":"a","resourceVersion":"3"}}"#.utf8), rv: "1") == nil)
        // No metadata, or metadata that is not an object.
        #expect(spliced(Array(#"{"kind":"Pod","apiVersion":"v1","spec":{}}"#.utf8), rv: "1") == nil)
        #expect(spliced(Array(#"{"kind":"Pod","apiVersion":"v1","metadata":"x"}"#.utf8), rv: "1") == nil)
        // A type the schema does not know writes its metadata's members sorted by name, so
        // the version's place is not ObjectMeta's: such entries are parsed.
        let widget = try storedAndExpected(#"{"kind":"Widget","apiVersion":"example.com/v1","metadata":{"name":"w","uid":"u"}}"#, rv: "1")
        #expect(widget.stored.starts(with: Array(#"{"kind":"Widget""#.utf8)))
        #expect(spliced(widget.stored, rv: "1") == nil)
        // Not compact.
        #expect(spliced(Array(#"{"kind":"Pod", "apiVersion":"v1","metadata":{"name":"a"}}"#.utf8), rv: "1") == nil)
    }

    @Test func truncatedAndHostileBytesAreRefusedWithoutReadingPastTheEnd() {
        let whole = Array(#"{"kind":"Pod","apiVersion":"v1","metadata":{"name":"a\"b","uid":"u"},"spec":{}}"#.utf8)
        // Every prefix that cuts metadata short is refused; none reads past its end.
        let metadataEnd = whole.firstIndex(of: UInt8(ascii: "}"))!
        for length in 0..<metadataEnd {
            #expect(spliced(Array(whole[..<length]), rv: "1") == nil, "prefix of \(length) bytes")
        }
        #expect(spliced(Array(#"{"kind":"#.utf8), rv: "1") == nil)
        #expect(spliced(Array(#"{"kind":"Pod\"#.utf8), rv: "1") == nil)
        #expect(spliced(Array((#"{"kind":"# + String(repeating: "[", count: 10_000)).utf8), rv: "1") == nil)
        #expect(spliced(Array(#"{"kind":"Pod","apiVersion":"v1","metadata":{"name""#.utf8), rv: "1") == nil)
    }

    @Test func entriesThatAreNotJSONAreRefused() {
        let head = #"{"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":"b"},"data":"#
        for tail in [#"{"l":inf}}"#, #"{"l":"v"}"#, #"{"l":"v"}}}"#, #"{"l":"a\qb"}}"#, #"{"l":01}}"#, #"{"l":1.}}"#,
                     #"{"l":tru}}"#, "{\"l\":\"a\u{01}b\"}}", #"{"l":"\u12"}}"#, #"{"l":[1,]}}"#, #"{"l":1}} x"#] {
            #expect(spliced(Array((head + tail).utf8), rv: "1") == nil, "\(tail)")
        }
        // The same entry with valid data is served.
        #expect(spliced(Array((head + #"{"l":[-0.5e+3,"\u00e9\n",true,null,{}]}}"#).utf8), rv: "7") != nil)
        // Nesting deeper than the parser accepts is refused as the parser refuses it.
        let deep = head + String(repeating: "[", count: JSONParser.maximumDepth) + String(repeating: "]", count: JSONParser.maximumDepth) + "}"
        #expect(spliced(Array(deep.utf8), rv: "1") == nil)
        #expect(StoredJSON.isValid(Array((String(repeating: "[", count: JSONParser.maximumDepth) + String(repeating: "]", count: JSONParser.maximumDepth)).utf8)))
    }
}
