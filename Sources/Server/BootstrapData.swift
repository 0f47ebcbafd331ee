import APIServer
import Crypto
import Foundation
import _CryptoExtras

/// The identity every server of a cluster shares: the cluster CA and its key, the
/// service-account signing key and the cluster's tokens. With an etcd datastore it is kept
/// in the datastore, encrypted with a key derived from the server token, so a server that
/// joins with `--token` serves as the same cluster (k3s' bootstrap data,
/// k3s-io/k3s pkg/cluster/encrypt.go and storage.go).
///
/// The scheme is k3s': the storage key is `/bootstrap/` followed by the first 12 hex digits
/// of the SHA-256 of the token's password; the value is `<salt>:<base64(nonce ‖ ciphertext ‖ tag)>`,
/// where the salt is 16 random hex characters, the key is PBKDF2-HMAC-SHA1(password, salt,
/// 4,096 rounds, 32 bytes), the cipher AES-256-GCM with a random 12-byte nonce. The plaintext is
/// a JSON object of `{"Timestamp": RFC 3339, "Content": base64}` entries, as k3s writes its
/// ControlRuntimeBootstrap; the entries are swiftlet's files, named below.
public struct BootstrapData: Sendable, Equatable {
    /// The files, by their path in the server's data directory.
    public var files: [String: [UInt8]]

    /// Entry name in the stored JSON → file in the server's data directory, with its mode.
    /// The names follow k3s' ControlRuntimeBootstrap where there is one (ServerCA, ServerCAKey,
    /// ServiceKey); only these names are ever read or written, so stored data cannot name a path.
    static let entries: [(name: String, path: String, mode: Int)] = [
        ("ServerCA", "tls/server-ca.crt", 0o644),
        ("ServerCAKey", "tls/server-ca.key", 0o600),
        ("ServiceKey", "tls/service.key", 0o600),
        ("AdminToken", "cred/admin-token", 0o600),
        ("JoinSecret", "cred/join-secret", 0o600),
        ("KubeletClientToken", "cred/kubelet-client-token", 0o600),
    ]

    /// The largest stored value accepted (the real one is a few kilobytes): a hostile or
    /// corrupt value is refused before it is decoded.
    static let maximumStoredBytes = 1 << 20
    static let rounds = 4096

    public init(files: [String: [UInt8]]) {
        self.files = files
    }

    /// The datastore key of the bootstrap data for `passphrase` (k3s' `storageKey`).
    public static func storageKey(passphrase: String) -> String {
        "/bootstrap/" + String(SecretHash.hex(SHA256.hash(data: Array(passphrase.utf8))).prefix(12))
    }

    /// Whether `key` is a bootstrap data key (of any token): `/bootstrap/<12 hex digits>`.
    static func isStorageKey(_ key: String) -> Bool {
        guard key.hasPrefix("/bootstrap/") else { return false }
        let hash = key.dropFirst("/bootstrap/".count)
        return hash.count == 12 && hash.allSatisfy(\.isHexDigit)
    }

    // MARK: Files

    /// Reads every entry's file from the server's data directory.
    public static func read(from directory: String) throws -> BootstrapData {
        var files: [String: [UInt8]] = [:]
        for entry in entries {
            let path = (directory as NSString).appendingPathComponent(entry.path)
            guard let data = FileManager.default.contents(atPath: path) else {
                throw BootstrapError("cannot read \(path), part of the server identity shared through the datastore")
            }
            files[entry.path] = Array(data)
        }
        return BootstrapData(files: files)
    }

