import Foundation
import Testing
import TestSupport
@testable import Images

@Suite struct LayerUnpackerTests {
    /// Unpacks `tar` into `dir/<name>` (created) and returns that path.
    @discardableResult
    static func unpack(_ tar: TarBuilder, in dir: String, into name: String = "rootfs",
                       mode: LayerUnpacker.Mode = .apply) throws -> String {
        let destination = dir + "/" + name
        try FileTree.createDirectories(destination)
        let archive = dir + "/layer-\(UUID().uuidString).tar"
        try tar.write(to: archive)
        try LayerUnpacker(mode: mode).unpack(layerAt: archive, into: destination)
        return destination
    }

    static func expectUnsafe(_ tar: TarBuilder, in dir: String, _ fragment: String) {
        #expect {
            try unpack(tar, in: dir)
        } throws: { error in
            guard case ImageError.unsafePath = error else { return false }
            return "\(error)".contains(fragment)
        }
    }

    @Test func unpacksFilesLinksAndMetadata() async throws {
        try await TestSupport.withTemporaryDirectory { dir in
            var tar = TarBuilder()
            tar.directory("./", mode: 0o755)
            tar.directory("./bin", mode: 0o555, mtime: 1_000_000)
            tar.file("./bin/tool", "#!/bin/sh\n", mode: 0o4755, mtime: 1_234_567)
            tar.symlink("./bin/alias", to: "tool")
            tar.hardLink("./bin/hard", to: "./bin/tool")
            tar.file("deep/implicit/parent.txt", "p")
            let root = try Self.unpack(tar, in: dir)

            #expect(try TestSupport.read(root + "/bin/tool") == "#!/bin/sh\n")
            #expect(TestSupport.lstatMode(root + "/bin/tool") == 0o104755)  // setuid kept after chown
            #expect(try FileManager.default.destinationOfSymbolicLink(atPath: root + "/bin/alias") == "tool")
            var a = stat(), b = stat()
            #expect(stat(root + "/bin/tool", &a) == 0 && stat(root + "/bin/hard", &b) == 0)
            #expect(a.st_ino == b.st_ino)
            #expect(a.st_mtim.tv_sec == 1_234_567)
            // Directory mode and mtime are applied after its content was written.
            #expect(TestSupport.lstatMode(root + "/bin") == 0o040555)
            var d = stat()
            #expect(stat(root + "/bin", &d) == 0 && d.st_mtim.tv_sec == 1_000_000)
            #expect(try TestSupport.read(root + "/deep/implicit/parent.txt") == "p")
        }
    }

    @Test func returnsTheDiffIDOfGzipAndPlainLayers() async throws {
        try await TestSupport.withTemporaryDirectory { dir in
            var tar = TarBuilder()
            tar.file("a", "a")
            try tar.write(to: dir + "/l.tar")
            let expected = try await TestSupport.run("/usr/bin/sha256sum", [dir + "/l.tar"]).prefix(64)
            try await TestSupport.run("/usr/bin/gzip", ["-k", dir + "/l.tar"])
            try FileTree.createDirectories(dir + "/one")
            try FileTree.createDirectories(dir + "/two")
            #expect(try LayerUnpacker(mode: .apply).unpack(layerAt: dir + "/l.tar", into: dir + "/one").hex == String(expected))
            #expect(try LayerUnpacker(mode: .apply).unpack(layerAt: dir + "/l.tar.gz", into: dir + "/two").hex == String(expected))
            #expect(try TestSupport.read(dir + "/two/a") == "a")
        }
    }

    @Test(arguments: [
        ("../evil", "escapes the layer"),
        ("a/../../evil", "escapes the layer"),
        ("/etc/evil", "absolute path"),
    ])
    func rejectsPathTraversal(path: String, message: String) async throws {
        try await TestSupport.withTemporaryDirectory { dir in
            var tar = TarBuilder()
            tar.file(path, "owned")
            Self.expectUnsafe(tar, in: dir, message)
            #expect(!FileTree.exists(dir + "/evil"))
        }
    }

    @Test func hardLinksCannotPointOutside() async throws {
        try await TestSupport.withTemporaryDirectory { dir in
            var up = TarBuilder()
            up.hardLink("stolen", to: "../../etc/hostname")
            Self.expectUnsafe(up, in: dir, "escapes the layer")

            var absolute = TarBuilder()
            absolute.hardLink("stolen", to: "/etc/hostname")
            Self.expectUnsafe(absolute, in: dir, "absolute path")

            // Through a symlink to the host's root: resolved inside the layer, where there is
            // no etc/hostname, so the link fails instead of reaching the host file.
            var viaSymlink = TarBuilder()
            viaSymlink.symlink("hostroot", to: "/")
            viaSymlink.hardLink("stolen", to: "hostroot/etc/hostname")
            #expect(throws: ImageError.self) { try Self.unpack(viaSymlink, in: dir, into: "via") }
            #expect(!FileTree.exists(dir + "/via/stolen"))
        }
    }

    @Test func symlinkedParentsResolveInsideTheDestination() async throws {
        try await TestSupport.withTemporaryDirectory { dir in
            let outside = dir + "/outside"
            try FileTree.createDirectories(outside)
            var tar = TarBuilder()
            tar.symlink("etc", to: outside)          // absolute link to a real directory outside
            tar.file("etc/passwd", "evil")
            tar.symlink("up", to: "../../../..")     // relative link climbing above the root
            tar.file("up/escaped", "evil")
            let root = try Self.unpack(tar, in: dir)

            #expect(!FileTree.exists(outside + "/passwd"))
            #expect(!FileTree.exists(dir + "/escaped"))
            // Both writes landed where the links point when the layer root is "/".
            #expect(try TestSupport.read(root + outside + "/passwd") == "evil")
            #expect(try TestSupport.read(root + "/escaped") == "evil")
        }
    }

    @Test func finalSymlinkIsReplacedNotFollowed() async throws {
        try await TestSupport.withTemporaryDirectory { dir in
            try TestSupport.write("original", to: dir + "/victim")
            var tar = TarBuilder()
            tar.symlink("x", to: dir + "/victim")
            tar.file("x", "overwritten")
            let root = try Self.unpack(tar, in: dir)
            #expect(try TestSupport.read(dir + "/victim") == "original")
            #expect(TestSupport.lstatMode(root + "/x").map { $0 & 0o170000 } == 0o100000)
            #expect(try TestSupport.read(root + "/x") == "overwritten")
        }
    }

    @Test func applyModeWhiteoutsDeleteLowerContent() async throws {
        try await TestSupport.withTemporaryDirectory { dir in
            var lower = TarBuilder()
            lower.file("srv/gone.txt", "old")
            lower.file("srv/kept.txt", "kept")
            lower.file("opt/dir/a", "a")
            lower.file("opt/dir/sub/b", "b")
            let root = try Self.unpack(lower, in: dir)

            var upper = TarBuilder()
            upper.file("srv/.wh.gone.txt")
            upper.file("srv/new.txt", "new")
            upper.file("srv/.wh.new.txt")          // same-layer whiteouts do not hide (image-spec)
            upper.file("opt/dir/sub/c", "c")        // written before the opaque marker: kept
            upper.file("opt/dir/.wh..wh..opq")
            upper.file("opt/dir/d", "d")
            try Self.unpack(upper, in: dir)

            #expect(!FileTree.exists(root + "/srv/gone.txt"))
            #expect(try TestSupport.read(root + "/srv/kept.txt") == "kept")
            #expect(try TestSupport.read(root + "/srv/new.txt") == "new")
            #expect(!FileTree.exists(root + "/srv/.wh.gone.txt"))
            #expect(try FileManager.default.contentsOfDirectory(atPath: root + "/opt/dir").sorted() == ["d", "sub"])
            #expect(try FileManager.default.contentsOfDirectory(atPath: root + "/opt/dir/sub") == ["c"])
        }
    }

    /// Needs root: mknod of the 0:0 whiteout device and the trusted.* xattr.
    @Test(.requires(TestSupport.isRoot, "needs root for mknod and trusted.* xattrs"))
    func overlayModeWhiteoutsRequiresRoot() async throws {
        try await TestSupport.withTemporaryDirectory { dir in
            var tar = TarBuilder()
            tar.file("srv/.wh.gone.txt")
            tar.file("opt/dir/.wh..wh..opq")
            tar.file("opt/dir/c", "c")
            tar.file("home/app/file", "mine", mode: 0o600, uid: 1000, gid: 1000)
            let root = try Self.unpack(tar, in: dir, mode: .overlay)

            var st = stat()
            #expect(lstat(root + "/srv/gone.txt", &st) == 0)
            #expect(st.st_mode & 0o170000 == 0o020000)
            #expect(st.st_rdev == 0)
            #expect(!FileTree.exists(root + "/srv/.wh.gone.txt"))
            let fd = open(root + "/opt/dir", O_RDONLY | O_DIRECTORY)
            defer { close(fd) }
            #expect(try Xattr.get(fd: fd, name: "trusted.overlay.opaque", path: "opt/dir") == Array("y".utf8))
            #expect(try FileManager.default.contentsOfDirectory(atPath: root + "/opt/dir") == ["c"])
            #expect(lstat(root + "/home/app/file", &st) == 0)
            #expect(st.st_uid == 1000 && st.st_gid == 1000)
        }
    }

    @Test func archiveXattrsForOverlayfsAreIgnored() async throws {
        try await TestSupport.withTemporaryDirectory { dir in
            var tar = TarBuilder()
            tar.entry("d", .directory, mode: 0o755, pax: ["SCHILY.xattr.trusted.overlay.opaque": "y"])
            let root = try Self.unpack(tar, in: dir)
            let fd = open(root + "/d", O_RDONLY | O_DIRECTORY)
            defer { close(fd) }
            #expect(try Xattr.get(fd: fd, name: "trusted.overlay.opaque", path: "d") == nil)
        }
    }
}
