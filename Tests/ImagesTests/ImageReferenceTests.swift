import Testing
@testable import Images

/// Cases from distribution/reference's normalize_test.go and reference_test.go, run through
/// our `ParseNormalizedNamed` equivalent.
@Suite struct ImageReferenceTests {
    static let digest = "sha256:" + String(repeating: "f", count: 64)

    struct Case: Sendable, CustomTestStringConvertible {
        var input: String
        var domain: String
        var path: String
        var tag: String? = nil
        var digest: String? = nil
        var normalized: String
        var familiar: String
        var testDescription: String { input }
    }

    @Test(arguments: [
        Case(input: "busybox", domain: "docker.io", path: "library/busybox",
             normalized: "docker.io/library/busybox:latest", familiar: "busybox:latest"),
        Case(input: "user/app:1", domain: "docker.io", path: "user/app", tag: "1",
             normalized: "docker.io/user/app:1", familiar: "user/app:1"),
        Case(input: "localhost:5000/x", domain: "localhost:5000", path: "x",
             normalized: "localhost:5000/x:latest", familiar: "localhost:5000/x:latest"),
        Case(input: "localhost/x", domain: "localhost", path: "x",
             normalized: "localhost/x:latest", familiar: "localhost/x:latest"),
        Case(input: "registry.example.com:5000/ns/app@" + digest, domain: "registry.example.com:5000",
             path: "ns/app", digest: digest, normalized: "registry.example.com:5000/ns/app@" + digest,
             familiar: "registry.example.com:5000/ns/app@" + digest),
        Case(input: "app:tag@" + digest, domain: "docker.io", path: "library/app", tag: "tag", digest: digest,
             normalized: "docker.io/library/app@" + digest, familiar: "app@" + digest),
        Case(input: "docker.io/library/busybox:1.36", domain: "docker.io", path: "library/busybox", tag: "1.36",
             normalized: "docker.io/library/busybox:1.36", familiar: "busybox:1.36"),
        Case(input: "index.docker.io/debian", domain: "docker.io", path: "library/debian",
             normalized: "docker.io/library/debian:latest", familiar: "debian:latest"),
        Case(input: "docker.io/foo", domain: "docker.io", path: "library/foo",
             normalized: "docker.io/library/foo:latest", familiar: "foo:latest"),
        Case(input: "library/foo/bar", domain: "docker.io", path: "library/foo/bar",
             normalized: "docker.io/library/foo/bar:latest", familiar: "library/foo/bar:latest"),
        Case(input: "test_com/foo", domain: "docker.io", path: "test_com/foo",
             normalized: "docker.io/test_com/foo:latest", familiar: "test_com/foo:latest"),
        Case(input: "test-com:8080/foo", domain: "test-com:8080", path: "foo",
             normalized: "test-com:8080/foo:latest", familiar: "test-com:8080/foo:latest"),
        Case(input: "xn--n3h.com:18080/foo", domain: "xn--n3h.com:18080", path: "foo",
             normalized: "xn--n3h.com:18080/foo:latest", familiar: "xn--n3h.com:18080/foo:latest"),
        Case(input: "Foo/bar", domain: "Foo", path: "bar",
             normalized: "Foo/bar:latest", familiar: "Foo/bar:latest"),
        Case(input: "192.168.0.1", domain: "docker.io", path: "library/192.168.0.1",
             normalized: "docker.io/library/192.168.0.1:latest", familiar: "192.168.0.1:latest"),
        Case(input: "192.168.0.1:80", domain: "docker.io", path: "library/192.168.0.1", tag: "80",
             normalized: "docker.io/library/192.168.0.1:80", familiar: "192.168.0.1:80"),
        Case(input: "192.168.1.1:5000/repo:5050", domain: "192.168.1.1:5000", path: "repo", tag: "5050",
             normalized: "192.168.1.1:5000/repo:5050", familiar: "192.168.1.1:5000/repo:5050"),
        Case(input: "[fc00::1]:5000/docker/docker", domain: "[fc00::1]:5000", path: "docker/docker",
             normalized: "[fc00::1]:5000/docker/docker:latest", familiar: "[fc00::1]:5000/docker/docker:latest"),
        Case(input: "[2001:db8::1]/repo", domain: "[2001:db8::1]", path: "repo",
             normalized: "[2001:db8::1]/repo:latest", familiar: "[2001:db8::1]/repo:latest"),
        Case(input: "b.gcr.io/test.example.com/my-app:test.example.com", domain: "b.gcr.io",
             path: "test.example.com/my-app", tag: "test.example.com",
             normalized: "b.gcr.io/test.example.com/my-app:test.example.com",
             familiar: "b.gcr.io/test.example.com/my-app:test.example.com"),
        Case(input: "lowercase:Uppercase", domain: "docker.io", path: "library/lowercase", tag: "Uppercase",
             normalized: "docker.io/library/lowercase:Uppercase", familiar: "lowercase:Uppercase"),
        Case(input: "docker---rules/do__cker", domain: "docker.io", path: "docker---rules/do__cker",
             normalized: "docker.io/docker---rules/do__cker:latest", familiar: "docker---rules/do__cker:latest"),
        Case(input: "docker.io/1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a",
             domain: "docker.io", path: "library/1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a",
             normalized: "docker.io/library/1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a:latest",
             familiar: "1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a:latest"),
    ])
    func parsesValid(_ c: Case) throws {
        let ref = try ImageReference(parsing: c.input)
        #expect(ref.domain == c.domain)
        #expect(ref.path == c.path)
        #expect(ref.tag == c.tag)
        #expect(ref.digest?.description == c.digest)
        #expect(ref.normalized == c.normalized)
        #expect(ref.familiar == c.familiar)
        #expect(ref.description == c.normalized)
        // Normalizing is idempotent.
        #expect(try ImageReference(parsing: ref.normalized).normalized == c.normalized)
    }

