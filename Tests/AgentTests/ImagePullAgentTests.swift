import Agent
import Foundation
import Glibc
import KubeAPI
import Testing
import TestSupport

/// A real `swiftlet agent` pulling its static pods' images from Debian's docker-registry (TLS
/// from a test CA, htpasswd), the registry running on the agent's own node (its network
/// namespace, 127.0.0.1:5000). Root only.
@Suite("Agent pulling images from a registry (root)", .serialized, .ownThreads)
struct ImagePullAgentTests {
    static func setUp(_ h: AgentHarness) async throws -> TestRegistry {
        let registry = try TestRegistry(directory: h.root.path + "/registry", netns: h.netns, ip: "127.0.0.1")
        try await registry.start()
        let busybox = try await Fixtures.builtDirectory() + "/busybox"
        try await registry.push("oci:" + busybox, to: "team/busybox", tag: "1.0")
        try await registry.push("oci:" + busybox, to: "team/busybox", tag: "latest")
        // An image whose top layer no store has yet (busybox's is imported by the harness).
        let layout = try OCILayoutBuilder(path: h.root.path + "/fresh")
        let manifest = try layout.manifest(layers: [.init(files: ["data/fresh": OCILayoutBuilder.random(2 << 20)])],
                                           busyboxLayout: busybox, scratch: h.root.path)
        try layout.index([(manifest.digest, manifest.size, "amd64")], tag: "1.0")
        try await registry.push("oci:\(h.root.path)/fresh:1.0", to: "team/fresh", tag: "1.0")
        try await registry.push("oci:\(h.root.path)/fresh:1.0", to: "team/fresh", tag: "latest")
        let file = h.root.path + "/registries.yaml"
        try """
            configs:
              "\(registry.host)":
                auth:
                  username: \(registry.username)
                  password: \(registry.password)
                tls:
                  ca_file: \(registry.caFile)
            """.write(toFile: file, atomically: true, encoding: .utf8)
        h.registryConfig = file
        return registry
    }

