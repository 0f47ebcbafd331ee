import Crypto
import Foundation
import IngressProxy
import X509

/// Self-signed certificates for TLS Secrets in tests, made with swift-certificates.
enum TestCertificates {
    /// A certificate for `hosts` (the first is the common name) and its key, as a Secret holds them.
    static func make(_ hosts: [String]) throws -> IngressTLSSecret {
        let key = P256.Signing.PrivateKey()
        let subject = try DistinguishedName { CommonName(hosts[0]) }
        let now = Date()
        let certificate = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: .init(key.publicKey),
            notValidBefore: now - 60, notValidAfter: now + 86400, issuer: subject, subject: subject,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                SubjectAlternativeNames(hosts.map { .dnsName($0) })
            },
            issuerPrivateKey: .init(key))
        return IngressTLSSecret(certificatePEM: try certificate.serializeAsPEM().pemString, keyPEM: key.pemRepresentation)
    }
}
