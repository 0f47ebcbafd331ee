import Foundation
import Testing
@testable import Images

@Suite struct TarReaderTests {
    /// Reads all entries, with the content of regular files.
    static func entries(_ source: any ByteSource) throws -> [(TarEntry, String)] {
        let reader = TarReader(source)
        var result: [(TarEntry, String)] = []
        var buffer = [UInt8](repeating: 0, count: 7)  // odd size: exercises partial reads
        while let entry = try reader.next() {
            var content: [UInt8] = []
            while true {
                let n = try buffer.withUnsafeMutableBytes { try reader.readData(into: $0) }
                if n == 0 { break }
                content += buffer[0..<n]
            }
            result.append((entry, String(decoding: content, as: UTF8.self)))
        }
        return result
    }

    @Test func readsGNUTarWithLongNamesAndAllKinds() async throws {
        try await TestSupport.withTemporaryDirectory { dir in
            let tree = dir + "/tree"
            let longDir = String(repeating: "d", count: 80) + "/" + String(repeating: "e", count: 80)
            try FileManager.default.createDirectory(atPath: tree + "/" + longDir, withIntermediateDirectories: true)
            try TestSupport.write("hello\n", to: tree + "/" + longDir + "/file.txt")
            try FileManager.default.createSymbolicLink(
                atPath: tree + "/link", withDestinationPath: String(repeating: "t", count: 120))
            try FileManager.default.linkItem(atPath: tree + "/" + longDir + "/file.txt", toPath: tree + "/hard")
            #expect(mkfifo(tree + "/fifo", 0o640) == 0)
            #expect(chmod(tree + "/hard", 0o4755) == 0)
            try await TestSupport.run("/usr/bin/tar", ["--format=gnu", "--sort=name", "-cf", dir + "/a.tar", "-C", tree, "."])

            let entries = try Self.entries(try FileSource(path: dir + "/a.tar"))
            let byPath = Dictionary(entries.map { ($0.0.path, $0) }, uniquingKeysWith: { a, _ in a })
            let file = try #require(byPath["./" + longDir + "/file.txt"])
            #expect(file.0.kind == .regular)
            #expect(file.1 == "hello\n")
            // GNU tar stores the first occurrence as the file and the second path as a hard link.
            let hard = try #require(byPath["./hard"])
            #expect(hard.0.kind == .hardLink)
            #expect(hard.0.linkName == "./" + longDir + "/file.txt")
            #expect(hard.0.size == 0)
            let link = try #require(byPath["./link"])
            #expect(link.0.kind == .symlink)
            #expect(link.0.linkName == String(repeating: "t", count: 120))
            #expect(byPath["./fifo"]?.0.kind == .fifo)
            #expect(byPath["./fifo"]?.0.mode == 0o640)
            #expect(byPath["./" + longDir + "/"]?.0.kind == .directory)
        }
    }

    @Test func readsPOSIXTarWithXattrsAndLongPath() async throws {
        try await TestSupport.withTemporaryDirectory { dir in
            let tree = dir + "/tree"
            let longPath = String(repeating: "p", count: 120) + String(repeating: "q", count: 120)
            try TestSupport.write("content", to: tree + "/" + longPath)
            let fd = open(tree + "/" + longPath, O_RDONLY)
            defer { close(fd) }
            try Xattr.set(fd: fd, name: "user.swiftlet", value: Array("v1".utf8), path: longPath)
            try await TestSupport.run("/usr/bin/tar", ["--format=posix", "--xattrs", "--xattrs-include=user.*",
                                                 "-cf", dir + "/p.tar", "-C", tree, longPath])
            let entries = try Self.entries(try FileSource(path: dir + "/p.tar"))
            #expect(entries.count == 1)
            let (entry, content) = try #require(entries.first)
            #expect(entry.path == longPath)
            #expect(content == "content")
            #expect(entry.xattrs["user.swiftlet"] == Array("v1".utf8))
        }
    }

