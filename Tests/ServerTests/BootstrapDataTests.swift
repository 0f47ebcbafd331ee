import Crypto
import APITestSupport
import Foundation
@testable import Server
import Storage
import TestSupport
import Testing

/// The shared server identity: k3s' encryption scheme, checked against independent vectors,
/// hostile stored values, and the first-server / joining-server exchange over a real store.
struct BootstrapDataTests {
    private static let sample = BootstrapData(files: [
        "tls/server-ca.crt": Array("ca-cert".utf8), "tls/server-ca.key": Array("ca-key".utf8),
        "tls/service.key": Array("svc-key".utf8), "cred/admin-token": Array("admin".utf8),
        "cred/join-secret": Array("s3cret-token".utf8), "cred/kubelet-client-token": Array("kubelet".utf8),
    ])

    /// Made by Python's hashlib.pbkdf2_hmac and cryptography's AESGCM following k3s'
    /// pkg/cluster/encrypt.go (salt "0123456789abcdef", nonce 00..0b, passphrase "s3cret-token"),
    /// not by the code under test.
    private static let k3sVector = "0123456789abcdef:AAECAwQFBgcICQoL2SiYj0RlW4HwF+wCDMUfv44E1DH6h1wBmIHSwBraXJKIslkFmhaSvuDshEeFAZufhgouChKGPyHSrlB4zuGMuarn28kmE30bMZLFlS+HYBedj7v6WkON4a2nbqcCKY9qEtKtnQZR7a9tkqsEDBHT63B2QGPmQWsuN8nndE6lNDHG2QBD2yp9O6cvG0phYY52cfGmBSIZkn2FzfrcaqLhskxLyMjWTJiSqkvotzlzn4OxS3ETHJXPiKRXqSfexJKEwHRbNLlQUioTkMtgY1nRODBQVuYPuUgrwkJuLuzU4pkevWRAe6NqyUF/7qpjdFi+utDy5Gb+exXnWsKWX0yiHSwLfuzMhq4+fOkxKwH1/blekM8UwxHog8OvjiL9gDVLLucgatwi5FlgI3MK/oTXumr/6STwTF4wdWgtkcXtySEiTHbu1o3CsDf7gVVadMI/6Vm4IIEw/Ei9SK1DusuEnarL2c/IS++mw230KkhE2Z9da6MUIahRYZ/owRpzoBe1PC34UgG3qmvCQDO5cBAkGHcxmDoTIlyX0ieibaicaKmwV75eE0dTUrRKg7LKfLjHLSnmmrqNR25tbrnW8ZhhvX5wOvGBuRfE3eVMd2LNC6AhXk0mPquel5ULcpzs7K/Ieg8ywfuUBEPLsDgzbo6rhTR0MQ=="

    @Test func theKeyDerivationIsPBKDF2HMACSHA1AsRFC6070States() throws {
        // RFC 6070 test 2: P="password", S="salt", c=4096; PBKDF2's first 20 bytes do not
        // depend on the output length.
        let key = try BootstrapData.key(passphrase: "password", salt: "salt")
        let bytes = key.withUnsafeBytes { Array($0) }
        #expect(bytes.count == 32)
        #expect(bytes.prefix(20).map { String(format: "%02x", $0) }.joined() == "4b007901b765489abead49d926f721d065a429c1")
    }

    @Test func theStorageKeyIsTheFirstTwelveHexDigitsOfTheTokensSHA256() {
        // sha256("password") = 5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8
        #expect(BootstrapData.storageKey(passphrase: "password") == "/bootstrap/5e884898da28")
        #expect(BootstrapData.isStorageKey("/bootstrap/5e884898da28"))
        #expect(!BootstrapData.isStorageKey("/bootstrap/swiftlet-server-ca"))
        #expect(!BootstrapData.isStorageKey("/registry/bootstrap/5e884898da28"))
    }

    @Test func aValueEncryptedByAnIndependentImplementationOfK3sSchemeDecrypts() throws {
        #expect(try BootstrapData.decrypt(Array(Self.k3sVector.utf8), passphrase: "s3cret-token") == Self.sample)
    }

    @Test func encryptedDataRoundTripsAndUsesAFreshSaltAndNonceEachTime() throws {
        let first = try Self.sample.encrypted(passphrase: "tok")
        let second = try Self.sample.encrypted(passphrase: "tok")
        #expect(first != second)
        #expect(String(decoding: first, as: UTF8.self).split(separator: ":")[0].count == 16)
        #expect(try BootstrapData.decrypt(first, passphrase: "tok") == Self.sample)
        #expect(try BootstrapData.decrypt(second, passphrase: "tok") == Self.sample)
    }

