import Crypto
import Foundation
import Glibc
import SwiftASN1
import X509

/// The kubelet API's serving certificate: self-signed, made on first start and kept in
/// `<directory>/kubelet.crt` and `kubelet.key` (kubelet without serving certificates does
/// the same in /var/lib/kubelet/pki). The API server does not verify it (kube-apiserver
/// without `--kubelet-certificate-authority`), so it only has to exist and be valid for
/// the node's names. A certificate that expires within a day, or lacks a name asked for now,
/// is made anew.
public struct KubeletCertificate: Sendable {
    public let certificatePEM: String
    public let keyPEM: String

    /// Loads the certificate from `directory`, making it when missing, expiring or not
    /// valid for `dnsNames` and `ipAddresses`.
    public static func loadOrCreate(directory: String, dnsNames: [String], ipAddresses: [String],
                                    now: Date = Date()) throws -> KubeletCertificate {
        let certificatePath = directory + "/kubelet.crt"
        let keyPath = directory + "/kubelet.key"
        let wantedNames = Set((["localhost"] + dnsNames).filter { !$0.isEmpty })
        let wantedAddresses = Set(["127.0.0.1"] + ipAddresses)
        if let certificateText = try? String(contentsOfFile: certificatePath, encoding: .utf8),
           let keyText = try? String(contentsOfFile: keyPath, encoding: .utf8),
           let existing = try? Certificate(pemEncoded: certificateText),
           existing.notValidAfter > now + 86400,
           let names = try? existing.extensions.subjectAlternativeNames {
            var dns: Set<String> = []
            var addresses: Set<[UInt8]> = []
            for name in names {
                switch name {
                case .dnsName(let text): dns.insert(text)
                case .ipAddress(let bytes): addresses.insert(Array(bytes.bytes))
                default: break
                }
            }
            let wantedBytes = Set(wantedAddresses.compactMap(ipBytes))
            if wantedNames.isSubset(of: dns), wantedBytes.isSubset(of: addresses) {
                return KubeletCertificate(certificatePEM: certificateText, keyPEM: keyText)
            }
        }

        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o700])
        } catch {
            throw KubeletServerError("create the kubelet certificate directory \(directory): \(error.localizedDescription)")
        }
        let key = P256.Signing.PrivateKey()
        var names: [GeneralName] = wantedNames.sorted().map { .dnsName($0) }
        for address in wantedAddresses.sorted() {
            guard let bytes = ipBytes(address) else {
                throw KubeletServerError("\(address) is not an IP address; give the node's addresses as IPv4 or IPv6")
            }
            names.append(.ipAddress(ASN1OctetString(contentBytes: ArraySlice(bytes))))
        }
        let host = dnsNames.first ?? "localhost"
        let certificatePEM: String
        do {
            // kubelet names its self-signed certificate `<host>@<unix time>`.
            let subject = try DistinguishedName { CommonName("\(host)@\(Int(now.timeIntervalSince1970))") }
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
                    SubjectAlternativeNames(names)
                },
                issuerPrivateKey: .init(key)
            )
            certificatePEM = try certificate.serializeAsPEM().pemString
        } catch {
            throw KubeletServerError("make the kubelet serving certificate: \(error)")
        }
        try write(key.pemRepresentation, to: keyPath, mode: 0o600)
        try write(certificatePEM, to: certificatePath, mode: 0o644)
        return KubeletCertificate(certificatePEM: certificatePEM, keyPEM: key.pemRepresentation)
    }

    static func ipBytes(_ text: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 { return withUnsafeBytes(of: &v4) { Array($0) } }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 { return withUnsafeBytes(of: &v6) { Array($0) } }
        return nil
    }

    static func write(_ text: String, to path: String, mode: Int) throws {
        let temporary = path + ".tmp"
        guard FileManager.default.createFile(atPath: temporary, contents: Data(text.utf8), attributes: [.posixPermissions: mode]) else {
            throw KubeletServerError("write \(temporary): permission denied or the disk is full")
        }
        try? FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: temporary)
        guard rename(temporary, path) == 0 else {
            throw KubeletServerError("rename \(temporary) to \(path): \(String(cString: strerror(errno)))")
        }
    }
}

/// A failure of the kubelet API server, saying what and where.
public struct KubeletServerError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