    @Test func paxRecordsOverrideHeaderFields() async throws {
        var tar = TarBuilder()
        tar.paxGlobal(["uid": "7"])
        tar.entry("short", .regular, content: Array("data".utf8), uid: 1, pax: [
            "path": "a/very/long/" + String(repeating: "x", count: 200),
            "gid": "3000000", "mtime": "1700000000.25", "SCHILY.xattr.security.capability": "caps",
        ])
        tar.entry("next", .symlink, pax: ["linkpath": "target/" + String(repeating: "y", count: 150)])
        let entries = try Self.entries(MemorySource(tar.archive, chunk: 100))
        #expect(entries.count == 2)
        let first = entries[0].0
        #expect(first.path == "a/very/long/" + String(repeating: "x", count: 200))
        #expect(first.uid == 7)  // from the global header
        #expect(first.gid == 3_000_000)
        #expect(first.modificationSeconds == 1_700_000_000)
        #expect(first.modificationNanoseconds == 250_000_000)
        #expect(first.xattrs == ["security.capability": Array("caps".utf8)])
        #expect(entries[0].1 == "data")
        #expect(entries[1].0.linkName == "target/" + String(repeating: "y", count: 150))
        #expect(entries[1].0.uid == 7)
    }

    @Test func gnuLongNameAndLinkRecords() async throws {
        var tar = TarBuilder()
        let name = "dir/" + String(repeating: "n", count: 300)
        tar.gnuLongName(name)
        tar.gnuLongLink("dir/" + String(repeating: "l", count: 200))
        tar.entry("truncated", .hardLink)
        tar.file("after", "x")
        let entries = try Self.entries(MemorySource(tar.archive))
        #expect(entries.map(\.0.path) == [name, "after"])
        #expect(entries[0].0.linkName == "dir/" + String(repeating: "l", count: 200))
        #expect(entries[0].0.kind == .hardLink)
    }

    @Test func base256NumbersAndDevices() async throws {
        var tar = TarBuilder()
        // GNU base-256: 0x80 marker, then the big-endian value (here 2^33).
        tar.entry("big", .regular, rawUID: [0x80, 0, 0, 0x02, 0, 0, 0, 0])
        tar.entry("null", .characterDevice, mode: 0o666, major: 1, minor: 3)
        let entries = try Self.entries(MemorySource(tar.archive))
        #expect(entries[0].0.uid == 1 << 33)
        #expect(entries[1].0.kind == .characterDevice)
        #expect(entries[1].0.deviceMajor == 1 && entries[1].0.deviceMinor == 3)
    }

    @Test func corruptHeaderIsRejected() async throws {
        var tar = TarBuilder()
        tar.raw(name: "bad", type: .regular, corruptChecksum: true)
        #expect {
            try Self.entries(MemorySource(tar.archive))
        } throws: { error in
            "\(error)".contains("header checksum mismatch")
        }
    }

    @Test func truncatedContentIsRejected() async throws {
        var tar = TarBuilder()
        tar.file("f", String(repeating: "z", count: 2000))
        let cut = Array(tar.bytes.prefix(1024))
        #expect {
            try Self.entries(MemorySource(cut))
        } throws: { error in
            "\(error)".contains("archive ends inside the content of \"f\"")
        }
    }

    @Test func gzipStreamsIncludingConcatenatedMembers() async throws {
        try await TestSupport.withTemporaryDirectory { dir in
            var first = TarBuilder()
            first.file("one", "1")
            try Data(first.bytes).write(to: URL(fileURLWithPath: dir + "/part1"))
            var second = TarBuilder()
            second.file("two", String(repeating: "2", count: 100_000))
            try second.write(to: dir + "/part2")
            try await TestSupport.run("/usr/bin/gzip", ["-n", dir + "/part1", dir + "/part2"])
            // cat part1.gz part2.gz: a valid two-member gzip file, as `gzip -d` sees it.
            let joined = try Data(contentsOf: URL(fileURLWithPath: dir + "/part1.gz"))
                + Data(contentsOf: URL(fileURLWithPath: dir + "/part2.gz"))
            try joined.write(to: URL(fileURLWithPath: dir + "/joined.gz"))

            let entries = try Self.entries(try GzipSource(FileSource(path: dir + "/joined.gz"), description: "joined.gz"))
            #expect(entries.map(\.0.path) == ["one", "two"])
            #expect(entries[1].1.count == 100_000)

            try Data(joined.prefix(joined.count - 100)).write(to: URL(fileURLWithPath: dir + "/cut.gz"))
            #expect {
                try GzipSource(FileSource(path: dir + "/cut.gz"), description: "cut.gz").drain()
            } throws: { error in
                "\(error)".contains("cut.gz: unexpected end of data")
            }
        }
    }
}
