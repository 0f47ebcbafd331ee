import Foundation
import Images
import TestSupport

/// A registry test's world: a scratch directory, Debian's docker-registry (TLS from a test CA,
/// htpasswd) on a host of its own (a network namespace), and `swiftlet images pull` run inside
/// that host, as a node on the registry's network would. Root only.
final class RegistryLab: @unchecked Sendable {
    let root: TestRoot
    let registry: TestRegistry
    /// The image store the pulls write to.
    var dataDir: String { root.path + "/node" }
    var storeRoot: String { dataDir + "/images" }
    var scratch: String { root.path + "/scratch" }

    init(_ name: String = #function, auth: Bool = true) async throws {
        root = try TestRoot(name)
        try FileManager.default.createDirectory(atPath: root.path + "/scratch", withIntermediateDirectories: true)
        registry = try TestRegistry(directory: root.path + "/registry")
        do {
            try await registry.start(auth: auth)
        } catch {
            registry.cleanUp()
            throw error
        }
    }

    deinit { cleanUp() }

    func cleanUp() {
        registry.cleanUp()
        root.cleanUp()
    }

    /// The registry file a node uses for this registry: its CA, and its credentials unless
    /// `credentials` is false; `extra` is appended (mirrors).
    func registryFile(credentials: Bool = true, caFile: Bool = true, insecure: Bool = false, extra: String = "",
                      name: String = "registries.yaml") throws -> String {
        var text = extra + "\nconfigs:\n  \"\(registry.host)\":\n"
        if credentials {
            text += "    auth:\n      username: \(registry.username)\n      password: \(registry.password)\n"
        }
        if caFile || insecure {
            text += "    tls:\n"
            if caFile { text += "      ca_file: \(registry.caFile)\n" }
            if insecure { text += "      insecure_skip_verify: true\n" }
        }
        let path = root.path + "/" + name
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// `swiftlet images pull REFERENCE ARGUMENTS` on the registry's host, into the lab's store.
    func pull(_ reference: String, _ arguments: [String] = [], registryFile: String? = nil) async -> (status: Int32, output: String) {
        var argv = [Fixtures.binDirectory + "/swiftlet", "images", "pull", "--data-dir", dataDir, "-q", reference]
        argv += ["--registry-config", registryFile ?? root.path + "/none.yaml"]
        return await TestProcess.runAsync(TestProcess.inNetns(registry.netns, argv + arguments))
    }

    /// The store as the node sees it.
    func store() throws -> ImageStore { try ImageStore(root: storeRoot) }

    /// Names of the files in a store directory (`blobs/sha256`, `layers`, `tmp`, `leases`).
    func storeFiles(_ directory: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: storeRoot + "/" + directory)) ?? []).sorted()
    }

    /// A layout with `layers` on top of the busybox fixture (so it runs), pushed as
    /// `repository:tag`; returns the manifest digest.
    func pushImage(_ repository: String, tag: String, layers: [OCILayoutBuilder.Layer], name: String? = nil) async throws -> String {
        let layout = scratch + "/" + (name ?? "\(repository.replacingOccurrences(of: "/", with: "-"))-\(tag)")
        let builder = try OCILayoutBuilder(path: layout)
        let manifest = try builder.manifest(layers: layers, busyboxLayout: try await Fixtures.builtDirectory() + "/busybox",
                                            scratch: scratch)
        try builder.index([(manifest.digest, manifest.size, "amd64")], tag: tag)
        try await registry.push("oci:\(layout):\(tag)", to: repository, tag: tag)
        return manifest.digest
    }
}
