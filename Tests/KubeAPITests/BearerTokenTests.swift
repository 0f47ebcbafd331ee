import KubeAPI
import Testing

/// `BearerToken`: k8s.io/apiserver's bearertoken authenticator's reading of the header.
@Suite struct BearerTokenTests {
    @Test(arguments: [
        ("Bearer abc", BearerToken.Parsed.token("abc")),
        ("bearer abc", .token("abc")),
        ("BEARER abc", .token("abc")),
        ("  Bearer abc  ", .token("abc")),
        ("Bearer abc def", .token("abc")),
        ("Bearer  abc", .spaceBeforeToken),
        ("Bearer   abc", .spaceBeforeToken),
        ("Bearer ", .none),
        ("Bearer", .none),
        ("Bearer\tabc", .none),
        ("Basic YWJjOmRlZg==", .none),
        ("", .none),
        ("Bearerabc", .none),
    ])
    func headersAreReadExactlyAsKubernetesReadsThem(header: String, parsed: BearerToken.Parsed) {
        #expect(BearerToken.parse(header) == parsed)
    }

    @Test func noHeaderIsNoToken() {
        #expect(BearerToken.parse(nil) == .none)
    }
}
