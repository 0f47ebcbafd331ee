import Foundation

/// The `continue` token of paginated lists, in Kubernetes' format: base64url of
/// `{"v":"meta.k8s.io/v1","rv":<list revision>,"start":"<next key>"}`.
package struct ContinueToken: Codable, Sendable, Equatable {
    package var v = "meta.k8s.io/v1"
    package var rv: Int64
    package var start: String

    package var encoded: String {
        let data = (try? JSONEncoder().encode(self)) ?? Data()
        return data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    package init(rv: Int64, start: String) {
        self.rv = rv
        self.start = start
    }

    package init(decoding text: String) throws(APIError) {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        guard let data = Data(base64Encoded: base64), let token = try? JSONDecoder().decode(ContinueToken.self, from: data),
              token.v == "meta.k8s.io/v1", token.rv > 0 else {
            throw APIError.badRequest("continue key is not valid: could not decode the continue token")
        }
        self = token
    }
}
