import Crypto
import Foundation

/// Hashes and comparisons of the secrets the server keeps.
///
/// Node passwords and tokens are 256-bit random values made by swiftlet, so a SHA-256 hash
/// is as hard to reverse as the value is to guess; a slow password hash (k3s uses scrypt for
/// node passwords) would only protect short human-chosen ones. Node passwords get a salt so
/// equal passwords do not show as equal hashes.
package enum SecretHash {
    /// Hex SHA-256 of the text's UTF-8 bytes.
    static func sha256(_ text: String) -> String {
        hex(SHA256.hash(data: Data(text.utf8)))
    }

    /// `sha256:<salt>:<hex hash of salt+secret>`.
    static func salted(_ secret: String) -> String {
        let salt = randomHex(bytes: 16)
        return "sha256:\(salt):\(sha256(salt + secret))"
    }

    /// Whether `secret` is the one `hash` (from `salted`) was made from.
    static func verify(_ secret: String, salted hash: String) -> Bool {
        let parts = hash.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == "sha256" else { return false }
        return constantTimeEqual(sha256(String(parts[1]) + secret), String(parts[2]))
    }

    /// Compares without stopping at the first difference, so the time taken does not reveal
    /// how much of a guess was right.
    static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let left = Array(a.utf8), right = Array(b.utf8)
        var difference = left.count ^ right.count
        for index in 0..<min(left.count, right.count) {
            difference |= Int(left[index] ^ right[index])
        }
        return difference == 0
    }

    /// `bytes` random bytes as lower-case hex.
    package static func randomHex(bytes: Int) -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<bytes).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
    }

    package static func hex<D: Sequence>(_ digest: D) -> String where D.Element == UInt8 {
        digest.map { String(format: "%02x", $0) }.joined()
    }
}
