import Testing
@testable import Registry

/// The WWW-Authenticate parser, with the headers real registries send and hostile ones.
struct AuthChallengeTests {
    @Test func dockerHubBearerChallenge() {
        let header = #"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/nginx:pull""#
        #expect(AuthChallenge.parse(header) == [AuthChallenge(scheme: .bearer, parameters: [
            "realm": "https://auth.docker.io/token", "service": "registry.docker.io", "scope": "repository:library/nginx:pull",
        ])])
    }
}
