import Foundation
import Glibc
@testable import Images
import Testing
import TestSupport

/// `swiftlet images pull` against Debian's docker-registry with TLS from a test CA and htpasswd
/// authentication, on a host of its own (a network namespace), with images pushed by skopeo.
/// Root only. Serialized: each test starts its own registry, and they are CPU-heavy together.
@Suite("Pulls from a real registry (root)", .serialized, .ownThreads)
struct RegistryPullTests {
    static let busyboxTag = "1.0"

    /// The busybox fixture pushed as library/busybox:1.0.
    static func pushBusybox(_ lab: RegistryLab, repository: String = "library/busybox") async throws {
        try await lab.registry.push("oci:" + (try await Fixtures.builtDirectory()) + "/busybox", to: repository, tag: busyboxTag)
    }

    @Test func pullsOverTLSWithCredentialsAndUnpacks() async throws {
        let lab = try await RegistryLab()
        defer { lab.cleanUp() }
        try await Self.pushBusybox(lab)
        let reference = "\(lab.registry.host)/library/busybox:\(Self.busyboxTag)"
        let (status, output) = await lab.pull(reference, registryFile: try lab.registryFile())
        #expect(status == 0, "\(output)")
        #expect(output.contains("pulled \(reference) sha256:"))
        let image = try lab.store().resolve(reference)
        #expect(image.repoTags == [reference])
        #expect(image.repoDigests.count == 1 && image.repoDigests[0].hasPrefix("\(lab.registry.host)/library/busybox@sha256:"))
        #expect(image.config.cmd == ["sh"])
        // Unpacked during the pull: the layer directory is there with busybox in it.
        #expect(lab.storeFiles("layers") == image.diffIDs.map(\.hex))
        #expect(FileManager.default.fileExists(atPath: lab.storeRoot + "/layers/\(image.diffIDs[0].hex)/bin/busybox"))
        #expect(lab.storeFiles("tmp").isEmpty && lab.storeFiles("leases").isEmpty)

        // Pulled again: nothing is downloaded, the image is the same.
        let again = await lab.pull(reference, registryFile: try lab.registryFile())
        #expect(again.status == 0 && again.output.contains(", 0 bytes downloaded"), "\(again.output)")
        #expect(try lab.store().resolve(reference) == image)
        #expect(lab.registry.blobDownloads(try lab.store().manifest(image.manifestDigest).layers[0].digest.description) == 1)

        // images ls shows the digest.
        let listed = await TestProcess.runAsync([Fixtures.binDirectory + "/swiftlet", "images", "ls", "--data-dir", lab.dataDir])
        let digestPrefix = String(image.repoDigests[0].split(separator: ":").last?.prefix(13) ?? "")
        #expect(listed.1.contains("\(lab.registry.host)/library/busybox   \(Self.busyboxTag)   \(digestPrefix)   \(image.id.hex.prefix(13))"), "\(listed.1)")
    }

    @Test func mirrorWithRewriteServesDockerHubNames() async throws {
        let lab = try await RegistryLab()
        defer { lab.cleanUp() }
        try await Self.pushBusybox(lab, repository: "mirrored/busybox")
        let file = try lab.registryFile(extra: """
            mirrors:
              docker.io:
                endpoint:
                  - "https://\(lab.registry.host)"
                rewrite:
                  "^library/(.*)": "mirrored/$1"
            """)
        let (status, output) = await lab.pull("busybox:\(Self.busyboxTag)", registryFile: file)
        #expect(status == 0, "\(output)\n\(lab.registry.log.suffix(3000))")
        #expect(output.contains("from https://\(lab.registry.host)/v2/mirrored/busybox"))
        let image = try lab.store().resolve("busybox:\(Self.busyboxTag)")
        #expect(image.repoTags == ["docker.io/library/busybox:\(Self.busyboxTag)"])
        #expect(lab.registry.log.contains("\"GET /v2/mirrored/busybox/manifests/\(Self.busyboxTag) HTTP/1.1\" 200"))
    }

