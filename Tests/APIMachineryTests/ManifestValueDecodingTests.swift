import APIMachinery
import Foundation
import KubeAPI
import Testing

/// `Manifest.decode(_:value:)`, which the API server's strategies use on parsed bodies, must
/// decode and fail exactly as decoding the value's compact JSON text did before it.
@Suite struct ManifestValueDecodingTests {
    enum Outcome: Equatable {
        case pod(Pod)
        case failure(path: String, message: String)
    }

    func outcome(_ decode: () throws -> Pod) -> Outcome {
        do {
            return .pod(try decode())
        } catch let failure as DecodingFailure {
            return .failure(path: failure.path, message: failure.message)
        } catch {
            return .failure(path: "?", message: "\(error)")
        }
    }

    @Test(arguments: [
        // A pod with numbers, booleans, maps, lists and opaque JSON members.
        #"""
        {"apiVersion":"v1","kind":"Pod","metadata":{"name":"web","labels":{"a":"1"},"annotations":{"n":"5"}},
         "spec":{"containers":[{"name":"c","image":"busybox","ports":[{"containerPort":80}],"resources":{"limits":{"cpu":"500m"}},
           "securityContext":{"privileged":false,"runAsUser":1000}}],"terminationGracePeriodSeconds":30,
           "affinity":{"nodeAffinity":{"x":[1,2.5,null]}},"enableServiceLinks":true}}
        """#,
        // A fraction-free double reads as an integer (Go writes 2.0 as 2); a real fraction does not.
        #"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"a"},"spec":{"containers":[{"name":"c","image":"i"}],"terminationGracePeriodSeconds":2.0}}"#,
        #"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"a"},"spec":{"containers":[{"name":"c","image":"i"}],"terminationGracePeriodSeconds":2.5}}"#,
        #"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"a"},"spec":{"containers":[{"name":"c","image":"i"}],"terminationGracePeriodSeconds":1e30}}"#,
        #"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"a"},"spec":{"containers":[{"name":"c","image":"i"}],"terminationGracePeriodSeconds":123456789012345678901}}"#,
        // Wrong types, in both directions, and strings that look like other scalars.
        #"{"apiVersion":"v1","kind":"Pod","metadata":{"name":5},"spec":{"containers":[]}}"#,
        #"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"true"},"spec":{"containers":[{"name":"null","image":"0x10"}],"priority":"5"}}"#,
        #"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"a"},"spec":{"containers":[{"name":"c","image":"i","ports":[{"containerPort":99999999999}]}]}}"#,
        // Unknown fields: the first in member order is the one reported.
        #"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"a","zz":1,"bb":2},"spec":{"containers":[{"name":"c","image":"i","bogus":true}]},"extra":1}"#,
        #"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"a"},"spec":{"containers":{"name":"c"}}}"#,
    ])
    func decodesAsItsJSONText(json: String) throws {
        let value = try JSONParser.parse(Array(json.utf8))
        let fromText = outcome { try Manifest.decode(Pod.self, json: Data(JSONSerializer.serialize(value))) }
        let fromValue = outcome { try Manifest.decode(Pod.self, value: value) }
        #expect(fromValue == fromText)
    }
}
