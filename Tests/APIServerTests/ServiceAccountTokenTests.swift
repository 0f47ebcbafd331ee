@testable import APIMachinery
@testable import APIServer
import APITestSupport
import Crypto
import Foundation
import KubeAPI
import Testing

/// Issue 16: service-account JWTs as kube-apiserver signs and checks them (pkg/serviceaccount),
/// and every way a token can be wrong or hostile: refused with a reason, never a crash.
@Suite struct ServiceAccountTokenTests {
    static let issuer = ServiceAccountIssuer(key: P256.Signing.PrivateKey())
    static let now = Date(timeIntervalSince1970: 1_800_000_000)

    static func claims(audiences: [String] = [ServiceAccountIssuer.defaultIssuer], issuedAt: Int64 = 1_800_000_000,
                       lifetime: Int64 = 3600) -> ServiceAccountClaims {
        ServiceAccountClaims(issuer: ServiceAccountIssuer.defaultIssuer, audiences: audiences, issuedAt: issuedAt, notBefore: issuedAt,
                             expiry: issuedAt + lifetime, id: "f0c2d8e4-0000-4000-8000-000000000001", namespace: "team",
                             serviceAccount: .init(name: "builder", uid: "sa-uid"), pod: .init(name: "web-0", uid: "pod-uid"),
                             node: .init(name: "node-a", uid: "node-uid"), warnAfter: issuedAt + 3607)
    }

    /// A token signed by `issuer`'s key over any header and payload text.
    static func forge(header: String, payload: String, key: P256.Signing.PrivateKey = issuer.key) throws -> String {
        let input = Base64URL.encode(Array(header.utf8)) + "." + Base64URL.encode(Array(payload.utf8))
        let signature = try key.signature(for: Data(input.utf8)).rawRepresentation
        return input + "." + Base64URL.encode(Array(signature))
    }

