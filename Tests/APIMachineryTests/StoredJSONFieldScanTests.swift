@testable import APIMachinery
import Testing

/// `StoredJSON.mayHave`: the byte scan that lets a field-selected list skip entries unparsed.
/// It may answer true for an entry that does not match (the entry is then parsed), never false
/// for one that does.
@Suite struct StoredJSONFieldScanTests {
    func may(_ json: String, _ key: String, _ value: String) -> Bool {
        StoredJSON.mayHave(Array(json.utf8), key: key, value: value)
    }

    @Test func findsTheMemberWrittenCompactOrSpaced() {
        #expect(may(#"{"spec":{"nodeName":"n1","x":1}}"#, "nodeName", "n1"))
        #expect(may(#"{"spec": {"nodeName" : "n1"}}"#, "nodeName", "n1"))
        #expect(may("{\"spec\":{\"nodeName\"\n:\t\"n1\"}}", "nodeName", "n1"))
        #expect(may(#"{"spec":{"unschedulable":true}}"#, "unschedulable", "true"))
        #expect(may(#"{"a":{"replicas":3}}"#, "replicas", "3"))
        #expect(may(#"{"a":[{"replicas":3 }]}"#, "replicas", "3"))
    }

    @Test func rulesOutEntriesWithoutTheMemberOrWithAnotherValue() {
        #expect(!may(#"{"spec":{"nodeName":"n10"}}"#, "nodeName", "n1"), "a longer value is another value")
        #expect(!may(#"{"spec":{"nodeName":"xn1"}}"#, "nodeName", "n1"))
        #expect(!may(#"{"spec":{"containers":[]}}"#, "nodeName", "n1"), "unscheduled pod")
        #expect(!may(#"{"spec":{"f:nodeName":{}}}"#, "nodeName", "n1"), "managedFields' key is another key")
        #expect(!may(#"{"spec":{"xnodeName":"n1"}}"#, "nodeName", "n1"))
        #expect(!may(#"{"a":{"replicas":30}}"#, "replicas", "3"))
        #expect(!may(#"{"n":"nodeName","v":"n1"}"#, "nodeName", "n1"), "the key as a value, not a member")
        #expect(!may("", "nodeName", "n1"))
        #expect(!may(#"{"nodeName""#, "nodeName", "n1"), "truncated")
    }

    @Test func keepsWhatItCannotJudge() {
        // Values JSON must escape could be written escaped; an empty value matches a missing member.
        #expect(may(#"{"a":"x\"y"}"#, "b", #"x"y"#))
        #expect(may(#"{"a":1}"#, "b", #"x\y"#))
        #expect(may(#"{"a":1}"#, "b", ""))
        // A second occurrence of the key is found after a first with another value.
        #expect(may(#"{"x":{"nodeName":"n2"},"spec":{"nodeName":"n1"}}"#, "nodeName", "n1"))
    }
}
