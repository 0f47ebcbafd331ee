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

    @Test func distributionBasicChallenge() {
        // docker-registry with htpasswd authentication.
        #expect(AuthChallenge.parse(#"Basic realm="swiftlet-test""#) == [AuthChallenge(scheme: .basic, parameters: ["realm": "swiftlet-test"])])
    }

    @Test func severalChallengesInOneHeaderAndSchemesAreCaseInsensitive() {
        let parsed = AuthChallenge.parse(#"basic realm="a", BEARER realm="https://auth.example/token", service=reg"#)
        #expect(parsed == [
            AuthChallenge(scheme: .basic, parameters: ["realm": "a"]),
            AuthChallenge(scheme: .bearer, parameters: ["realm": "https://auth.example/token", "service": "reg"]),
        ])
        #expect(AuthChallenge.parse(["Basic realm=\"x\"", "Bearer realm=\"y\""]).map(\.scheme) == [.basic, .bearer])
    }

    @Test func escapesUnquotedValuesAndParameterNames() {
        let parsed = AuthChallenge.parse(#"Bearer Realm="https://a/t?x=\"1\"", scope=repository:a/b:pull"#)
        #expect(parsed.first?.parameters == ["realm": #"https://a/t?x="1""#, "scope": "repository:a/b:pull"])
    }

    @Test func otherSchemesAreSkipped() {
        #expect(AuthChallenge.parse(#"Negotiate, Digest realm="d", nonce="n", Basic realm="b""#)
            == [AuthChallenge(scheme: .basic, parameters: ["realm": "b"])])
    }

    @Test(arguments: [
        "", " ", ",,,", "=", "Bearer realm=\"unterminated", "Bearer realm=", "Bearer =x", "\"Bearer\"",
        "Bearer realm=\"\\", "\u{0}\u{1}\u{2}", "Bearer realm=\"x\"\u{FFFF}garbage=\"", "Basic realm=\"é\"",
    ])
    func hostileHeadersNeverCrash(_ header: String) {
        // Whatever the input, the parser returns (possibly nothing) without crashing, and every
        // challenge it returns is one of the two schemes.
        for challenge in AuthChallenge.parse(header) {
            #expect(challenge.scheme == .basic || challenge.scheme == .bearer)
        }
    }

    @Test func unterminatedQuoteKeepsWhatCameBefore() {
        let parsed = AuthChallenge.parse(#"Bearer service="s", realm="https://unterminated"#)
        #expect(parsed == [AuthChallenge(scheme: .bearer, parameters: ["service": "s"])])
    }

    @Test func hugeHeaderIsBounded() {
        let header = "Bearer realm=\"https://a/t\"," + String(repeating: "x=\"y\",", count: 100_000)
        let parsed = AuthChallenge.parse(header)
        #expect(parsed.count == 1)
        #expect(parsed[0].parameters["realm"] == "https://a/t")
    }
}