    @Test func anotherTokenCannotDecryptAndSaysSo() throws {
        let value = try Self.sample.encrypted(passphrase: "right")
        #expect(throws: BootstrapError("the bootstrap data in the datastore cannot be decrypted with this token: it was stored by a server with another --token")) {
            try BootstrapData.decrypt(value, passphrase: "wrong")
        }
    }

    @Test(arguments: [
        ("", "malformed: expected <16 hex salt>"),
        ("no-colon-at-all", "malformed: expected <16 hex salt>"),
        ("0123:AAAA", "malformed: expected <16 hex salt>"),
        ("0123456789abcdeX:AAAA", "malformed: expected <16 hex salt>"),
        ("0123456789abcdef:%%%not base64%%%", "not base64 of a nonce"),
        ("0123456789abcdef:AAAA", "not base64 of a nonce"),
        // 12-byte nonce and 16 bytes that are not a valid tag.
        ("0123456789abcdef:" + Data(count: 40).base64EncodedString(), "cannot be decrypted with this token"),
    ])
    func malformedStoredValuesAreRefusedWithTheReason(value: String, reason: String) {
        do {
            _ = try BootstrapData.decrypt(Array(value.utf8), passphrase: "tok")
            Issue.record("\(value) was accepted")
        } catch {
            #expect("\(error)".contains(reason), "\(error)")
        }
    }

    @Test func aTamperedCiphertextIsRefused() throws {
        var value = try Self.sample.encrypted(passphrase: "tok")
        let text = String(decoding: value, as: UTF8.self)
        let parts = text.split(separator: ":")
        var sealed = try #require(Data(base64Encoded: String(parts[1])))
        sealed[20] ^= 0x01
        value = Array((parts[0] + ":" + sealed.base64EncodedString()).utf8)
        #expect(throws: BootstrapError.self) { try BootstrapData.decrypt(value, passphrase: "tok") }
    }

    @Test func anOversizedValueIsRefusedBeforeItIsDecoded() {
        let huge = [UInt8](repeating: UInt8(ascii: "A"), count: BootstrapData.maximumStoredBytes + 1)
        #expect(throws: BootstrapError("the stored bootstrap data is \(huge.count) bytes, more than the \(BootstrapData.maximumStoredBytes) a server writes")) {
            try BootstrapData.decrypt(huge, passphrase: "tok")
        }
    }

    @Test func decryptedDataThatIsNotTheExpectedJSONOrLacksAnEntryIsRefused() throws {
        func sealed(_ plaintext: String) throws -> [UInt8] {
            let salt = "00112233445566aa"
            let box = try AES.GCM.seal(Array(plaintext.utf8), using: try BootstrapData.key(passphrase: "tok", salt: salt))
            return Array((salt + ":" + (box.combined ?? Data()).base64EncodedString()).utf8)
        }
        #expect(throws: BootstrapError.self) { try BootstrapData.decrypt(try sealed("[1,2,3]"), passphrase: "tok") }
        do {
            _ = try BootstrapData.decrypt(try sealed(#"{"ServerCA":{"Timestamp":"t","Content":"YQ=="}}"#), passphrase: "tok")
            Issue.record("a partial identity was accepted")
        } catch {
            #expect("\(error)".contains("lacks ServerCAKey"), "\(error)")
        }
        // Unknown entry names (a path such as ../../etc/passwd) are never written anywhere.
        var object: [String: [String: String]] = [:]
        for entry in BootstrapData.entries { object[entry.name] = ["Timestamp": "t", "Content": "YQ=="] }
        object["../../etc/passwd"] = ["Timestamp": "t", "Content": "YQ=="]
        let json = String(decoding: try JSONEncoder().encode(object), as: UTF8.self)
        let data = try BootstrapData.decrypt(try sealed(json), passphrase: "tok")
        #expect(Set(data.files.keys) == Set(BootstrapData.entries.map(\.path)))
    }

    @Test func filesAreWrittenWithTheirModesAndReadBack() throws {
        let directory = try TemporaryDirectory()
        try Self.sample.write(to: directory.path)
        #expect(try BootstrapData.read(from: directory.path) == Self.sample)
        let keyMode = try FileManager.default.attributesOfItem(atPath: directory.path + "/tls/server-ca.key")[.posixPermissions] as? Int
        let certMode = try FileManager.default.attributesOfItem(atPath: directory.path + "/tls/server-ca.crt")[.posixPermissions] as? Int
        #expect(keyMode == 0o600 && certMode == 0o644)
        try FileManager.default.removeItem(atPath: directory.path + "/cred/admin-token")
        #expect(throws: BootstrapError.self) { try BootstrapData.read(from: directory.path) }
    }

    @Test func theFirstServerStoresAndAJoinerWithTheSameTokenReadsItWhileAnotherTokenIsRefused() async throws {
        let directory = try TemporaryDirectory()
        let storage = try SQLiteStorage(path: directory.path + "/state.db")
        #expect(try await BootstrapData.load(from: storage, passphrase: "tok") == nil)
        #expect(try await Self.sample.store(in: storage, passphrase: "tok") == Self.sample)
        #expect(try await BootstrapData.load(from: storage, passphrase: "tok") == Self.sample)
        // A second "first server" that raced us gets ours back, not its own.
        var other = Self.sample
        other.files["cred/admin-token"] = Array("someone-else".utf8)
        #expect(try await other.store(in: storage, passphrase: "tok") == Self.sample)
        do {
            _ = try await BootstrapData.load(from: storage, passphrase: "another")
            Issue.record("another token was accepted")
        } catch {
            #expect("\(error)".contains("already holds the bootstrap data of a cluster with another token (/bootstrap/"), "\(error)")
        }
        await storage.close()
    }
}