    /// The digest of the top layer of team/fresh (the one no store has at first).
    static func freshLayer(_ h: AgentHarness) async throws -> String {
        let layout = h.root.path + "/fresh"
        let index = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: layout + "/index.json"))) as? [String: Any]
        let manifestDigest = ((index?["manifests"] as? [[String: Any]])?.first?["digest"] as? String ?? "").dropFirst(7)
        let manifest = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: layout + "/blobs/sha256/\(manifestDigest)"))) as? [String: Any]
        return try #require((manifest?["layers"] as? [[String: Any]])?.last?["digest"] as? String)
    }

    static func pod(_ name: String, image: String, policy: String? = nil, command: String = "sleep 3600",
                    restart: String = "Always") -> String {
        """
        apiVersion: v1
        kind: Pod
        metadata:
          name: \(name)
        spec:
          restartPolicy: \(restart)
          terminationGracePeriodSeconds: 1
          containers:
          - name: c
            image: \(image)
        \(policy.map { "    imagePullPolicy: \($0)\n" } ?? "")    command: ["sh", "-c", "\(command)"]
        """
    }

    @Test func podsPullOnceAndShowKubeletsWaitingReasons() async throws {
        let h = try await AgentHarness()
        defer { h.cleanUp() }
        let registry = try await Self.setUp(h)
        defer { registry.cleanUp() }
        h.extraArguments = ["--serialize-image-pulls", "false"]
        let image = "\(registry.host)/team/fresh:1.0"
        try h.writeManifest("a.yaml", Self.pod("a", image: image))
        try h.writeManifest("b.yaml", Self.pod("b", image: image))
        try h.writeManifest("ghost.yaml", Self.pod("ghost", image: "\(registry.host)/team/busybox:nope"))
        try h.writeManifest("never.yaml", Self.pod("never", image: "\(registry.host)/team/absent:1", policy: "Never"))
        try h.start()

        let running = await h.waitFor(60) {
            h.container("a", "c")?.state?.running != nil && h.container("b", "c")?.state?.running != nil
        }
        #expect(running, "\(h.agentLog.suffix(3000))")
        // Two pods pulled the same image at the same time: its layer was downloaded once.
        let layer = try await Self.freshLayer(h)
        #expect(registry.blobDownloads(layer) == 1, "\(registry.log.suffix(3000))")
        // imageID is the repo digest, as containerd reports it.
        let status = try #require(h.container("a", "c"))
        #expect(status.imageID.hasPrefix("\(registry.host)/team/fresh@sha256:"))
        #expect(status.image == "\(registry.host)/team/fresh:1.0")

        // A tag that does not exist: ErrImagePull with the registry's reason, then ImagePullBackOff.
        var reasons = Set<String>()
        var messages = Set<String>()
        _ = await h.waitFor(30) {
            if let waiting = h.container("ghost", "c")?.state?.waiting {
                reasons.insert(waiting.reason ?? "")
                messages.insert(waiting.message ?? "")
            }
            return reasons.isSuperset(of: ["ErrImagePull", "ImagePullBackOff"])
        }
        #expect(reasons.isSuperset(of: ["ErrImagePull", "ImagePullBackOff"]), "\(reasons) \(messages)\n\(h.agentLog.components(separatedBy: "\n").filter { $0.contains("ghost") }.suffix(30).joined(separator: "\n"))")
        #expect(messages.contains("Back-off pulling image \"\(registry.host)/team/busybox:nope\""), "\(messages)")
        #expect(messages.contains { $0.contains("failed to resolve reference \"\(registry.host)/team/busybox:nope\"") && $0.contains(": not found") },
                "\(messages)")
        #expect(h.entry("ghost")?.status?.phase == "Pending")
        #expect(h.container("ghost", "c")?.restartCount == 0)
        // Never, and the image is not here.
        #expect(h.container("never", "c")?.state?.waiting?.reason == "ErrImageNeverPull")
        #expect(h.container("never", "c")?.state?.waiting?.message == "Container image \"\(registry.host)/team/absent:1\" is not present with pull policy of Never")
    }

    @Test func alwaysPullsAgainAtEveryStart() async throws {
        let h = try await AgentHarness()
        defer { h.cleanUp() }
        let registry = try await Self.setUp(h)
        defer { registry.cleanUp() }
        // Exits at once; restartPolicy Always restarts it (with the 1 s back-off of the harness).
        try h.writeManifest("again.yaml", Self.pod("again", image: "\(registry.host)/team/fresh:latest", command: "true"))
        try h.start()
        let restarted = await h.waitFor(40) { (h.container("again", "c")?.restartCount ?? 0) >= 2 }
        #expect(restarted, "\(h.agentLog.suffix(2000))")
        let manifestGets = registry.log.split(separator: "\n").filter {
            $0.contains("\"GET /v2/team/fresh/manifests/latest HTTP/1.1\" 200")
        }.count
        #expect(manifestGets >= 3, "\(manifestGets)")
        // The layer itself came once: later pulls find it in the store.
        #expect(registry.blobDownloads(try await Self.freshLayer(h)) == 1)
    }

    @Test func unusedImagesAreCollectedAtTheHighThresholdAndUsedOnesKept() async throws {
        let h = try await AgentHarness()
        defer { h.cleanUp() }
        let registry = try await Self.setUp(h)
        defer { registry.cleanUp() }
        // The image store on a 64 MiB filesystem of its own, so its usage can be driven.
        let images = h.data + "/images"
        try FileManager.default.createDirectory(atPath: images, withIntermediateDirectories: true)
        try AgentHarness.command(["/bin/mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", images])
        for name in ["big1", "big2"] {
            let layout = try OCILayoutBuilder(path: h.root.path + "/\(name)")
            let manifest = try layout.manifest(layers: [.init(files: ["data/\(name)": OCILayoutBuilder.random(6 << 20)])], scratch: h.root.path)
            try layout.index([(manifest.digest, manifest.size, "amd64")], tag: "v1")
            try await registry.push("oci:\(h.root.path)/\(name):v1", to: "team/\(name)", tag: "v1")
            let pulled = await TestProcess.runAsync(TestProcess.inNetns(h.netns, [
                Fixtures.binDirectory + "/swiftlet", "images", "pull", "-q", "--data-dir", h.data,
                "--registry-config", h.registryConfig ?? "", "\(registry.host)/team/\(name):v1",
            ]))
            #expect(pulled.0 == 0, "\(pulled.1)")
        }
        try h.writeManifest("inuse.yaml", Self.pod("inuse", image: "\(registry.host)/team/busybox:1.0"))
        // Fill the filesystem to 90 %: over kubelet's 85 % high threshold.
        var stats = statvfs()
        statvfs(images, &stats)
        let capacity = Int64(stats.f_blocks) * Int64(stats.f_frsize)
        let used = capacity - Int64(stats.f_bavail) * Int64(stats.f_frsize)
        let filler = max(Int64(0), capacity * 90 / 100 - used - (3 << 20))  // room for busybox's pull
        try Data(count: Int(filler)).write(to: URL(fileURLWithPath: images + "/filler"))
        h.extraArguments = ["--image-gc-period", "1", "--minimum-image-ttl-duration", "0"]
        try h.start()

        func usage() -> Int64 {
            var s = statvfs()
            statvfs(images, &s)
            return 100 - Int64(s.f_bavail) * 100 / Int64(s.f_blocks)
        }
        let collected = await h.waitFor(60) {
            h.container("inuse", "c")?.state?.running != nil && usage() <= 80
        }
        #expect(collected, "usage \(usage())%\n\(h.agentLog.suffix(3000))")
        let listed = await TestProcess.runAsync([Fixtures.binDirectory + "/swiftlet", "images", "ls", "--data-dir", h.data])
        // The image in use stays; at least one unused big image went, and a log line says so.
        #expect(listed.1.contains("\(registry.host)/team/busybox   1.0"), "\(listed.1)")
        #expect(!listed.1.contains("team/big1") || !listed.1.contains("team/big2"), "\(listed.1)")
        #expect(h.agentLog.contains("removed unused image"))
    }
}
