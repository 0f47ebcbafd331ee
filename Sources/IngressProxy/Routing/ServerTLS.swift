import Crypto
import Foundation
import NIOSSL
import X509

/// The proxy's TLS contexts: one per Ingress certificate and the default one, each offering
/// HTTP/2 and HTTP/1.1 by ALPN.
enum ServerTLS {
    /// ALPN protocols in the server's order of preference (ingress-nginx and Traefik offer both).
    static let applicationProtocols = ["h2", "http/1.1"]

    static func context(chain: [NIOSSLCertificate], key: NIOSSLPrivateKey) throws -> NIOSSLContext {
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        configuration.applicationProtocols = applicationProtocols
        configuration.minimumTLSVersion = .tlsv12
        return try NIOSSLContext(configuration: configuration)
    }

    /// Loads a TLS Secret: its chain, its key, the key checked against the certificate (a key
    /// of another certificate makes every handshake fail, so it is refused here instead).
    static func load(secret: String, _ data: IngressTLSSecret) -> Result<LoadedCertificate, TLSSecretError> {
        let chain: [NIOSSLCertificate]
        do {
            chain = try NIOSSLCertificate.fromPEMBytes(data.certificatePEM)
        } catch {
            return .failure(TLSSecretError("tls.crt is not a PEM certificate (\(error))"))
        }
        guard !chain.isEmpty else { return .failure(TLSSecretError("tls.crt holds no PEM certificate")) }
        let key: NIOSSLPrivateKey
        do {
            key = try NIOSSLPrivateKey(bytes: data.keyPEM, format: .pem)
        } catch {
            return .failure(TLSSecretError("tls.key is not a PEM private key (\(error))"))
        }
        let certificateText = String(decoding: data.certificatePEM, as: UTF8.self)
        let keyText = String(decoding: data.keyPEM, as: UTF8.self)
        if let leafText = firstPEMBlock(certificateText, label: "CERTIFICATE") {
            do {
                let leaf = try Certificate(pemEncoded: leafText)
                let privateKey = try Certificate.PrivateKey(pemEncoded: keyText)
                guard privateKey.publicKey == leaf.publicKey else {
                    return .failure(TLSSecretError("the key in tls.key does not belong to the certificate in tls.crt"))
                }
            } catch {
                // A key type swift-certificates does not read: BoringSSL checks the pair below.
            }
        }
        do {
            return .success(try certificate(secret: secret, source: data, chain: chain, key: key))
        } catch {
            return .failure(TLSSecretError("the certificate and key cannot be used together (\(error))"))
        }
    }

    /// Both contexts of a certificate (`LoadedCertificate`).
    static func certificate(secret: String, source: IngressTLSSecret, chain: [NIOSSLCertificate], key: NIOSSLPrivateKey) throws -> LoadedCertificate {
        let context = try context(chain: chain, key: key)
        let dataPath = try? DataPathTLSContext(chainPEM: source.certificatePEM, keyPEM: source.keyPEM)
        return LoadedCertificate(secret: secret, source: source, context: context, dataPath: dataPath)
    }

    /// The first PEM block with this label, armour included.
    static func firstPEMBlock(_ text: String, label: String) -> String? {
        guard let begin = text.range(of: "-----BEGIN \(label)-----"),
              let end = text.range(of: "-----END \(label)-----", range: begin.upperBound..<text.endIndex) else { return nil }
        return String(text[begin.lowerBound..<end.upperBound])
    }

    /// The default certificate: self-signed and made at startup, like ingress-nginx's
    /// "Kubernetes Ingress Controller Fake Certificate" (same subject, so clients and docs that
    /// know it recognise it), for hosts without an Ingress certificate.
    static func defaultCertificate(now: Date = Date()) throws -> LoadedCertificate {
        let key = P256.Signing.PrivateKey()
        let subject = try DistinguishedName {
            OrganizationName("Acme Co")
            CommonName(defaultCertificateCommonName)
        }
        let certificate = try Certificate(
            version: .v3,
            serialNumber: Certificate.SerialNumber(),
            publicKey: .init(key.publicKey),
            notValidBefore: now - 60,
            notValidAfter: now + 365 * 86400,
            issuer: subject,
            subject: subject,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true, keyEncipherment: true))
                try ExtendedKeyUsage([.serverAuth])
                SubjectAlternativeNames([.dnsName("ingress.local")])
            },
            issuerPrivateKey: .init(key))
        let source = IngressTLSSecret(certificatePEM: Array(try certificate.serializeAsPEM().pemString.utf8),
                                      keyPEM: Array(key.pemRepresentation.utf8))
        let chain = try NIOSSLCertificate(bytes: source.certificatePEM, format: .pem)
        let sslKey = try NIOSSLPrivateKey(bytes: source.keyPEM, format: .pem)
        return try self.certificate(secret: "", source: source, chain: [chain], key: sslKey)
    }

    static let defaultCertificateCommonName = "Kubernetes Ingress Controller Fake Certificate"
}

/// Why a TLS Secret cannot be served.
struct TLSSecretError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
