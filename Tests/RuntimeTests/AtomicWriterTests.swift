import Foundation
import Glibc
import Synchronization
import Testing
@testable import Runtime

/// kubelet's atomic writer behaviour (pkg/volume/util/atomic_writer_test.go): the `..data`
/// swap, user-visible symlinks, removal of old payloads, refused paths.
struct AtomicWriterTests {
    static func withDirectory(_ body: (String) throws -> Void) throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("atomic-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: path) }
        try body(path)
    }

    static func file(_ text: String, _ mode: UInt16 = 0o644) -> FileProjection {
        FileProjection(data: Data(text.utf8), mode: mode)
    }

    static func read(_ path: String) -> String? {
        FileManager.default.contents(atPath: path).map { String(decoding: $0, as: UTF8.self) }
    }

    static func mode(_ path: String) -> UInt16 {
        var st = stat()
        stat(path, &st)
        return UInt16(st.st_mode & 0o7777)
    }

    /// The writer's own `..` entries in the target.
    static func hidden(_ target: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: target).filter { $0.hasPrefix("..") }.sorted()
    }

    @Test func writesFilesBehindDataSymlink() throws {
        try Self.withDirectory { target in
            let writer = AtomicWriter(target: target)
            #expect(try writer.write(["a": Self.file("one"), "dir/b": Self.file("two", 0o400)]))
            #expect(Self.read(target + "/a") == "one")
            #expect(Self.read(target + "/dir/b") == "two")
            #expect(AtomicWriter.readLink(target + "/a") == "..data/a")
            #expect(AtomicWriter.readLink(target + "/dir") == "..data/dir")
            let data = try #require(AtomicWriter.readLink(target + "/..data"))
            // kubelet's name: ..2006_01_02_15_04_05.<random>
            #expect(data.range(of: #"^\.\.\d{4}_\d{2}_\d{2}_\d{2}_\d{2}_\d{2}\.\d+$"#, options: .regularExpression) != nil, "\(data)")
            #expect(Self.mode(target + "/" + data + "/a") == 0o644)
            #expect(Self.mode(target + "/" + data + "/dir/b") == 0o400)
            #expect(try Self.hidden(target) == ["..data", data].sorted())
        }
    }

    @Test func anUpdateSwapsTheWholePayloadAndRemovesTheOld() throws {
        try Self.withDirectory { target in
            let writer = AtomicWriter(target: target)
            try writer.write(["a": Self.file("1"), "b": Self.file("1"), "gone": Self.file("x")])
            let first = try #require(AtomicWriter.readLink(target + "/..data"))
            #expect(try writer.write(["a": Self.file("2"), "b": Self.file("2"), "new": Self.file("n")]))
            let second = try #require(AtomicWriter.readLink(target + "/..data"))
            #expect(first != second)
            #expect(Self.read(target + "/a") == "2")
            #expect(Self.read(target + "/b") == "2")
            #expect(Self.read(target + "/new") == "n")
            // The key that left the payload is gone, and so is the old directory.
            #expect(!FileManager.default.fileExists(atPath: target + "/gone"))
            #expect(AtomicWriter.readLink(target + "/gone") == nil)
            #expect(!FileManager.default.fileExists(atPath: target + "/" + first))
            #expect(try Self.hidden(target) == ["..data", second].sorted())
        }
    }

    @Test func theSamePayloadIsNotWrittenAgain() throws {
        try Self.withDirectory { target in
            let writer = AtomicWriter(target: target)
            try writer.write(["a": Self.file("1")])
            let first = AtomicWriter.readLink(target + "/..data")
            #expect(try writer.write(["a": Self.file("1")]) == false)
            #expect(AtomicWriter.readLink(target + "/..data") == first)
            // A changed mode alone is a change.
            #expect(try writer.write(["a": Self.file("1", 0o600)]))
            #expect(Self.mode(target + "/a") == 0o600)
        }
    }

    /// A reader that resolves `..data` once sees one whole payload: every file it reads through
    /// that directory belongs to the same version, while updates run in parallel.
    @Test func readersNeverSeeAMixOfTwoPayloads() throws {
        try Self.withDirectory { target in
            let writer = AtomicWriter(target: target)
            try writer.write(["a": Self.file("0"), "b": Self.file("0")])
            let done = Atomic<Bool>(false)
            let mixed = Atomic<Int>(0)
            let reads = Atomic<Int>(0)
            let reader = Thread {
                while !done.load(ordering: .relaxed) {
                    // Open the directory through ..data once, as a process holding it open would.
                    let fd = open(target + "/..data", O_RDONLY | O_DIRECTORY)
                    guard fd >= 0 else { continue }
                    let a = Self.readAt(fd, "a")
                    let b = Self.readAt(fd, "b")
                    close(fd)
                    guard let a, let b else { continue }
                    reads.add(1, ordering: .relaxed)
                    if a != b { mixed.add(1, ordering: .relaxed) }
                }
            }
            reader.start()
            for version in 1...200 {
                try writer.write(["a": Self.file(String(version)), "b": Self.file(String(version))])
            }
            done.store(true, ordering: .relaxed)
            while !reader.isFinished { usleep(1000) }
            #expect(mixed.load(ordering: .relaxed) == 0)
            #expect(reads.load(ordering: .relaxed) > 0)
            #expect(Self.read(target + "/a") == "200")
            #expect(try Self.hidden(target).count == 2)
        }
    }

    static func readAt(_ directory: Int32, _ name: String) -> String? {
        let fd = openat(directory, name, O_RDONLY)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 64)
        let count = Glibc.read(fd, &buffer, 64)
        return count >= 0 ? String(decoding: buffer[0..<count], as: UTF8.self) : nil
    }

    @Test(arguments: ["/etc/passwd", "../escape", "a/../../b", "..data", "..2024_01_01", "a/..", "", String(repeating: "x", count: 256)])
    func hostilePathsAreRefused(_ path: String) throws {
        try Self.withDirectory { target in
            let writer = AtomicWriter(target: target)
            #expect(throws: AtomicWriter.InvalidPath.self) { try writer.write([path: Self.file("x")]) }
            // Nothing was written.
            #expect((try? FileManager.default.contentsOfDirectory(atPath: target))?.isEmpty == true)
            #expect(!FileManager.default.fileExists(atPath: (target as NSString).deletingLastPathComponent + "/escape"))
        }
    }

    @Test func aSymlinkPlantedInTheTargetIsNotFollowedForWrites() throws {
        try Self.withDirectory { target in
            let outside = target + "-outside"
            try FileManager.default.createDirectory(atPath: outside, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: outside) }
            let writer = AtomicWriter(target: target)
            try writer.write(["a": Self.file("1")])
            // Files are written into a fresh timestamped directory with O_EXCL|O_NOFOLLOW, so an
            // existing user-visible link pointing outside is never written through.
            unlink(target + "/a")
            symlink(outside + "/a", target + "/a")
            try writer.write(["a": Self.file("2")])
            #expect(!FileManager.default.fileExists(atPath: outside + "/a"))
        }
    }

    @Test func fsGroupMakesFilesGroupReadable() throws {
        try Self.withDirectory { target in
            let writer = AtomicWriter(target: target, group: 4321)
            try writer.write(["sub/a": Self.file("1", 0o600)])
            var st = stat()
            #expect(stat(target + "/sub/a", &st) == 0)
            #expect(st.st_gid == 4321)
            #expect(st.st_mode & 0o7777 == 0o640)
        }
    }
}
