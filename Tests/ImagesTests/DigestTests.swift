import Foundation
import Testing
@testable import Images

@Suite struct DigestTests {
    let valid = "sha256:" + String(repeating: "ab", count: 32)

    @Test func parsesValidDigest() throws {
        let digest = try Digest(parsing: valid)
        #expect(digest.hex == String(repeating: "ab", count: 32))
        #expect(digest.description == valid)
        #expect(digest.shortID == "abababababab")
    }

    @Test(arguments: [
        ("sha256:abc", "64 lowercase hex"),
        ("sha256:" + String(repeating: "AB", count: 32), "64 lowercase hex"),
        ("sha512:" + String(repeating: "ab", count: 64), "only sha256 is supported"),
        (String(repeating: "ab", count: 32), "expected sha256:"),
        ("sha256:" + String(repeating: "g", count: 64), "64 lowercase hex"),
    ])
    func rejectsInvalid(input: String, message: String) {
        #expect {
            try Digest(parsing: input)
        } throws: { error in
            "\(error)".contains(message) && "\(error)".contains(input)
        }
    }

    @Test func digestOfBytes() {
        #expect(Digest.of(Array("abc".utf8)).hex == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    @Test func codableRoundTripValidates() throws {
        let digest = try Digest(parsing: valid)
        let data = try JSONEncoder().encode([digest])
        #expect(String(decoding: data, as: UTF8.self) == "[\"\(valid)\"]")
        #expect(try JSONDecoder().decode([Digest].self, from: data) == [digest])
        #expect(throws: (any Error).self) { try JSONDecoder().decode([Digest].self, from: Data("[\"sha256:12\"]".utf8)) }
    }
}
