import Foundation
import Runtime
import Testing
import TestSupport
@testable import Images

/// Imports the images built by rootfs-fixtures/build.sh into a fresh store per test.
/// Serialized: the store's work is synchronous file I/O with fsyncs, which holds a cooperative
/// thread while it lasts; one test at a time leaves the pool's other thread to everything else.
@Suite(.serialized) struct ImageStoreTests {
    /// A temporary directory with a store in `store/`, and the shared, read-only fixtures.
    struct Context {
        var dir: String
        var fixtures: String
        var store: ImageStore
    }

    static func withStore(_ body: (Context) async throws -> Void) async throws {
        let fixtures = try await TestSupport.fixtures()
        try await TestSupport.withTemporaryDirectory { dir in
            try await body(Context(dir: dir, fixtures: fixtures, store: try ImageStore(root: dir + "/store")))
        }
    }

    static func blobNames(_ store: ImageStore) throws -> Set<String> {
        Set(try FileManager.default.contentsOfDirectory(atPath: store.root + "/blobs/sha256"))
    }

    @Test func importsOCILayoutAndResolvesItManyWays() async throws {
        try await Self.withStore { c in
            let images = try c.store.importImage(from: c.fixtures + "/busybox")
            #expect(images.count == 1)
            let image = try #require(images.first)
            #expect(image.references == ["docker.io/library/busybox:latest"])
            #expect(image.config.cmd == ["sh"])
            #expect(image.config.env == ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"])
            #expect(image.config.entrypoint == nil)
            #expect(image.diffIDs.count == 1)
            #expect(image.created == Date(timeIntervalSince1970: 1_704_067_200))
            #expect(image.size > 500_000)
            // The ID is the config digest, as in `crictl images`.
            let config = try c.store.manifest(image.manifestDigest).config.digest
            #expect(image.id == config)

            for name in ["busybox", "busybox:latest", "docker.io/library/busybox", "index.docker.io/library/busybox:latest",
                         image.id.description, image.id.hex, String(image.id.hex.prefix(12)),
                         "sha256:" + image.id.hex.prefix(6), "busybox@" + image.manifestDigest.description,
                         image.manifestDigest.description] {
                #expect(try c.store.resolve(name) == image, "resolve(\(name))")
            }
            #expect(throws: ImageError.notFound("docker.io/library/busybox:other")) {
                try c.store.resolve("busybox:other")
            }
            #expect(throws: ImageError.self) { try c.store.resolve("alpine@" + image.manifestDigest.description) }
        }
    }

    @Test func unknownImageErrorTellsHowToImport() async throws {
        try await TestSupport.withTemporaryDirectory { dir in
            let store = try ImageStore(root: dir + "/store")
            #expect {
                try store.resolve("nope")
            } throws: { error in
                "\(error)" == "image \"docker.io/library/nope:latest\" not found in the local store; import it with: swiftlet images import PATH"
            }
            #expect(try store.list().isEmpty)
        }
    }

    @Test func configuredImageHasItsConfigAndFlattensWithWhiteouts() async throws {
        try await Self.withStore { c in
            let image = try #require(try c.store.importImage(from: c.fixtures + "/configured").first)
            #expect(image.references == ["docker.io/swiftlet/configured:1.0"])
            #expect(image.config.entrypoint == ["/bin/echo", "entry"])
            #expect(image.config.cmd == ["from-cmd"])
            #expect(image.config.workingDir == "/srv")
            #expect(image.config.user == "1000:1000")
            #expect(image.config.env?.contains("FOO=from-image") == true)
            #expect(image.config.env?.contains("GREETING=hello") == true)
            #expect(image.diffIDs.count == 2)
            #expect(try c.store.resolve("swiftlet/configured:1.0") == image)

            let rootfs = c.dir + "/flat"
            try FileTree.createDirectories(rootfs)
            try c.store.flatten(image, into: rootfs)
            #expect(!FileTree.exists(rootfs + "/srv/gone.txt"))
            #expect(try TestSupport.read(rootfs + "/srv/hello.txt") == "hello from layer 2\n")
            #expect(try TestSupport.read(rootfs + "/srv/data/old.txt") == "old\n")
            #expect(try FileManager.default.contentsOfDirectory(atPath: rootfs + "/opt/dir") == ["c"])
            #expect(FileTree.exists(rootfs + "/bin/sh"))
            #expect(!FileTree.exists(rootfs + "/srv/.wh.gone.txt"))
        }
    }

    /// Needs root: unpacking writes whiteout devices and trusted.overlay xattrs, and the
    /// test mounts overlayfs over the result to check the kernel reads them as intended.
    @Test(.requires(TestSupport.isRoot, "needs root for mknod, trusted xattrs and mount"))
    func layerDirectoriesWorkAsOverlayLowerdirsRequiresRoot() async throws {
        try await Self.withStore { c in
            let image = try #require(try c.store.importImage(from: c.fixtures + "/configured").first)
            let layers = try c.store.layerDirectories(for: image)
            #expect(layers == image.diffIDs.map { c.store.root + "/layers/" + $0.hex })
            var st = stat()
            #expect(lstat(layers[0] + "/home/app", &st) == 0 && st.st_uid == 1000)
            #expect(lstat(layers[0] + "/tmp", &st) == 0 && st.st_mode & 0o7777 == 0o1777)
            #expect(lstat(layers[1] + "/srv/gone.txt", &st) == 0 && st.st_mode & 0o170000 == 0o020000)

            // Second call: already unpacked, same directories, nothing left over.
            var before = stat()
            #expect(lstat(layers[0] + "/bin/busybox", &before) == 0)
            #expect(try c.store.layerDirectories(for: image) == layers)
            var after = stat()
            #expect(lstat(layers[0] + "/bin/busybox", &after) == 0 && after.st_ino == before.st_ino)
            #expect(try FileManager.default.contentsOfDirectory(atPath: c.store.root + "/layers").count == 2)

            let mountpoint = c.dir + "/merged"
            try FileTree.createDirectories(mountpoint)
            let options = "lowerdir=" + layers.reversed().joined(separator: ":")
            #expect(mount("overlay", mountpoint, "overlay", 0, options) == 0, "mount overlay: errno \(errno)")
            defer { umount2(mountpoint, Int32(MNT_DETACH)) }
            #expect(!FileTree.exists(mountpoint + "/srv/gone.txt"))
            #expect(try TestSupport.read(mountpoint + "/srv/hello.txt") == "hello from layer 2\n")
            #expect(try FileManager.default.contentsOfDirectory(atPath: mountpoint + "/opt/dir") == ["c"])
            #expect(try TestSupport.read(mountpoint + "/etc/passwd").contains("app:x:1000:1000:app:/home/app:/bin/sh"))
        }
    }

    @Test func importsDockerArchiveWithTheSameLayerAsTheOCILayout() async throws {
        try await Self.withStore { c in
            let oci = try #require(try c.store.importImage(from: c.fixtures + "/busybox").first)
            let docker = try #require(try c.store.importImage(from: c.fixtures + "/busybox-docker.tar").first)
            #expect(docker.references == ["docker.io/library/busybox:docker-archive"])
            #expect(docker.diffIDs == oci.diffIDs)
            #expect(docker.config == oci.config)
            #expect(docker.manifestDigest != oci.manifestDigest)  // synthesized manifest
            #expect(try c.store.resolve("busybox:docker-archive") == docker)
            let dockerLayers = try c.store.layerDirectories(for: docker)
            #expect(try c.store.layerDirectories(for: oci) == dockerLayers)
            #expect(FileTree.exists(dockerLayers[0] + "/bin/busybox"))
            // Nothing of the extracted archive is left behind.
            #expect(try FileManager.default.contentsOfDirectory(atPath: c.store.root + "/tmp").isEmpty)
        }
    }

    @Test(arguments: [false, true])
    func importsOCIArchive(gzipped: Bool) async throws {
        try await Self.withStore { c in
            var archive = c.fixtures + "/busybox-oci.tar"
            if gzipped {
                // A copy: the fixtures are shared.
                try FileManager.default.copyItem(atPath: archive, toPath: c.dir + "/busybox-oci.tar")
                archive = c.dir + "/busybox-oci.tar"
                try await TestSupport.run("/usr/bin/gzip", [archive])
                archive += ".gz"
            }
            let image = try #require(try c.store.importImage(from: archive).first)
            #expect(image.references == ["docker.io/library/busybox:oci-archive"])
            #expect(try c.store.resolve("busybox:oci-archive").id == image.id)
        }
    }

    @Test func givenNameOverridesOrCompletesTheArchiveName() async throws {
        try await Self.withStore { c in
            let completed = try c.store.importImage(from: c.fixtures + "/configured", name: "myrepo/app")
            #expect(completed.first?.references == ["docker.io/myrepo/app:1.0"])
            #expect(try c.store.resolve("myrepo/app:1.0").id == completed.first?.id)
            let overridden = try c.store.importImage(from: c.fixtures + "/busybox-docker.tar", name: "other:7")
            #expect(overridden.first?.references == ["docker.io/library/other:7"])
            #expect(throws: ImageError.self) { try c.store.resolve("busybox:docker-archive") }
            #expect(throws: ImageError.self) { try c.store.importImage(from: c.fixtures + "/busybox", name: "Bad/Name") }
        }
    }

    @Test func tagOnlyRefNameNeedsAName() async throws {
        try await Self.withStore { c in
            let layout = c.dir + "/tagonly"
            try FileManager.default.copyItem(atPath: c.fixtures + "/busybox", toPath: layout)
            try Self.rewriteIndex(layout) { entry in
                entry["annotations"] = ["org.opencontainers.image.ref.name": "1.0"]
            }
            #expect {
                try c.store.importImage(from: layout)
            } throws: { error in
                "\(error)".contains("named only by the tag \"1.0\"")
            }
            let image = try #require(try c.store.importImage(from: layout, name: "tagged").first)
            #expect(image.references == ["docker.io/library/tagged:1.0"])
        }
    }

    @Test func unnamedImageIsKeptAndReachableByID() async throws {
        try await Self.withStore { c in
            let layout = c.dir + "/unnamed"
            try FileManager.default.copyItem(atPath: c.fixtures + "/busybox", toPath: layout)
            try Self.rewriteIndex(layout) { $0["annotations"] = nil }
            let image = try #require(try c.store.importImage(from: layout).first)
            #expect(image.references.isEmpty)
            #expect(try c.store.list() == [image])
            #expect(try c.store.resolve(image.id.shortID) == image)
            // Naming it later takes it off the unnamed list; removing the name then deletes it.
            _ = try c.store.importImage(from: layout, name: "named:1")
            try c.store.remove("named:1")
            #expect(try c.store.list().isEmpty)
            #expect(try Self.blobNames(c.store).isEmpty)
        }
    }

    @Test func listRemoveAndGarbageCollection() async throws {
        try await Self.withStore { c in
            let busybox = try #require(try c.store.importImage(from: c.fixtures + "/busybox").first)
            let configured = try #require(try c.store.importImage(from: c.fixtures + "/configured").first)
            let docker = try #require(try c.store.importImage(from: c.fixtures + "/busybox-docker.tar").first)
            _ = try c.store.layerDirectories(for: busybox)
            #expect(try c.store.list().map(\.references) == [
                ["docker.io/library/busybox:docker-archive"], ["docker.io/library/busybox:latest"],
                ["docker.io/swiftlet/configured:1.0"],
            ])

            // A second name for the busybox image, then removing one name keeps the image.
            _ = try c.store.importImage(from: c.fixtures + "/busybox", name: "mirror/busybox:1")
            try c.store.remove("busybox")
            #expect(try c.store.resolve("mirror/busybox:1").id == busybox.id)
            #expect(try Self.blobNames(c.store).contains(busybox.manifestDigest.hex))

            // Removing the docker image drops its own blobs (synthesized manifest, plain layer)
            // but keeps the config it shares with the OCI busybox.
            let dockerLayer = try c.store.manifest(docker.manifestDigest).layers[0].digest
            try c.store.remove("docker.io/library/busybox:docker-archive")
            #expect(!(try Self.blobNames(c.store).contains(docker.manifestDigest.hex)))
            #expect(!(try Self.blobNames(c.store).contains(dockerLayer.hex)))
            #expect(try Self.blobNames(c.store).contains(busybox.id.hex))

            // Last name gone: blobs and the unpacked layer go too.
            try c.store.remove("mirror/busybox:1")
            let configuredManifest = try c.store.manifest(configured.manifestDigest)
            let expected = Set([configured.manifestDigest, configuredManifest.config.digest]
                               + configuredManifest.layers.map(\.digest)).map(\.hex)
            #expect(try Self.blobNames(c.store) == Set(expected))
            #expect(!FileTree.exists(c.store.root + "/layers/" + busybox.diffIDs[0].hex))
            #expect(try c.store.list().map(\.id) == [configured.id])

            // By ID prefix: the whole image.
            try c.store.remove(String(configured.id.hex.prefix(10)))
            #expect(try c.store.list().isEmpty)
            #expect(try Self.blobNames(c.store).isEmpty)
            #expect(throws: ImageError.notFound("docker.io/library/busybox:latest")) { try c.store.remove("busybox") }
        }
    }

    @Test func corruptedBlobInLayoutIsRejectedAndNamed() async throws {
        try await Self.withStore { c in
            let layout = c.dir + "/corrupt"
            try FileManager.default.copyItem(atPath: c.fixtures + "/busybox", toPath: layout)
            let manifestDigest = try Self.indexEntries(layout)[0]["digest"] as? String ?? ""
            let manifest = try JSONDecoder().decode(
                OCIManifest.self,
                from: Data(contentsOf: URL(fileURLWithPath: layout + "/blobs/sha256/" + manifestDigest.dropFirst(7))))
            let layerPath = layout + "/blobs/sha256/" + manifest.layers[0].digest.hex
            let handle = try FileHandle(forUpdating: URL(fileURLWithPath: layerPath))
            try handle.seek(toOffset: 1000)
            try handle.write(contentsOf: Data([0x42, 0x42, 0x42]))
            try handle.close()

            #expect {
                try c.store.importImage(from: layout)
            } throws: { error in
                guard case ImageError.digestMismatch(let what, let expected, _) = error else { return false }
                return what == "layer blobs/sha256/\(manifest.layers[0].digest.hex) in \(layout)"
                    && expected == manifest.layers[0].digest
            }
            #expect(try c.store.list().isEmpty)
            #expect(try FileManager.default.contentsOfDirectory(atPath: c.store.root + "/tmp").isEmpty)
            // The config copied before the bad layer was found is not left behind.
            #expect(try Self.blobNames(c.store).isEmpty)
        }
    }

    @Test func dockerArchiveEntriesSharingLayersImportOnce() async throws {
        try await Self.withStore { c in
            let extracted = c.dir + "/docker"
            try FileTree.createDirectories(extracted)
            try await TestSupport.run("/usr/bin/tar", ["-xf", c.fixtures + "/busybox-docker.tar", "-C", extracted])
            let manifest = try TestSupport.read(extracted + "/manifest.json")
            let second = manifest.replacingOccurrences(of: "busybox:docker-archive", with: "example.com/second:2")
            // Two entries naming the same config and layer files.
            let both = String(manifest.dropLast()) + "," + String(second.dropFirst())
            try TestSupport.write(both, to: extracted + "/manifest.json")
            try await TestSupport.run("/usr/bin/tar", ["-cf", c.dir + "/two.tar", "-C", extracted, "."])

            let images = try c.store.importImage(from: c.dir + "/two.tar")
            #expect(images.count == 1)  // identical synthesized manifests: one image, two names
            #expect(images.first?.references == ["docker.io/library/busybox:docker-archive", "example.com/second:2"])
            let layers = try c.store.layerDirectories(for: try #require(images.first))
            #expect(FileTree.exists(layers[0] + "/bin/busybox"))
        }
    }

    @Test func corruptedBlobInStoreIsDetectedWhenUsed() async throws {
        try await Self.withStore { c in
            let image = try #require(try c.store.importImage(from: c.fixtures + "/busybox").first)
            let layer = try c.store.manifest(image.manifestDigest).layers[0].digest
            let handle = try FileHandle(forUpdating: URL(fileURLWithPath: c.store.blobs.path(layer)))
            try handle.seek(toOffset: 5000)
            try handle.write(contentsOf: Data([0, 1, 2, 3]))
            try handle.close()
            #expect {
                try c.store.layerDirectories(for: image)
            } throws: { error in
                guard case ImageError.digestMismatch(let what, _, _) = error else { return false }
                return what == "layer blob \(c.store.blobs.path(layer))"
            }
            #expect(try FileManager.default.contentsOfDirectory(atPath: c.store.root + "/layers").isEmpty)

            try Data("{}".utf8).write(to: URL(fileURLWithPath: c.store.blobs.path(image.id)))
            #expect {
                try c.store.resolve("busybox")
            } throws: { error in
                "\(error)".hasPrefix("config \(c.store.blobs.path(image.id)) is corrupt")
            }
        }
    }

    @Test func zstdLayersImportAndUnpack() async throws {
        try await Self.withStore { c in
            let layout = c.dir + "/zstd"
            try FileManager.default.copyItem(atPath: c.fixtures + "/busybox", toPath: layout)
            // Recompress the layer with zstd(1) and point the manifest at the new blob.
            let manifestHex = String(try #require(try Self.indexEntries(layout)[0]["digest"] as? String).dropFirst(7))
            let manifest = try #require(try JSONSerialization.jsonObject(
                with: Data(contentsOf: URL(fileURLWithPath: layout + "/blobs/sha256/" + manifestHex))) as? [String: Any])
            let layer = try #require((manifest["layers"] as? [[String: Any]])?.first)
            let gzipped = layout + "/blobs/sha256/" + String(try #require(layer["digest"] as? String).dropFirst(7))
            try await TestSupport.run("/bin/sh", ["-c", "gzip -dc '\(gzipped)' | zstd -q -o '\(c.dir)/layer.zst'"])
            let zstd = try Data(contentsOf: URL(fileURLWithPath: c.dir + "/layer.zst"))
            let digest = Digest.of(Array(zstd))
            try zstd.write(to: URL(fileURLWithPath: layout + "/blobs/sha256/" + digest.hex))
            try Self.rewriteManifest(layout) { text in
                text.replacingOccurrences(of: "tar+gzip", with: "tar+zstd")
                    .replacingOccurrences(of: layer["digest"] as? String ?? "", with: digest.description)
                    .replacingOccurrences(of: "\"size\":\(layer["size"] as? Int ?? 0)", with: "\"size\":\(zstd.count)")
            }
            let image = try #require(try c.store.importImage(from: layout).first)
            let flat = c.dir + "/flat"
            try FileManager.default.createDirectory(atPath: flat, withIntermediateDirectories: true)
            try c.store.flatten(image, into: flat)
            #expect(FileManager.default.fileExists(atPath: flat + "/bin/busybox"))

            // A truncated zstd blob is an error, not a short layer.
            let truncated = Data(zstd.prefix(zstd.count / 2))
            try truncated.write(to: URL(fileURLWithPath: c.dir + "/short.zst"))
            try FileManager.default.createDirectory(atPath: c.dir + "/flat2", withIntermediateDirectories: true)
            #expect {
                try LayerUnpacker(mode: .apply).unpack(layerAt: c.dir + "/short.zst", into: c.dir + "/flat2")
            } throws: { error in
                "\(error)".contains("invalid zstd data") && "\(error)".contains("truncated")
            }
        }
    }

    @Test func nestedIndexResolvesToThisPlatform() async throws {
        try await Self.withStore { c in
            let layout = c.dir + "/multi"
            try FileManager.default.copyItem(atPath: c.fixtures + "/busybox", toPath: layout)
            let host = HostPlatform.current.architecture
            let foreign = host == "s390x" ? "riscv64" : "s390x"
            var entry = try Self.indexEntries(layout)[0]
            entry["annotations"] = nil
            var foreignEntry = entry
            foreignEntry["digest"] = "sha256:" + String(repeating: "0", count: 64)  // never read
            foreignEntry["platform"] = ["architecture": foreign, "os": "linux"]
            let nested: [String: Any] = [
                "schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
                "manifests": [foreignEntry, entry],
            ]
            let nestedDescriptor = try Self.addBlob(layout, nested, mediaType: "application/vnd.oci.image.index.v1+json")
            try Self.writeIndex(layout, [nestedDescriptor.merging(
                ["annotations": ["org.opencontainers.image.ref.name": "example.com/multi:1"]]) { $1 }])
            let image = try #require(try c.store.importImage(from: layout).first)
            #expect(image.references == ["example.com/multi:1"])

            // Only a foreign platform: a clear error listing what is there.
            let foreignOnly: [String: Any] = [
                "schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": [foreignEntry],
            ]
            let foreignDescriptor = try Self.addBlob(layout, foreignOnly, mediaType: "application/vnd.oci.image.index.v1+json")
            try Self.writeIndex(layout, [foreignDescriptor])
            #expect {
                try c.store.importImage(from: layout)
            } throws: { error in
                "\(error)" == "\(layout) has no image for linux/\(host) (available: linux/\(foreign))"
            }
        }
    }

    @Test func concurrentImportsAndUnpacksDoNotCorruptTheStore() async throws {
        try await Self.withStore { c in
            let sources = [c.fixtures + "/busybox", c.fixtures + "/configured",
                           c.fixtures + "/busybox-docker.tar", c.fixtures + "/busybox-oci.tar"]
            let failures = Failures()
            // On threads of their own: four imports at once must not take the cooperative pool.
            let store = c.store
            await BlockingCall.run(stackSize: 512 * 1024) {
                DispatchQueue.concurrentPerform(iterations: sources.count) { i in
                    do {
                        // Separate store objects, as separate processes would have.
                        let store = try ImageStore(root: store.root)
                        guard let image = try store.importImage(from: sources[i]).first else {
                            return failures.add("\(sources[i]): nothing imported")
                        }
                        _ = try store.layerDirectories(for: image).count
                    } catch {
                        failures.add("\(sources[i]): \(error)")
                    }
                }
            }
            #expect(failures.all.isEmpty)
            // busybox and busybox-oci.tar share one manifest: three images, four names.
            #expect(try c.store.list().flatMap(\.references).sorted() == [
                "docker.io/library/busybox:docker-archive", "docker.io/library/busybox:latest",
                "docker.io/library/busybox:oci-archive", "docker.io/swiftlet/configured:1.0",
            ])
            #expect(try c.store.list().count == 3)
            let layers = try FileManager.default.contentsOfDirectory(atPath: c.store.root + "/layers")
            #expect(!layers.contains { $0.contains(".tmp-") })
        }
    }

    // MARK: - Layout editing helpers

    final class Failures: @unchecked Sendable {
        private let lock = NSLock()
        private var messages: [String] = []
        func add(_ message: String) { lock.withLock { messages.append(message) } }
        var all: [String] { lock.withLock { messages } }
    }

    static func indexEntries(_ layout: String) throws -> [[String: Any]] {
        let data = try Data(contentsOf: URL(fileURLWithPath: layout + "/index.json"))
        let index = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        return try #require(index["manifests"] as? [[String: Any]])
    }

    static func writeIndex(_ layout: String, _ manifests: [[String: Any]]) throws {
        let index: [String: Any] = [
            "schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": manifests,
        ]
        try JSONSerialization.data(withJSONObject: index).write(to: URL(fileURLWithPath: layout + "/index.json"))
    }

    static func rewriteIndex(_ layout: String, _ change: (inout [String: Any]) -> Void) throws {
        var entries = try indexEntries(layout)
        change(&entries[0])
        try writeIndex(layout, entries)
    }

    /// Stores a JSON object as a blob of the layout; returns its descriptor.
    static func addBlob(_ layout: String, _ object: [String: Any], mediaType: String) throws -> [String: Any] {
        let data = try JSONSerialization.data(withJSONObject: object)
        let digest = Digest.of(Array(data))
        try data.write(to: URL(fileURLWithPath: layout + "/blobs/sha256/" + digest.hex))
        return ["mediaType": mediaType, "digest": digest.description, "size": data.count]
    }

    /// Rewrites the (single) manifest's JSON text and points index.json at the new blob.
    static func rewriteManifest(_ layout: String, _ change: (String) -> String) throws {
        let entry = try indexEntries(layout)[0]
        let old = try #require(entry["digest"] as? String)
        let text = try TestSupport.read(layout + "/blobs/sha256/" + old.dropFirst(7))
        let data = Data(change(text).utf8)
        let digest = Digest.of(Array(data))
        try data.write(to: URL(fileURLWithPath: layout + "/blobs/sha256/" + digest.hex))
        try rewriteIndex(layout) { e in
            e["digest"] = digest.description
            e["size"] = data.count
        }
    }
}