    @Test func aSignedTokenVerifiesToTheSameClaimsInKubernetesShape() throws {
        let claims = Self.claims()
        let token = Self.issuer.sign(claims)
        #expect(try Self.issuer.verify(token, now: Self.now).get() == claims)
        let parts = token.split(separator: ".")
        #expect(parts.count == 3)
        let header = try JSONParser.parse(try #require(Base64URL.decode(parts[0])))
        #expect(header == .object(["alg": .string("ES256"), "kid": .string(Self.issuer.keyID)]))
        // kid: unpadded base64url SHA-256 of the PKIX DER public key (upstream keyIDFromPublicKey).
        #expect(Self.issuer.keyID == Base64URL.encode(Array(SHA256.hash(data: Self.issuer.key.publicKey.derRepresentation))))
        let payload = try JSONParser.parse(try #require(Base64URL.decode(parts[1])))
        #expect(payload["sub"] == .string("system:serviceaccount:team:builder"))
        #expect(payload["iss"] == .string("https://kubernetes.default.svc.cluster.local"))
        #expect(payload["aud"] == .array([.string("https://kubernetes.default.svc.cluster.local")]))
        #expect(payload["exp"] == .int(1_800_003_600))
        #expect(payload["nbf"] == .int(1_800_000_000))
        #expect(payload["iat"] == .int(1_800_000_000))
        #expect(payload["kubernetes.io"] == .object([
            "namespace": .string("team"),
            "serviceaccount": .object(["name": .string("builder"), "uid": .string("sa-uid")]),
            "pod": .object(["name": .string("web-0"), "uid": .string("pod-uid")]),
            "node": .object(["name": .string("node-a"), "uid": .string("node-uid")]),
            "warnafter": .int(1_800_003_607),
        ]))
    }

    @Test func expiryAndNotBeforeAreCheckedWithGoJosesMinuteOfLeeway() {
        let token = Self.issuer.sign(Self.claims(lifetime: 600))
        #expect((try? Self.issuer.verify(token, now: Self.now.addingTimeInterval(600 + 59)).get()) != nil)
        #expect(Self.issuer.verify(token, now: Self.now.addingTimeInterval(600 + 61)) == .failure(.expired))
        #expect((try? Self.issuer.verify(token, now: Self.now.addingTimeInterval(-59)).get()) != nil)
        #expect(Self.issuer.verify(token, now: Self.now.addingTimeInterval(-61)) == .failure(.notYetValid))
    }

    @Test func anotherKeyAnotherIssuerOrAnotherAudienceIsRefused() throws {
        let token = Self.issuer.sign(Self.claims())
        let otherKey = ServiceAccountIssuer(key: P256.Signing.PrivateKey())
        // The kid names the key: another key's token is a bad signature (also without a kid).
        #expect(otherKey.verify(token, now: Self.now) == .failure(.badSignature))
        let withoutKid = try Self.forge(header: #"{"alg":"ES256"}"#, payload: String(decoding: JSONSerializer.serialize(Self.claims().json), as: UTF8.self),
                                        key: P256.Signing.PrivateKey())
        #expect(Self.issuer.verify(withoutKid, now: Self.now) == .failure(.badSignature))
        let otherIssuer = ServiceAccountIssuer(key: Self.issuer.key, issuer: "https://elsewhere.example")
        #expect(otherIssuer.verify(token, now: Self.now) == .failure(.notOurs))
        let foreign = Self.issuer.sign(Self.claims(audiences: ["vault"]))
        #expect(Self.issuer.verify(foreign, now: Self.now)
            == .failure(.audience(token: ["vault"], target: ["https://kubernetes.default.svc.cluster.local"])))
        let several = Self.issuer.sign(Self.claims(audiences: ["vault", ServiceAccountIssuer.defaultIssuer]))
        #expect((try? Self.issuer.verify(several, now: Self.now).get()) != nil)
    }

    @Test func tamperingAlgNoneAndOtherAlgorithmsAreRefused() throws {
        let token = Self.issuer.sign(Self.claims())
        let parts = token.split(separator: ".").map(String.init)
        // The payload changed to another namespace: the signature no longer matches.
        var payload = Self.claims()
        payload.namespace = "kube-system"
        let tampered = parts[0] + "." + Base64URL.encode(JSONSerializer.serialize(payload.json)) + "." + parts[2]
        #expect(Self.issuer.verify(tampered, now: Self.now) == .failure(.badSignature))
        // alg none, with and without a signature part.
        let none = Base64URL.encode(Array(#"{"alg":"none"}"#.utf8)) + "." + parts[1]
        #expect(Self.issuer.verify(none + ".", now: Self.now) == .failure(.malformed("algorithm is not ES256")))
        #expect(Self.issuer.verify(none, now: Self.now) == .failure(.notOurs))
        // HS256 "signed" with the public key as the secret (the classic confusion attack).
        let hsInput = Base64URL.encode(Array(#"{"alg":"HS256"}"#.utf8)) + "." + parts[1]
        let mac = HMAC<SHA256>.authenticationCode(for: Data(hsInput.utf8), using: SymmetricKey(data: Self.issuer.key.publicKey.derRepresentation))
        #expect(Self.issuer.verify(hsInput + "." + Base64URL.encode(Array(mac)), now: Self.now) == .failure(.malformed("algorithm is not ES256")))
        // ES256 in another case, a truncated and an empty signature.
        let lower = try Self.forge(header: #"{"alg":"es256"}"#, payload: "{}")
        #expect(Self.issuer.verify(lower, now: Self.now) == .failure(.malformed("algorithm is not ES256")))
        #expect((try? Self.issuer.verify(parts[0] + "." + parts[1] + "." + String(parts[2].dropLast(4)), now: Self.now).get()) == nil)
        let shortSignature = Base64URL.encode(Array(try #require(Base64URL.decode(Substring(parts[2]))).prefix(63)))
        #expect(Self.issuer.verify(parts[0] + "." + parts[1] + "." + shortSignature, now: Self.now) == .failure(.badSignature))
        #expect(Self.issuer.verify(parts[0] + "." + parts[1] + ".", now: Self.now) == .failure(.badSignature))
    }

    @Test func malformedBase64AndJSONAreRefused() throws {
        let token = Self.issuer.sign(Self.claims())
        let parts = token.split(separator: ".").map(String.init)
        let cases: [(String, ServiceAccountIssuer.Rejection)] = [
            ("", .notOurs), ("..", .malformed("the header is not a JSON object")), ("a.b.c.d", .notOurs),
            (parts[0] + "=." + parts[1] + "." + parts[2], .malformed("a part is not base64url")),
            (parts[0] + "." + parts[1] + "+/." + parts[2], .malformed("a part is not base64url")),
            (parts[0] + " ." + parts[1] + "." + parts[2], .malformed("a part is not base64url")),
            ("A." + parts[1] + "." + parts[2], .malformed("a part is not base64url")),
            (Base64URL.encode(Array("[1,2]".utf8)) + "." + parts[1] + "." + parts[2], .malformed("the header is not a JSON object")),
            (Base64URL.encode(Array("{\"alg\":".utf8)) + "." + parts[1] + "." + parts[2], .malformed("the header is not a JSON object")),
        ]
        for (text, rejection) in cases {
            #expect(Self.issuer.verify(text, now: Self.now) == .failure(rejection), "\(text.prefix(60))")
        }
        // Correctly signed, but not the claims of a service-account token.
        let header = #"{"alg":"ES256"}"#
        for payload in ["not json", "[]", "{}", #"{"iss":"https://kubernetes.default.svc.cluster.local"}"#,
                        #"{"iss":"https://kubernetes.default.svc.cluster.local","sub":"system:serviceaccount:a:b","aud":["https://kubernetes.default.svc.cluster.local"],"exp":"soon","kubernetes.io":{"namespace":"a","serviceaccount":{"name":"b","uid":"u"}}}"#,
                        // sub names another account than the private claim.
                        #"{"iss":"https://kubernetes.default.svc.cluster.local","sub":"system:serviceaccount:kube-system:admin","aud":["https://kubernetes.default.svc.cluster.local"],"exp":1800003600,"kubernetes.io":{"namespace":"a","serviceaccount":{"name":"b","uid":"u"}}}"#,
                        #"{"iss":"https://kubernetes.default.svc.cluster.local","sub":"system:serviceaccount:a:b","aud":[1],"exp":1800003600,"kubernetes.io":{"namespace":"a","serviceaccount":{"name":"b","uid":"u"}}}"#,
                        #"{"iss":"https://kubernetes.default.svc.cluster.local","sub":"system:serviceaccount:a:b","aud":"x","exp":1e300,"kubernetes.io":{"namespace":"a","serviceaccount":{"name":"b","uid":"u"}}}"#] {
            #expect(Self.issuer.verify(try Self.forge(header: header, payload: payload), now: Self.now)
                == .failure(.malformed("the claims are not those of a service-account token")), "\(payload)")
        }
        // `aud` as one string is RFC 7519's other form, and reads.
        let single = try Self.forge(header: header, payload: #"{"iss":"https://kubernetes.default.svc.cluster.local","sub":"system:serviceaccount:a:b","aud":"https://kubernetes.default.svc.cluster.local","exp":1800003600,"kubernetes.io":{"namespace":"a","serviceaccount":{"name":"b","uid":"u"}}}"#)
        #expect((try? Self.issuer.verify(single, now: Self.now).get())?.subject == "system:serviceaccount:a:b")
    }

    @Test func hostileSizesAreRefusedWithoutCrashing() throws {
        let token = Self.issuer.sign(Self.claims())
        let huge = String(repeating: "A", count: 1 << 20)
        #expect(Self.issuer.verify(huge + "." + huge + "." + huge, now: Self.now) == .failure(.malformed("longer than 16384 bytes")))
        #expect(Self.issuer.verify(String(repeating: ".", count: 16_000), now: Self.now) == .failure(.notOurs))
        // Deeply nested JSON in the header and the payload, within the size limit.
        let deep = String(repeating: "[", count: 5000)
        #expect(Self.issuer.verify(Base64URL.encode(Array(deep.utf8)) + ".e30.AA", now: Self.now) == .failure(.malformed("the header is not a JSON object")))
        #expect(Self.issuer.verify(try Self.forge(header: #"{"alg":"ES256"}"#, payload: deep), now: Self.now)
            == .failure(.malformed("the claims are not those of a service-account token")))
        // Random bytes around two dots, and random mutations of a real token.
        var generator = SystemRandomNumberGenerator()
        for round in 0..<2000 {
            var bytes = Array(token.utf8)
            if round % 2 == 0 {
                bytes = (0..<Int.random(in: 0...400, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
                bytes.insert(UInt8(ascii: "."), at: Int.random(in: 0...bytes.count, using: &generator))
                bytes.insert(UInt8(ascii: "."), at: Int.random(in: 0...bytes.count, using: &generator))
            } else {
                bytes[Int.random(in: 0..<bytes.count, using: &generator)] = UInt8.random(in: 0...127, using: &generator)
            }
            let text = String(decoding: bytes, as: UTF8.self)
            if text == token { continue }
            #expect((try? Self.issuer.verify(text, now: Self.now).get()) == nil, "\(text.prefix(80))")
        }
    }

    @Test func theSigningKeyIsMadeOnceAndKeptPrivate() throws {
        let temporary = try TemporaryDirectory()
        do {
            let directory = temporary.path
            let first = try ServiceAccountIssuer.loadOrCreate(directory: directory + "/tls")
            let second = try ServiceAccountIssuer.loadOrCreate(directory: directory + "/tls", issuer: "https://other.example")
            #expect(first.keyID == second.keyID)
            #expect(second.issuer == "https://other.example" && second.apiAudiences == ["https://other.example"])
            let mode = try FileManager.default.attributesOfItem(atPath: directory + "/tls/service.key")[.posixPermissions] as? Int
            #expect(mode == 0o600)
            // A token survives a restart.
            #expect((try? second.verify(ServiceAccountIssuer(key: first.key, issuer: "https://other.example").sign(
                ServiceAccountClaims(issuer: "https://other.example", audiences: ["https://other.example"], issuedAt: 1_800_000_000,
                                     notBefore: 1_800_000_000, expiry: 1_800_003_600, id: "", namespace: "a",
                                     serviceAccount: .init(name: "b", uid: "u"))), now: Self.now).get()) != nil)
            try "not a key".write(toFile: directory + "/tls/service.key", atomically: true, encoding: .utf8)
            #expect(throws: CertificateError.self) { try ServiceAccountIssuer.loadOrCreate(directory: directory + "/tls") }
        }
    }
}