    @Test(arguments: [
        ("docker/Docker", "repository name must be lowercase"),
        ("Uppercase:tag", "repository name must be lowercase"),
        ("test:5000/Uppercase/lowercase:tag", "repository name must be lowercase"),
        ("docker.io/docker/Docker", "repository name must be lowercase"),
        ("1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a", "64-byte hexadecimal"),
        ("", "at least one component"),
        ("https://github.com/docker/docker", "invalid reference format"),
        ("-docker", "invalid reference format"),
        ("-docker/docker", "invalid reference format"),
        ("docker-/docker", "invalid reference format"),
        ("-docker.io/docker/docker", "invalid reference format"),
        ("docker///docker", "invalid reference format"),
        ("docker.io/docker///docker", "invalid reference format"),
        ("____/____", "invalid reference format"),
        ("_docker/_docker", "invalid reference format"),
        ("dock..er/docker", "invalid reference format"),
        ("dock_.er/docker", "invalid reference format"),
        ("dock-.er/docker", "invalid reference format"),
        ("docker/", "invalid reference format"),
        ("[fc00::1]", "invalid reference format"),
        ("[fc00::1]:5000", "invalid reference format"),
        ("fc00::1:5000/debian", "invalid reference format"),
        ("[fe80::1%eth0]:5000/debian", "invalid reference format"),
        ("[2001:db8:3:4::192.0.2.33]:5000/debian", "invalid reference format"),
        (":justtag", "invalid reference format"),
        ("@" + digest, "invalid reference format"),
        ("aa/asdf$$^/aa", "invalid reference format"),
        ("busybox:-tag", "invalid tag"),
        ("busybox:" + String(repeating: "t", count: 129), "invalid tag"),
        ("repo@sha256:ffffffffffffffffffffffffffffffffff", "64 lowercase hex"),
        ("validname@invaliddigest:" + String(repeating: "f", count: 64), "only sha256 is supported"),
        (String(repeating: "a/", count: 128) + "a:tag", "must not be more than 255 characters"),
        ("this_is_not_a_valid_namespace_because_its_lenth_is_greater_than_255_this_is_not_a_valid_namespace_because_its_lenth_is_greater_than_255_this_is_not_a_valid_namespace_because_its_lenth_is_greater_than_255_this_is_not_a_valid_namespace_because_its_lenth_is_greater_than_255/docker",
         "must not be more than 255 characters"),
    ])
    func rejectsInvalid(input: String, message: String) {
        #expect {
            try ImageReference(parsing: input)
        } throws: { error in
            "\(error)".contains(message)
        }
    }

    @Test func lowercaseErrorNamesTheInput() {
        #expect {
            try ImageReference(parsing: "Busybox")
        } throws: { error in
            "\(error)" == "invalid reference format: repository name must be lowercase (in \"Busybox\")"
        }
    }

    @Test func maximumTagAndPathLengthsAreAccepted() throws {
        let ref = try ImageReference(parsing: "busybox:" + String(repeating: "t", count: 128))
        #expect(ref.tag?.count == 128)
        let long = String(repeating: "a/", count: 127) + "a"  // 255 characters
        #expect(try ImageReference(parsing: "example.com/" + long).path == long)
    }
}
