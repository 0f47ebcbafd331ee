import Foundation
import Testing
@testable import Images

@Suite struct SHA256Tests {
    static func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }

    // FIPS 180-4 example vectors (NIST CSRC "Examples with Intermediate Values", SHA-256).
    @Test(arguments: [
        ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        ("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
         "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
        ("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
         "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"),
    ])
    func nistVectors(input: String, expected: String) {
        #expect(Self.hex(SHA256.hash(Array(input.utf8))) == expected)
    }

    @Test func oneMillionA() {
        #expect(Self.hex(SHA256.hash([UInt8](repeating: 0x61, count: 1_000_000)))
                == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    @Test func chunkedUpdatesMatchOneShot() {
        let data = (0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        let expected = SHA256.hash(data)
        for chunk in [1, 3, 63, 64, 65, 127, 500] {
            var hasher = SHA256()
            var index = 0
            while index < data.count {
                let end = min(index + chunk, data.count)
                hasher.update(Array(data[index..<end]))
                index = end
            }
            #expect(hasher.finalize() == expected, "chunk size \(chunk)")
        }
    }

    @Test func fiveMegabyteFileMatchesSha256sum() async throws {
        try await TestSupport.withTemporaryDirectory { dir in
            let path = dir + "/blob"
            var state: UInt32 = 12345
            var bytes = [UInt8](repeating: 0, count: 5 * 1024 * 1024 + 17)
            for i in bytes.indices {
                state = state &* 1_664_525 &+ 1_013_904_223
                bytes[i] = UInt8(truncatingIfNeeded: state >> 24)
            }
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            let expected = try await TestSupport.run("/usr/bin/sha256sum", [path]).prefix(64)

            let source = DigestingSource(try FileSource(path: path))
            let count = try source.drain()
            #expect(count == Int64(bytes.count))
            #expect(source.finalize().hex == String(expected))
        }
    }
}