    /// Writes every entry's file into the server's data directory, replacing what is there
    /// (the datastore's identity is the cluster's), each atomically with its mode.
    public func write(to directory: String) throws {
        for entry in Self.entries {
            guard let content = files[entry.path] else { continue }
            let path = (directory as NSString).appendingPathComponent(entry.path)
            let parent = (path as NSString).deletingLastPathComponent
            do {
                try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true,
                                                        attributes: [.posixPermissions: 0o700])
                let temporary = path + ".tmp"
                guard FileManager.default.createFile(atPath: temporary, contents: Data(content),
                                                     attributes: [.posixPermissions: entry.mode]) else {
                    throw BootstrapError("cannot create \(temporary)")
                }
                guard rename(temporary, path) == 0 else {
                    throw BootstrapError("rename \(temporary) to \(path): \(String(cString: strerror(errno)))")
                }
            } catch let error as BootstrapError {
                throw error
            } catch {
                throw BootstrapError("write \(path): \(error.localizedDescription)")
            }
        }
    }

    // MARK: Encryption

    /// The stored form, encrypted for `passphrase`.
    public func encrypted(passphrase: String, now: Date = Date()) throws -> [UInt8] {
        let timestamp = ISO8601DateFormatter().string(from: now)
        var object: [String: Entry] = [:]
        for entry in Self.entries {
            guard let content = files[entry.path] else { continue }
            object[entry.name] = Entry(Timestamp: timestamp, Content: Data(content).base64EncodedString())
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let plaintext = try encoder.encode(object)
        let salt = SecretHash.randomHex(bytes: 8)
        let sealed = try AES.GCM.seal(plaintext, using: try Self.key(passphrase: passphrase, salt: salt))
        guard let combined = sealed.combined else { throw BootstrapError("AES-GCM gave no combined form") }
        return Array((salt + ":" + combined.base64EncodedString()).utf8)
    }

    /// Decrypts a stored value; the error says whether it is malformed or the token is not the
    /// one it was encrypted with.
    public static func decrypt(_ value: [UInt8], passphrase: String) throws -> BootstrapData {
        guard value.count <= maximumStoredBytes else {
            throw BootstrapError("the stored bootstrap data is \(value.count) bytes, more than the \(maximumStoredBytes) a server writes")
        }
        let text = String(decoding: value, as: UTF8.self)
        let parts = text.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
        // k3s: "invalid cipher text, not : delimited".
        guard parts.count == 2, parts[0].count == 16, parts[0].allSatisfy(\.isHexDigit) else {
            throw BootstrapError("the stored bootstrap data is malformed: expected <16 hex salt>:<base64>")
        }
        guard let sealed = Data(base64Encoded: String(parts[1])), sealed.count >= 12 + 16 else {
            throw BootstrapError("the stored bootstrap data is malformed: the ciphertext is not base64 of a nonce, data and tag")
        }
        let plaintext: Data
        do {
            plaintext = try AES.GCM.open(try AES.GCM.SealedBox(combined: sealed), using: try key(passphrase: passphrase, salt: String(parts[0])))
        } catch {
            throw BootstrapError("the bootstrap data in the datastore cannot be decrypted with this token: it was stored by a server with another --token")
        }
        let object: [String: Entry]
        do {
            object = try JSONDecoder().decode([String: Entry].self, from: plaintext)
        } catch {
            throw BootstrapError("the decrypted bootstrap data is not a JSON object of {Timestamp, Content} entries: \(error)")
        }
        var files: [String: [UInt8]] = [:]
        for entry in entries {
            guard let stored = object[entry.name] else {
                throw BootstrapError("the bootstrap data in the datastore lacks \(entry.name)")
            }
            guard let content = Data(base64Encoded: stored.Content), !content.isEmpty else {
                throw BootstrapError("the bootstrap data's \(entry.name) is not base64 of a non-empty file")
            }
            files[entry.path] = Array(content)
        }
        return BootstrapData(files: files)
    }

    /// PBKDF2-HMAC-SHA1 over the passphrase with the salt's ASCII text, as k3s derives it.
    static func key(passphrase: String, salt: String) throws -> SymmetricKey {
        try KDF.Insecure.PBKDF2.deriveKey(from: Array(passphrase.utf8), salt: Array(salt.utf8), using: .insecureSHA1,
                                          outputByteCount: 32, unsafeUncheckedRounds: rounds)
    }

    /// One stored file, in k3s' field names.
    struct Entry: Codable {
        var Timestamp: String
        var Content: String
    }
}

/// Why the shared server identity could not be read, stored or used.
public struct BootstrapError: Error, CustomStringConvertible, Equatable {
    public let description: String

    public init(_ description: String) {
        self.description = description
    }
}
