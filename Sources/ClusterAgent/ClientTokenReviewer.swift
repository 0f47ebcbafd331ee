import Foundation
import KubeClient
import KubeletServer

/// Checks the bearer tokens of callers of the agent's `:10250` with a TokenReview, as kubelet's
/// webhook authenticator does (`--authentication-token-webhook`).
struct ClientTokenReviewer: TokenReviewer {
    let client: APIClient

    private struct Review: Codable {
        struct Spec: Codable { var token: String }
        struct User: Codable {
            var username: String?
            var uid: String?
            var groups: [String]?
        }
        struct Status: Codable {
            var authenticated: Bool?
            var user: User?
        }
        var apiVersion = "authentication.k8s.io/v1"
        var kind = "TokenReview"
        var spec: Spec
        var status: Status?
    }

    func review(token: String) async throws -> ReviewedUser? {
        let review = try await client.create("/apis/authentication.k8s.io/v1/tokenreviews", Review(spec: .init(token: token)))
        guard review.status?.authenticated == true, let user = review.status?.user, let name = user.username else { return nil }
        return ReviewedUser(name: name, uid: user.uid, groups: user.groups ?? [])
    }
}
