import Foundation
import Images
import Testing
@testable import Registry

/// Which endpoints a pull tries, in which order, with which repository and settings.
struct RegistryEndpointTests {
    static func endpoints(_ reference: String, _ config: RegistryConfig = .empty) throws -> [String] {
        try RegistryEndpoint.endpoints(for: ImageReference(parsing: reference), config: config).map(\.description)
    }

    @Test func shortNamesGoToDockerHubsRegistry() throws {
        #expect(try Self.endpoints("nginx") == ["https://registry-1.docker.io/v2/library/nginx"])
        #expect(try Self.endpoints("user/app:1") == ["https://registry-1.docker.io/v2/user/app"])
        #expect(try Self.endpoints("registry.example.com:5000/team/app@sha256:" + String(repeating: "a", count: 64))
            == ["https://registry.example.com:5000/v2/team/app"])
        #expect(try Self.endpoints("localhost:5000/app") == ["https://localhost:5000/v2/app"])
    }

    @Test func mirrorsFirstInOrderThenTheRegistryWithoutRewrites() throws {
        let config = RegistryConfig(mirrors: [
            "docker.io": .init(endpoints: [URL(string: "https://m1:5000")!, URL(string: "http://m2/cache")!, URL(string: "https://m3/v2")!],
                               rewrites: [try .init(pattern: "^library/(.*)$", replacement: "hub/$1"),
                                          try .init(pattern: ".*", replacement: "never-reached")]),
        ])
        #expect(try Self.endpoints("busybox:1.36", config) == [
            "https://m1:5000/v2/hub/busybox", "http://m2/cache/v2/hub/busybox", "https://m3/v2/hub/busybox",
            "https://registry-1.docker.io/v2/library/busybox",
        ])
        // Other registries are untouched.
        #expect(try Self.endpoints("quay.io/a/b", config) == ["https://quay.io/v2/a/b"])
    }

    @Test func wildcardMirrorAppliesToRegistriesWithoutTheirOwn() throws {
        let config = RegistryConfig(mirrors: [
            "*": .init(endpoints: [URL(string: "https://all:5000")!]),
            "quay.io": .init(endpoints: [URL(string: "https://q:5000")!]),
        ])
        #expect(try Self.endpoints("ghcr.io/x/y", config) == ["https://all:5000/v2/x/y", "https://ghcr.io/v2/x/y"])
        #expect(try Self.endpoints("quay.io/x/y", config) == ["https://q:5000/v2/x/y", "https://quay.io/v2/x/y"])
    }

    @Test func aPlainHTTPEntryForTheRegistryItselfReplacesItsHTTPSEndpoint() throws {
        let config = RegistryConfig(mirrors: ["10.0.0.5:5000": .init(endpoints: [URL(string: "http://10.0.0.5:5000")!])])
        #expect(try Self.endpoints("10.0.0.5:5000/app", config) == ["http://10.0.0.5:5000/v2/app"])
    }

    @Test func hostSettingsComeFromConfigsByEndpointHostThenWildcard() throws {
        let tls = RegistryConfig.TLSSettings(caFile: "/ca.pem")
        let config = RegistryConfig(
            mirrors: ["docker.io": .init(endpoints: [URL(string: "https://m1:5000")!, URL(string: "https://m2")!])],
            configs: ["m1:5000": .init(auth: RegistryCredential(username: "u", password: "p"), tls: tls),
                      "*": .init(tls: RegistryConfig.TLSSettings(insecureSkipVerify: true)),
                      "docker.io": .init(auth: RegistryCredential(username: "hub"))])
        let endpoints = RegistryEndpoint.endpoints(for: try ImageReference(parsing: "nginx"), config: config)
        #expect(endpoints.map(\.host) == ["m1:5000", "m2", "registry-1.docker.io"])
        #expect(endpoints[0].auth?.username == "u")
        #expect(endpoints[0].tls == tls)
        #expect(endpoints[1].tls?.insecureSkipVerify == true)
        #expect(endpoints[2].auth?.username == "hub")
        #expect(endpoints.map(\.isMirror) == [true, true, false])
    }
}