    @Test func multiArchIndexResolvesToThisPlatform() async throws {
        let lab = try await RegistryLab()
        defer { lab.cleanUp() }
        let layout = lab.scratch + "/multi"
        let builder = try OCILayoutBuilder(path: layout)
        let busybox = try await Fixtures.builtDirectory() + "/busybox"
        let amd64 = try builder.manifest(layers: [.init(files: ["etc/arch": Data("amd64\n".utf8)])], busyboxLayout: busybox, scratch: lab.scratch)
        let arm64 = try builder.manifest(layers: [.init(files: ["etc/arch": Data("arm64\n".utf8)])], architecture: "arm64",
                                         busyboxLayout: busybox, scratch: lab.scratch)
        let indexDigest = try builder.index([(arm64.digest, arm64.size, "arm64"), (amd64.digest, amd64.size, "amd64")], tag: "multi")
        try await lab.registry.push("oci:\(layout):multi", to: "team/app", tag: "multi", all: true)

        let reference = "\(lab.registry.host)/team/app:multi"
        let (status, output) = await lab.pull(reference, registryFile: try lab.registryFile())
        #expect(status == 0, "\(output)")
        let image = try lab.store().resolve(reference)
        #expect(image.manifestDigest.description == amd64.digest)
        // The repo digest is the index's (what the tag names), as containerd records it; the
        // image resolves by it and by the platform manifest's digest.
        #expect(image.repoDigests == ["\(lab.registry.host)/team/app@\(indexDigest)"])
        #expect(try lab.store().resolve("\(lab.registry.host)/team/app@\(indexDigest)") == image)
        #expect(try lab.store().resolve(amd64.digest) == image)
        let flattened = lab.scratch + "/flat"
        try FileManager.default.createDirectory(atPath: flattened, withIntermediateDirectories: true)
        try lab.store().flatten(image, into: flattened)
        #expect(try String(contentsOfFile: flattened + "/etc/arch", encoding: .utf8) == "amd64\n")

        // Pulled by the index digest alone.
        let byDigest = await lab.pull("\(lab.registry.host)/team/app@\(indexDigest)", registryFile: try lab.registryFile())
        #expect(byDigest.status == 0, "\(byDigest.output)")
    }

    @Test func failuresSayWhyAndStoreNothing() async throws {
        let lab = try await RegistryLab()
        defer { lab.cleanUp() }
        try await Self.pushBusybox(lab)
        let host = lab.registry.host
        let reference = "\(host)/library/busybox:\(Self.busyboxTag)"
        let cases: [(String, [String], String?, String)] = [
            ("\(host)/library/busybox:nope", [], try lab.registryFile(name: "good.yaml"),
             "failed to resolve reference \"\(host)/library/busybox:nope\": \(host)/library/busybox:nope: not found (MANIFEST_UNKNOWN: manifest unknown)"),
            (reference, ["--creds", "\(lab.registry.username):wrong"], try lab.registryFile(name: "good.yaml"),
             "pull access denied, repository does not exist or may require authorization: server message: UNAUTHORIZED: authentication required"),
            (reference, [], try lab.registryFile(credentials: false, name: "anonymous.yaml"), "failed to authorize: no basic auth credentials"),
            (reference, [], try lab.registryFile(caFile: false, name: "no-ca.yaml"), "tls: failed to verify certificate: x509:"),
            ("\(lab.registry.ip):5999/library/busybox:1.0", [], try lab.registryFile(name: "good.yaml"),
             "dial tcp \(lab.registry.ip):5999: connect: connection refused"),
            ("10.89.0.77:5000/library/busybox:1.0", [], try lab.registryFile(name: "good.yaml"), "dial tcp 10.89.0.77:5000: connect: no route to host"),
        ]
        for (reference, arguments, file, expected) in cases {
            let (status, output) = await lab.pull(reference, arguments, registryFile: file)
            #expect(status != 0)
            #expect(output.contains("failed to pull and unpack image \"\(reference)\""), "\(output)")
            #expect(output.contains(expected), "\(output)")
        }
        #expect(try lab.store().list().isEmpty)
        #expect(lab.storeFiles("blobs/sha256").isEmpty && lab.storeFiles("layers").isEmpty && lab.storeFiles("tmp").isEmpty)

        // Without a CA but told not to verify, the same registry works.
        let insecure = await lab.pull(reference, registryFile: try lab.registryFile(caFile: false, insecure: true, name: "insecure.yaml"))
        #expect(insecure.status == 0, "\(insecure.output)")
    }

