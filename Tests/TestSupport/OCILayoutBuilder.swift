import Foundation
import Images

/// Builds OCI image layouts for the registry tests with the usual tools: each layer a directory
/// tarred by `tar`, compressed by `gzip -n` or `zstd`, blobs named by their SHA-256, a config
/// with the layers' diff IDs, a manifest, and an index (several platforms when asked, as
/// `docker buildx` pushes multi-arch images). skopeo then pushes the layout to a registry.
public struct OCILayoutBuilder {
    public enum Compression: Sendable { case gzip, zstd }

    /// One layer: files (path → content) written into a fresh directory and tarred.
    public struct Layer: Sendable {
        public var files: [String: Data]
        public var compression: Compression

        public init(files: [String: Data], compression: Compression = .gzip) {
            self.files = files
            self.compression = compression
        }
    }

    public let path: String

    public init(path: String) throws {
        self.path = path
        try FileManager.default.createDirectory(atPath: path + "/blobs/sha256", withIntermediateDirectories: true)
        try #"{"imageLayoutVersion":"1.0.0"}"#.write(toFile: path + "/oci-layout", atomically: true, encoding: .utf8)
    }

    /// Writes a blob; returns its descriptor fields.
    @discardableResult
    public func blob(_ data: Data) throws -> (digest: String, size: Int) {
        let digest = Digest.of(Array(data))
        try data.write(to: URL(fileURLWithPath: path + "/blobs/sha256/" + digest.hex))
        return (digest.description, data.count)
    }

    /// A layer blob: (compressed digest, size, media type, diff ID).
    public func layer(_ layer: Layer, scratch: String) throws -> (digest: String, size: Int, mediaType: String, diffID: String) {
        let dir = scratch + "/layer-\(UUID().uuidString.prefix(8))"
        for (file, content) in layer.files {
            let full = dir + "/" + file
            try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try content.write(to: URL(fileURLWithPath: full))
        }
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let tar = dir + ".tar"
        try TestProcess.run(["/bin/tar", "--sort=name", "--owner=0", "--group=0", "--numeric-owner", "--mtime=@0",
                             "-C", dir, "-cf", tar, "."])
        let uncompressed = try Data(contentsOf: URL(fileURLWithPath: tar))
        let compressed: String
        switch layer.compression {
        case .gzip:
            try TestProcess.run(["/bin/gzip", "-n", "-k", "-f", tar])
            compressed = tar + ".gz"
        case .zstd:
            try TestProcess.run(["/usr/bin/zstd", "-q", "-f", tar, "-o", tar + ".zst"])
            compressed = tar + ".zst"
        }
        let (digest, size) = try blob(try Data(contentsOf: URL(fileURLWithPath: compressed)))
        let mediaType = layer.compression == .gzip ? "application/vnd.oci.image.layer.v1.tar+gzip" : "application/vnd.oci.image.layer.v1.tar+zstd"
        return (digest, size, mediaType, Digest.of(Array(uncompressed)).description)
    }

    /// An image manifest for `architecture` with `layers` (plus the busybox layer of the test
    /// fixtures first, when `busyboxLayout` is given, so the image can run). Returns the
    /// manifest's digest and size.
    public func manifest(layers: [Layer], architecture: String = "amd64", cmd: [String] = ["sh"], busyboxLayout: String? = nil,
                  scratch: String) throws -> (digest: String, size: Int) {
        var descriptors: [[String: Any]] = []
        var diffIDs: [String] = []
        if let busyboxLayout {
            let index = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: busyboxLayout + "/index.json"))) as? [String: Any]
            let entry = (index?["manifests"] as? [[String: Any]])?.first
            let manifestDigest = (entry?["digest"] as? String ?? "").replacingOccurrences(of: "sha256:", with: "")
            let manifest = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: busyboxLayout + "/blobs/sha256/" + manifestDigest))) as? [String: Any]
            let config = manifest?["config"] as? [String: Any]
            let configDigest = (config?["digest"] as? String ?? "").replacingOccurrences(of: "sha256:", with: "")
            let configJSON = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: busyboxLayout + "/blobs/sha256/" + configDigest))) as? [String: Any]
            for layer in manifest?["layers"] as? [[String: Any]] ?? [] {
                let hex = (layer["digest"] as? String ?? "").replacingOccurrences(of: "sha256:", with: "")
                try blob(try Data(contentsOf: URL(fileURLWithPath: busyboxLayout + "/blobs/sha256/" + hex)))
                descriptors.append(layer)
            }
            diffIDs += ((configJSON?["rootfs"] as? [String: Any])?["diff_ids"] as? [String]) ?? []
        }
        for layer in layers {
            let made = try self.layer(layer, scratch: scratch)
            descriptors.append(["mediaType": made.mediaType, "digest": made.digest, "size": made.size])
            diffIDs.append(made.diffID)
        }
        let config: [String: Any] = [
            "architecture": architecture, "os": "linux", "created": "2026-01-01T00:00:00Z",
            "config": ["Cmd": cmd, "Env": ["PATH=/bin:/usr/bin"]],
            "rootfs": ["type": "layers", "diff_ids": diffIDs],
        ]
        let configBlob = try blob(try JSONSerialization.data(withJSONObject: config, options: [.sortedKeys]))
        let manifest: [String: Any] = [
            "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": ["mediaType": "application/vnd.oci.image.config.v1+json", "digest": configBlob.digest, "size": configBlob.size],
            "layers": descriptors,
        ]
        return try blob(try JSONSerialization.data(withJSONObject: manifest, options: [.sortedKeys]))
    }

    /// Writes index.json naming `entries` (manifest digest, size, architecture); with more than
    /// one entry they are gathered in a nested image index, as a multi-platform image is.
    /// Returns the digest of the top-level manifest or index skopeo will push.
    @discardableResult
    public func index(_ entries: [(digest: String, size: Int, architecture: String)], tag: String = "latest") throws -> String {
        let descriptors: [[String: Any]] = entries.map {
            ["mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": $0.digest, "size": $0.size,
             "platform": ["os": "linux", "architecture": $0.architecture]]
        }
        var top: [String: Any]
        var topDigest: String
        if descriptors.count == 1 {
            top = descriptors[0]
            topDigest = entries[0].digest
        } else {
            let nested: [String: Any] = ["schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": descriptors]
            let made = try blob(try JSONSerialization.data(withJSONObject: nested, options: [.sortedKeys]))
            top = ["mediaType": "application/vnd.oci.image.index.v1+json", "digest": made.digest, "size": made.size]
            topDigest = made.digest
        }
        top["annotations"] = ["org.opencontainers.image.ref.name": tag]
        let index: [String: Any] = ["schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": [top]]
        try JSONSerialization.data(withJSONObject: index, options: [.sortedKeys]).write(to: URL(fileURLWithPath: path + "/index.json"))
        return topDigest
    }

    /// Random, incompressible bytes (each layer its own content).
    public static func random(_ count: Int) -> Data {
        var generator = SystemRandomNumberGenerator()
        var data = Data(count: count)
        data.withUnsafeMutableBytes { raw in
            let words = raw.bindMemory(to: UInt64.self)
            for i in words.indices { words[i] = generator.next() }
        }
        return data
    }
}
