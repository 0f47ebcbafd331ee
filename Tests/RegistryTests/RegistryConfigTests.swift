import Foundation
import Images
import Testing
@testable import Registry

/// The registry file: k3s' registries.yaml read field by field, with errors that name the field.
struct RegistryConfigTests {
    static func parse(_ text: String) throws -> RegistryConfig { try RegistryConfigParser.parse(text) }

    static func error(_ text: String) -> String {
        do {
            _ = try parse(text)
            return "no error"
        } catch {
            return "\(error)"
        }
    }

    @Test func fullExampleFromTheDocs() throws {
        let ca = FileManager.default.temporaryDirectory.appendingPathComponent("swiftlet-ca-\(UUID()).pem").path
        try "not checked here".write(toFile: ca, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: ca) }
        let config = try Self.parse("""
            mirrors:
              docker.io:
                endpoint:
                  - "https://mirror.internal:5000"
                  - "http://10.0.0.9:5000/prefix"
                rewrite:
                  "^library/(.*)": "dockerhub/$1"
              "*":
                endpoint: ["mirror.internal:5000"]
            configs:
              "mirror.internal:5000":
                auth:
                  username: puller
                  password: secret
                tls:
                  ca_file: \(ca)
                  insecure_skip_verify: false
              "10.0.0.9:5000":
                auth:
                  auth: \(Data("u:p:with:colons".utf8).base64EncodedString())
            """)
        let hub = try #require(config.mirrors["docker.io"])
        #expect(hub.endpoints.map(\.absoluteString) == ["https://mirror.internal:5000", "http://10.0.0.9:5000/prefix"])
        #expect(hub.rewrites == [try RegistryConfig.Rewrite(pattern: "^library/(.*)", replacement: "dockerhub/$1")])
        #expect(config.mirrors["*"]?.endpoints.map(\.absoluteString) == ["https://mirror.internal:5000"])
        #expect(config.configs["mirror.internal:5000"]?.auth == RegistryCredential(username: "puller", password: "secret"))
        #expect(config.configs["mirror.internal:5000"]?.tls == RegistryConfig.TLSSettings(caFile: ca))
        #expect(config.configs["10.0.0.9:5000"]?.auth == RegistryCredential(username: "u", password: "p:with:colons"))
    }

    @Test func emptyFilesAndEmptySectionsAreNoConfiguration() throws {
        for text in ["", "\n", "# just a comment\n", "mirrors:\nconfigs:\n", "~"] {
            #expect(try Self.parse(text) == .empty, "\(text.debugDescription)")
        }
        #expect(try RegistryConfig.load(path: "/nonexistent/registries.yaml") == .empty)
    }

    @Test func mistakesAreNamedByTheirField() {
        #expect(Self.error("mirror:\n  docker.io: {}") == "mirror: unknown field (expected one of mirrors, configs)")
        #expect(Self.error("mirrors:\n  docker.io:\n    endpoints: [a]") == #"mirrors."docker.io".endpoints: unknown field (expected one of endpoint, rewrite)"#)
        #expect(Self.error("mirrors:\n  docker.io:\n    endpoint: https://a") == #"mirrors."docker.io".endpoint: must be a list of URLs"#)
        #expect(Self.error("mirrors:\n  docker.io:\n    endpoint: [\"ftp://a\"]") == #"mirrors."docker.io".endpoint[0]: "ftp://a" is not an http:// or https:// URL of a registry"#)
        #expect(Self.error("mirrors:\n  docker.io:\n    endpoint: [\"https://u:p@a\"]").contains("is not an http:// or https:// URL"))
        #expect(Self.error("mirrors:\n  docker.io:\n    rewrite:\n      \"(unclosed\": x") == #"mirrors."docker.io".rewrite."(unclosed": rewrite pattern "(unclosed" is not a valid regular expression"#)
        #expect(Self.error("configs:\n  a:\n    tls:\n      ca_file: /nonexistent/ca.pem") == "configs.a.tls.ca_file: cannot read /nonexistent/ca.pem")
        #expect(Self.error("configs:\n  a:\n    tls:\n      insecure_skip_verify: maybe") == "configs.a.tls.insecure_skip_verify: must be true or false")
        #expect(Self.error("configs:\n  a:\n    auth:\n      auth: '!!!'") == #"configs.a.auth.auth: auth is not base64 of "user:password""#)
        #expect(Self.error("configs:\n  a:\n    auth:\n      token: x") == "configs.a.auth.token: unknown field (expected one of username, password, auth, identitytoken)")
        #expect(Self.error("- a\n- b") == "the file: must be a mapping")
        #expect(Self.error("mirrors: [a]") == "mirrors: must be a mapping")
        #expect(Self.error("mirrors:\n  a: {}\n  a: {}").contains("duplicated key"))
        #expect(Self.error("mirrors: {a: [b") .hasPrefix("not valid YAML"))
    }

    @Test func clientCertificateNeedsItsKey() throws {
        let cert = FileManager.default.temporaryDirectory.appendingPathComponent("swiftlet-cert-\(UUID()).pem").path
        try "x".write(toFile: cert, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: cert) }
        #expect(Self.error("configs:\n  a:\n    tls:\n      cert_file: \(cert)") == "configs.a.tls: cert_file and key_file go together (a client certificate and its key)")
    }

    @Test func aliasesAreReadOnceAndBombsFailFast() throws {
        let config = try Self.parse("mirrors:\n  x: &m {endpoint: [\"https://a\"]}\n  y: *m")
        #expect(config.mirrors["x"] == config.mirrors["y"])
        // A billion-laughs document is refused at its first wrong value, never expanded.
        var levels = ["&l0 [" + Array(repeating: "lol", count: 9).joined(separator: ",") + "]"]
        for level in 1...9 {
            levels.append("&l\(level) [" + Array(repeating: "*l\(level - 1)", count: 9).joined(separator: ",") + "]")
        }
        let bomb = "mirrors:\n  x:\n    endpoint: [" + levels.joined(separator: ", ") + "]\n"
        #expect(Self.error(bomb) == #"mirrors.x.endpoint[0]: must be a string"#)
        #expect(Self.error(String(repeating: "#", count: 2 << 20)) == "larger than 1048576 bytes")
    }

    @Test func loadNamesTheFile() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("swiftlet-reg-\(UUID()).yaml").path
        try "mirrors: 3".write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(throws: RegistryError(.invalidInput, "registry file \(path): mirrors: must be a mapping")) {
            try RegistryConfig.load(path: path)
        }
    }
}
