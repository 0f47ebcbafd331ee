import Crypto
import Foundation
import SwiftASN1
import X509

/// The cluster's certificate authority and the API server's serving certificate.
///
/// The CA (ECDSA P-256, ten years) is made once and kept in the data directory: agents pin
/// it through the join token. The serving certificate is signed anew at every start for the
/// names and addresses the server answers on, so adding a `--tls-san` needs only a restart.
public struct ServerCertificates: Sendable {
    /// The CA certificate, PEM: what `/cacerts` serves and kubeconfigs embed.
    public let caCertificatePEM: String
    /// The serving certificate followed by nothing else (the CA is the trust root).
    public let servingCertificatePEM: String
    public let servingKeyPEM: String

    /// Names every API server certificate carries (in-cluster clients use them).
    public static let defaultDNSNames = ["localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc",
                                         "kubernetes.default.svc.cluster.local"]

    /// Loads the CA from `directory` (creating it on first start) and signs a serving
    /// certificate for `dnsNames` and `ipAddresses`.
    public static func loadOrCreate(directory: String, dnsNames: [String], ipAddresses: [String],
                                    now: Date = Date()) async throws -> ServerCertificates {
        let manager = FileManager.default
        do {
            try manager.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw CertificateError("create the TLS directory \(directory): \(error.localizedDescription)")
        }
        let caCertificatePath = directory + "/server-ca.crt"
        let caKeyPath = directory + "/server-ca.key"
        let caKey: P256.Signing.PrivateKey
        let ca: Certificate
        if manager.fileExists(atPath: caCertificatePath), manager.fileExists(atPath: caKeyPath) {
            do {
                caKey = try P256.Signing.PrivateKey(pemRepresentation: try String(contentsOfFile: caKeyPath, encoding: .utf8))
                ca = try Certificate(pemEncoded: try String(contentsOfFile: caCertificatePath, encoding: .utf8))
            } catch {
                throw CertificateError("read the cluster CA from \(caCertificatePath) and \(caKeyPath): \(error); restore them from a backup, or remove both to make a new CA (every agent must then join again)")
            }
        } else {
            caKey = P256.Signing.PrivateKey()
            let name = try DistinguishedName { CommonName("swiftlet-server-ca@\(Int(now.timeIntervalSince1970))") }
            ca = try Certificate(
                version: .v3,
                serialNumber: Certificate.SerialNumber(),
                publicKey: .init(caKey.publicKey),
                notValidBefore: now - 60,
                notValidAfter: now + 10 * 365 * 86400,
                issuer: name,
                subject: name,
                signatureAlgorithm: .ecdsaWithSHA256,
                extensions: try Certificate.Extensions {
                    Critical(BasicConstraints.isCertificateAuthority(maxPathLength: nil))
                    Critical(KeyUsage(digitalSignature: true, keyCertSign: true))
                    SubjectKeyIdentifier(keyIdentifier: ArraySlice(Insecure.SHA1.hash(data: caKey.publicKey.derRepresentation)))
                },
                issuerPrivateKey: .init(caKey)
            )
            try write(caKey.pemRepresentation, to: caKeyPath, mode: 0o600)
            try write(try ca.serializeAsPEM().pemString, to: caCertificatePath, mode: 0o644)
        }

        let servingKey = P256.Signing.PrivateKey()
        var names: [GeneralName] = []
        for name in Array(Set(defaultDNSNames + dnsNames)).sorted() where !name.isEmpty {
            names.append(.dnsName(name))
        }
        for address in Array(Set(["127.0.0.1"] + ipAddresses)).sorted() {
            guard let bytes = ipBytes(address) else {
                throw CertificateError("\(address) is not an IP address; give names with --tls-san")
            }
            names.append(.ipAddress(ASN1OctetString(contentBytes: ArraySlice(bytes))))
        }
        let serving = try Certificate(
            version: .v3,
            serialNumber: Certificate.SerialNumber(),
            publicKey: .init(servingKey.publicKey),
            notValidBefore: now - 60,
            notValidAfter: now + 365 * 86400,
            issuer: ca.subject,
            subject: try DistinguishedName { CommonName("kube-apiserver") },
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true, keyEncipherment: true))
                try ExtendedKeyUsage([.serverAuth])
                SubjectAlternativeNames(names)
                AuthorityKeyIdentifier(keyIdentifier: try ca.extensions.subjectKeyIdentifier?.keyIdentifier)
            },
            issuerPrivateKey: .init(caKey)
        )
        return ServerCertificates(caCertificatePEM: try ca.serializeAsPEM().pemString,
                                  servingCertificatePEM: try serving.serializeAsPEM().pemString,
                                  servingKeyPEM: servingKey.pemRepresentation)
    }

    /// The hex SHA-256 of the CA bundle, as the `K10<hash>::...` join token carries it.
    public var caHash: String {
        SHA256.hash(data: Data(caCertificatePEM.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    /// The 4 or 16 bytes of an IPv4 or IPv6 address.
    static func ipBytes(_ text: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            return withUnsafeBytes(of: &v4) { Array($0) }
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 {
            return withUnsafeBytes(of: &v6) { Array($0) }
        }
        return nil
    }

    static func write(_ text: String, to path: String, mode: Int) throws {
        guard FileManager.default.createFile(atPath: path, contents: Data(text.utf8), attributes: [.posixPermissions: mode]) else {
            throw CertificateError("write \(path): permission denied or the disk is full")
        }
        // createFile keeps an existing file's mode; make sure a secret is not readable by others.
        try? FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path)
    }
}

/// A failure making or reading certificates, saying what and where.
public struct CertificateError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