    @Test func corruptedBlobIsRefusedAndNothingIsStored() async throws {
        let lab = try await RegistryLab()
        defer { lab.cleanUp() }
        let manifest = try await lab.pushImage("team/corrupt", tag: "v1", layers: [.init(files: ["data/blob": OCILayoutBuilder.random(300_000)])])
        // Flip bytes in the middle of the top layer as the registry stores it.
        let layout = lab.scratch + "/team-corrupt-v1"
        let manifestJSON = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: layout + "/blobs/sha256/" + manifest.dropFirst(7)))) as? [String: Any]
        let layers = manifestJSON?["layers"] as? [[String: Any]] ?? []
        let top = try #require(layers.last?["digest"] as? String)
        let handle = try FileHandle(forUpdating: URL(fileURLWithPath: lab.registry.blobFile(top)))
        try handle.seek(toOffset: 150_000)
        try handle.write(contentsOf: Data(repeating: 0x42, count: 64))
        try handle.close()

        let reference = "\(lab.registry.host)/team/corrupt:v1"
        let (status, output) = await lab.pull(reference, registryFile: try lab.registryFile())
        #expect(status != 0)
        #expect(output.contains("failed commit on blob \(top)"), "\(output)")
        #expect(output.contains("is corrupt: expected digest \(top)"), "\(output)")
        #expect(try lab.store().list().isEmpty)
        // Neither the bad blob nor an unpacked layer of it was kept, nor a temporary file.
        #expect(!lab.storeFiles("blobs/sha256").contains(String(top.dropFirst(7))))
        #expect(lab.storeFiles("blobs/sha256").isEmpty && lab.storeFiles("layers").isEmpty)
        #expect(lab.storeFiles("tmp").isEmpty && lab.storeFiles("leases").isEmpty)
    }

    @Test func zstdLayersArePulledAndUnpacked() async throws {
        let lab = try await RegistryLab()
        defer { lab.cleanUp() }
        _ = try await lab.pushImage("team/zstd", tag: "v1", layers: [
            .init(files: ["etc/greeting": Data("zstd works\n".utf8), "data/random": OCILayoutBuilder.random(200_000)], compression: .zstd),
        ])
        let reference = "\(lab.registry.host)/team/zstd:v1"
        let (status, output) = await lab.pull(reference, registryFile: try lab.registryFile())
        #expect(status == 0, "\(output)")
        let image = try lab.store().resolve(reference)
        #expect(try String(contentsOfFile: lab.storeRoot + "/layers/\(image.diffIDs.last?.hex ?? "")/etc/greeting", encoding: .utf8) == "zstd works\n")
    }

    /// Nothing gets its name in the store before it is on disk: a blob is fsynced before it is
    /// renamed into blobs/, a layer directory synced (syncfs) before it is renamed into
    /// layers/ — both are trusted as they are once named. Checked on the pull's system calls:
    /// every blob and layer is written and synced by a thread of its own, so the sync must
    /// come first on the thread that renames.
    @Test func blobsAndLayersAreOnDiskBeforeTheyAreNamed() async throws {
        let lab = try await RegistryLab()
        defer { lab.cleanUp() }
        _ = try await lab.pushImage("team/durable", tag: "v1", layers: [.init(files: ["data/a": OCILayoutBuilder.random(200_000)])])
        let reference = "\(lab.registry.host)/team/durable:v1"
        let trace = lab.root.path + "/strace.txt"
        let argv = ["/usr/bin/strace", "-f", "-qq", "-e", "trace=fsync,syncfs,rename", "-o", trace,
                    Fixtures.binDirectory + "/swiftlet", "images", "pull", "-q", "--data-dir", lab.dataDir,
                    "--registry-config", try lab.registryFile(), reference]
        let (status, output) = await TestProcess.runAsync(TestProcess.inNetns(lab.registry.netns, argv))
        #expect(status == 0, "\(output)")
        let calls = try String(contentsOfFile: trace, encoding: .utf8).split(separator: "\n").map { line in
            (thread: line.prefix { $0 != " " }, text: String(line))
        }
        func syncedFirst(_ index: Int, by call: String) -> Bool {
            calls[..<index].contains { $0.thread == calls[index].thread && $0.text.contains(" \(call)(") }
        }
        let blobRenames = calls.indices.filter { calls[$0].text.contains("rename(") && calls[$0].text.contains("/blobs/sha256/") }
        let layerRenames = calls.indices.filter { calls[$0].text.contains("rename(") && calls[$0].text.contains(".tmp-")
            && calls[$0].text.contains("/images/layers/") }
        let image = try lab.store().resolve(reference)
        // Every blob of the store (manifest, config, busybox's layer and the new one) came in
        // by one rename.
        #expect(blobRenames.count == lab.storeFiles("blobs/sha256").count && blobRenames.count >= 4,
                "\(calls.map(\.text).joined(separator: "\n"))")
        #expect(layerRenames.count == image.diffIDs.count && image.diffIDs.count == 2)
        for index in blobRenames { #expect(syncedFirst(index, by: "fsync"), "\(calls[index].text)") }
        for index in layerRenames { #expect(syncedFirst(index, by: "syncfs"), "\(calls[index].text)") }
    }

    @Test func manyLayersDownloadInParallelAndSharedLayersOnce() async throws {
        let lab = try await RegistryLab()
        defer { lab.cleanUp() }
        let shared = OCILayoutBuilder.Layer(files: ["shared/data": OCILayoutBuilder.random(400_000)])
        _ = try await lab.pushImage("team/one", tag: "v1", layers: [shared] + (0..<5).map { i in
            OCILayoutBuilder.Layer(files: ["one/\(i)": OCILayoutBuilder.random(300_000)])
        })
        // The second image has the same shared layer (same bytes: the layout builder's tar is
        // reproducible) and one of its own.
        let layout2 = try OCILayoutBuilder(path: lab.scratch + "/two")
        let two = try layout2.manifest(layers: [shared, .init(files: ["two/x": OCILayoutBuilder.random(100_000)])],
                                       busyboxLayout: try await Fixtures.builtDirectory() + "/busybox", scratch: lab.scratch)
        try layout2.index([(two.digest, two.size, "amd64")], tag: "v1")
        try await lab.registry.push("oci:\(lab.scratch)/two:v1", to: "team/two", tag: "v1")

        let file = try lab.registryFile()
        let one = await lab.pull("\(lab.registry.host)/team/one:v1", ["--max-concurrent-downloads", "4"], registryFile: file)
        #expect(one.status == 0, "\(one.output)")
        let second = await lab.pull("\(lab.registry.host)/team/two:v1", registryFile: file)
        #expect(second.status == 0, "\(second.output)")
        // busybox and the shared layer were in the store already: only the new layer came.
        let images = try lab.store().list()
        #expect(images.count == 2)
        let twoImage = try lab.store().resolve("\(lab.registry.host)/team/two:v1")
        let twoLayers = try lab.store().manifest(twoImage.manifestDigest).layers
        #expect(lab.registry.blobDownloads(twoLayers[1].digest.description) == 1)
        #expect(lab.registry.log.components(separatedBy: "GET /v2/team/two/blobs/").count - 1 == 2)  // config + own layer
    }
}