/// Pull secrets as kubelet reads and matches them.
struct DockerKeyringTests {
    static func secret(_ json: String, type: String = "kubernetes.io/dockerconfigjson", name: String = "regcred") -> DockerKeyring.Secret {
        let key = type == "kubernetes.io/dockercfg" ? ".dockercfg" : ".dockerconfigjson"
        return DockerKeyring.Secret(name: name, type: type, data: [key: Data(json.utf8)])
    }

    static func lookup(_ keyring: DockerKeyring, _ image: String) throws -> [String] {
        keyring.lookup(try ImageReference(parsing: image)).compactMap(\.username)
    }

    @Test func dockerConfigJSONAndLegacyDockercfg() throws {
        let auth = Data("alice:pw".utf8).base64EncodedString()
        let keyring = try DockerKeyring(secrets: [
            Self.secret(#"{"auths":{"registry.example.com:5000":{"auth":"\#(auth)"}}}"#),
            Self.secret(#"{"quay.io":{"username":"bob","password":"x","email":"b@example.com"}}"#, type: "kubernetes.io/dockercfg"),
            DockerKeyring.Secret(name: "other", type: "Opaque", data: [".dockerconfigjson": Data("not json".utf8)]),
        ])
        #expect(try Self.lookup(keyring, "registry.example.com:5000/team/app:1") == ["alice"])
        #expect(keyring.lookup(try ImageReference(parsing: "registry.example.com:5000/team/app")).first?.password == "pw")
        #expect(try Self.lookup(keyring, "quay.io/x/y") == ["bob"])
        #expect(try Self.lookup(keyring, "registry.example.com/team/app").isEmpty)  // the port must match
        #expect(try Self.lookup(keyring, "nginx").isEmpty)
    }

    @Test func dockerHubKeysAndTheDefaultRegistryFallback() throws {
        let keyring = try DockerKeyring(secrets: [Self.secret(#"{"auths":{"https://index.docker.io/v1/":{"username":"hub","password":"p"}}}"#)])
        #expect(try Self.lookup(keyring, "nginx") == ["hub"])
        #expect(try Self.lookup(keyring, "docker.io/user/app") == ["hub"])
        #expect(try Self.lookup(keyring, "quay.io/user/app").isEmpty)
        let direct = try DockerKeyring(secrets: [Self.secret(#"{"auths":{"docker.io":{"username":"d","password":"p"}}}"#)])
        #expect(try Self.lookup(direct, "library/busybox") == ["d"])
    }

    @Test func globsPathsAndMostSpecificFirst() throws {
        let keyring = try DockerKeyring(secrets: [Self.secret("""
            {"auths":{
              "*.example.com":{"username":"any"},
              "registry.example.com/team":{"username":"team"},
              "registry.example.com/team/app":{"username":"app"},
              "registry.example.com":{"username":"host"}}}
            """)])
        #expect(try Self.lookup(keyring, "registry.example.com/team/app:1") == ["app", "team", "host", "any"])
        #expect(try Self.lookup(keyring, "registry.example.com/other/x") == ["host", "any"])
        #expect(try Self.lookup(keyring, "a.b.example.com/x").isEmpty)  // a glob matches one label
        #expect(try Self.lookup(keyring, "other.example.com/x") == ["any"])
    }

    @Test func unreadableSecretsAreNamedInTheError() {
        #expect(throws: RegistryError.self) { try DockerKeyring(secrets: [Self.secret("{")]) }
        do {
            _ = try DockerKeyring(secrets: [Self.secret(#"{"auths":{"r":{"auth":"@@@"}}}"#, name: "bad")])
            Issue.record("no error")
        } catch {
            #expect("\(error)" == #"pull secret "bad", registry "r": auth is not base64 of "user:password""#)
        }
        do {
            _ = try DockerKeyring(secrets: [Self.secret(#"{"auths":[1]}"#, name: "worse")])
            Issue.record("no error")
        } catch {
            #expect("\(error)".hasPrefix(#"pull secret "worse": .dockerconfigjson is not a docker config.json"#))
        }
    }

    @Test func credentialsNeverPrintTheirSecrets() {
        let credential = RegistryCredential(username: "u", password: "hunter2", identityToken: "xyzzy")
        #expect(!"\(credential)".contains("hunter2"))
        #expect(!"\(RegistryCredential(identityToken: "xyzzy"))".contains("xyzzy"))
    }
}
