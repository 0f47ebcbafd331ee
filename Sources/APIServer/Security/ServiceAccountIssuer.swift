import APIMachinery
import Crypto
import Foundation
import KubeAPI

/// Signs and verifies service-account tokens: compact JWS (RFC 7515) with ES256 over the
/// claims of `ServiceAccountClaims`, as kube-apiserver's `jwtTokenGenerator` makes them
/// (pkg/serviceaccount/jwt.go): header `{"alg":"ES256","kid":<key id>}` where the key id is
/// the unpadded base64url SHA-256 of the public key's PKIX DER (upstream `keyIDFromPublicKey`).
///
/// The key is an ECDSA P-256 key kept in the data directory (`service.key`, mode 0600, as k3s
/// keeps its service-account key next to the CA), made on first start: tokens stay valid across
/// restarts and die with the key.
public struct ServiceAccountIssuer: Sendable {
    /// k3s' default issuer (kube-apiserver's --service-account-issuer).
    public static let defaultIssuer = "https://kubernetes.default.svc.cluster.local"
    /// Tokens longer than this are not read at all: a real one is well under 2 KiB.
    static let maximumTokenBytes = 16 * 1024

    let key: P256.Signing.PrivateKey
    /// The `iss` of tokens issued, and the only one accepted.
    public let issuer: String
    /// The API server's audiences (--api-audiences; upstream's default is the issuer): the
    /// default `aud` of a TokenRequest, and a token must name one of them to authenticate.
    public let apiAudiences: [String]
    public let keyID: String

    public init(key: P256.Signing.PrivateKey, issuer: String = defaultIssuer, apiAudiences: [String]? = nil) {
        self.key = key
        self.issuer = issuer
        self.apiAudiences = apiAudiences ?? [issuer]
        self.keyID = Base64URL.encode(Array(SHA256.hash(data: key.publicKey.derRepresentation)))
    }

    /// Loads `service.key` from `directory`, creating it on first start.
    public static func loadOrCreate(directory: String, issuer: String = defaultIssuer) throws -> ServiceAccountIssuer {
        let path = directory + "/service.key"
        if FileManager.default.fileExists(atPath: path) {
            do {
                return ServiceAccountIssuer(key: try P256.Signing.PrivateKey(pemRepresentation: try String(contentsOfFile: path, encoding: .utf8)),
                                            issuer: issuer)
            } catch {
                throw CertificateError("read the service-account signing key \(path): \(error); remove it to make a new one (every service-account token then stops working)")
            }
        }
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw CertificateError("create \(directory) for the service-account signing key: \(error.localizedDescription)")
        }
        let key = P256.Signing.PrivateKey()
        try ServerCertificates.write(key.pemRepresentation, to: path, mode: 0o600)
        return ServiceAccountIssuer(key: key, issuer: issuer)
    }

    private var header: JSONValue { .object(["alg": .string("ES256"), "kid": .string(keyID)]) }

    /// The signed token of `claims`.
    public func sign(_ claims: ServiceAccountClaims) -> String {
        let signingInput = Base64URL.encode(JSONSerializer.serialize(header)) + "." + Base64URL.encode(JSONSerializer.serialize(claims.json))
        // A P-256 signature over a SHA-256 digest does not fail with a valid key.
        let signature = (try? key.signature(for: Data(signingInput.utf8)).rawRepresentation) ?? Data()
        return signingInput + "." + Base64URL.encode(Array(signature))
    }

    /// Why a token was refused; the API server answers 401 whatever the reason, and logs it.
    public enum Rejection: Error, Equatable, CustomStringConvertible {
        case notOurs
        case malformed(String)
        case badSignature
        case expired
        case notYetValid
        case audience(token: [String], target: [String])

        public var description: String {
            switch self {
            case .notOurs: return "not a token of this issuer"
            case .malformed(let why): return "malformed token: \(why)"
            case .badSignature: return "invalid signature"
            case .expired: return "service account token has expired"
            case .notYetValid: return "service account token is not valid yet"
            case .audience(let token, let target): return "token audiences \(token) is invalid for the target audiences \(target)"
            }
        }
    }

    /// go-jose's default leeway for `exp` and `nbf` (jwt.DefaultLeeway), which upstream's
    /// validator uses.
    static let leeway: Int64 = 60

    /// The claims of a token signed by this key for this issuer and one of the API audiences,
    /// current at `now`. Checks the JWS structure strictly: three base64url parts, a JSON
    /// header with `alg` ES256 exactly (no `none`, no other algorithm), a 64-byte signature.
    public func verify(_ token: String, now: Date = Date()) -> Result<ServiceAccountClaims, Rejection> {
        guard token.utf8.count <= Self.maximumTokenBytes else { return .failure(.malformed("longer than \(Self.maximumTokenBytes) bytes")) }
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3 else { return .failure(.notOurs) }
        guard let headerBytes = Base64URL.decode(parts[0]), let payloadBytes = Base64URL.decode(parts[1]),
              let signature = Base64URL.decode(parts[2]) else {
            return .failure(.malformed("a part is not base64url"))
        }
        guard let header = try? JSONParser.parse(headerBytes), case .object = header else {
            return .failure(.malformed("the header is not a JSON object"))
        }
        guard header["alg"]?.stringValue == "ES256" else { return .failure(.malformed("algorithm is not ES256")) }
        if let kid = header["kid"], kid.stringValue != keyID { return .failure(.badSignature) }
        guard signature.count == 64, let ecdsa = try? P256.Signing.ECDSASignature(rawRepresentation: signature),
              key.publicKey.isValidSignature(ecdsa, for: Data(token.utf8.prefix(parts[0].utf8.count + 1 + parts[1].utf8.count))) else {
            return .failure(.badSignature)
        }
        guard let payload = try? JSONParser.parse(payloadBytes), let claims = ServiceAccountClaims(json: payload) else {
            return .failure(.malformed("the claims are not those of a service-account token"))
        }
        guard claims.issuer == issuer else { return .failure(.notOurs) }
        let seconds = Int64(now.timeIntervalSince1970)
        if seconds > claims.expiry + Self.leeway { return .failure(.expired) }
        if claims.notBefore != 0, seconds + Self.leeway < claims.notBefore { return .failure(.notYetValid) }
        guard claims.audiences.contains(where: apiAudiences.contains) else { return .failure(.audience(token: claims.audiences, target: apiAudiences)) }
        return .success(claims)
    }
}

/// Unpadded base64url (RFC 4648 section 5), as JWS uses it.
enum Base64URL {
    static func encode<Bytes: Collection>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
        Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// nil for anything but canonical unpadded base64url (padding, `+`, `/`, whitespace are refused).
    static func decode(_ text: Substring) -> [UInt8]? {
        guard text.utf8.allSatisfy({ byte in
            (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
                || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_")
        }), text.utf8.count % 4 != 1 else {
            return nil
        }
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.utf8.count % 4 != 0 { base64 += "=" }
        guard let bytes = Data(base64Encoded: base64).map(Array.init) else { return nil }
        // Canonical only: unused low bits of the last character must be zero, so one token
        // has one spelling (Go's strict decoding).
        guard encode(bytes) == text else { return nil }
        return bytes
    }
}