/// Downloads that lose their connection midway continue where they broke.
@Suite("Resumed downloads (root)", .serialized, .ownThreads)
struct ResumedDownloadTests {
    /// A TCP relay in front of the registry that cuts the first connection carrying more than
    /// `cutAfter` bytes from the registry (mid-blob, as a flaky network or proxy does), once.
    static let relay = """
        import socket, sys, threading
        listen_host, listen_port, target_host, target_port, cut_after = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
        state = {"cut": False}
        lock = threading.Lock()
        def pump(src, dst, count):
            sent = 0
            try:
                while True:
                    data = src.recv(65536)
                    if not data:
                        break
                    if count:
                        with lock:
                            if not state["cut"] and sent + len(data) > cut_after:
                                state["cut"] = True
                                dst.sendall(data[: cut_after - sent])
                                print("cut", flush=True)
                                for s in (src, dst):
                                    try: s.shutdown(socket.SHUT_RDWR)
                                    except OSError: pass
                                return
                    dst.sendall(data)
                    sent += len(data)
            except OSError:
                pass
            for s in (src, dst):
                try: s.shutdown(socket.SHUT_RDWR)
                except OSError: pass
        server = socket.socket(); server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind((listen_host, listen_port)); server.listen(64)
        print("listening", flush=True)
        while True:
            client, _ = server.accept()
            upstream = socket.create_connection((target_host, target_port))
            threading.Thread(target=pump, args=(client, upstream, False), daemon=True).start()
            threading.Thread(target=pump, args=(upstream, client, True), daemon=True).start()
        """

    @Test func aDroppedConnectionResumesWithARangeRequest() async throws {
        let lab = try await RegistryLab()
        defer { lab.cleanUp() }
        _ = try await lab.pushImage("team/big", tag: "v1", layers: [.init(files: ["data/big": OCILayoutBuilder.random(1_500_000)])])
        let script = lab.root.path + "/relay.py"
        try Self.relay.write(toFile: script, atomically: true, encoding: .utf8)
        let ip = lab.registry.ip
        let relayLog = lab.root.path + "/relay.log"
        let relay = try TestProcess.spawn(TestProcess.inNetns(lab.registry.netns, ["/usr/bin/python3", script, ip, "5001", ip, "5000", "600000"]),
                                          log: relayLog)
        defer { TestProcess.stop(relay, signal: SIGKILL) }
        #expect(await TestProcess.waitFor(30) { ((try? String(contentsOfFile: relayLog, encoding: .utf8)) ?? "").contains("listening") })

        let file = lab.root.path + "/relay.yaml"
        try """
            configs:
              "\(ip):5001":
                auth:
                  username: \(lab.registry.username)
                  password: \(lab.registry.password)
                tls:
                  ca_file: \(lab.registry.caFile)
            """.write(toFile: file, atomically: true, encoding: .utf8)
        let (status, output) = await lab.pull("\(ip):5001/team/big:v1", registryFile: file)
        #expect(status == 0, "\(output)\n\((try? String(contentsOfFile: relayLog, encoding: .utf8)) ?? "")")
        #expect(((try? String(contentsOfFile: relayLog, encoding: .utf8)) ?? "").contains("cut"))
        // The blob was asked for again from where the connection broke: a 206 answer.
        #expect(lab.registry.log.contains("\" 206 "), "\(lab.registry.log.suffix(2000))")
        let image = try lab.store().resolve("\(ip):5001/team/big:v1")
        #expect(FileManager.default.fileExists(atPath: lab.storeRoot + "/layers/\(image.diffIDs.last?.hex ?? "")/data/big"))
    }
}
