import Foundation
import KubeAPI

/// The image configuration blob: platform, runtime defaults and the layer diff IDs.
/// Docker's config is a superset with the same field names, so one decoder serves both.
/// See https://github.com/opencontainers/image-spec/blob/main/config.md
struct OCIImageConfigFile: Decodable, Sendable {
    var architecture: String?
    var os: String?
    var created: String?
    var config: RuntimeConfig?
    var rootfs: RootFS

    struct RootFS: Decodable, Sendable {
        var type: String
        var diffIDs: [Digest]

        enum CodingKeys: String, CodingKey {
            case type
            case diffIDs = "diff_ids"
        }
    }

    /// The `config` object, with the capitalized keys both OCI and Docker use.
    struct RuntimeConfig: Decodable, Sendable {
        var user: String?
        var env: [String]?
        var entrypoint: [String]?
        var cmd: [String]?
        var workingDir: String?
        var exposedPorts: [String: IgnoredValue]?
        var labels: [String: String]?
        var stopSignal: String?

        enum CodingKeys: String, CodingKey {
            case user = "User"
            case env = "Env"
            case entrypoint = "Entrypoint"
            case cmd = "Cmd"
            case workingDir = "WorkingDir"
            case exposedPorts = "ExposedPorts"
            case labels = "Labels"
            case stopSignal = "StopSignal"
        }
    }

    /// The `{}` values of `ExposedPorts`; their content carries nothing.
    struct IgnoredValue: Decodable, Sendable {
        init(from decoder: any Decoder) throws {}
    }

    /// The runtime defaults in the store's public form. Empty strings mean "unset" in
    /// Docker-built configs (`"User": ""`, `"WorkingDir": ""`), so they become nil.
    var imageConfig: ImageConfig {
        guard let c = config else { return ImageConfig() }
        return ImageConfig(
            user: c.user.flatMap { $0.isEmpty ? nil : $0 },
            env: c.env,
            entrypoint: c.entrypoint,
            cmd: c.cmd,
            workingDir: c.workingDir.flatMap { $0.isEmpty ? nil : $0 },
            exposedPorts: c.exposedPorts.map { $0.keys.sorted() },
            labels: c.labels,
            stopSignal: c.stopSignal.flatMap { $0.isEmpty ? nil : $0 })
    }

    /// `created` as a date (RFC 3339, with or without fractional seconds), to whole seconds.
    /// Parsed by KubeAPI's RFC 3339 reader rather than ISO8601DateFormatter, which loads ICU
    /// (milliseconds on every container start, since resolving an image builds this).
    var createdDate: Date? {
        created.flatMap { Time(rfc3339: $0)?.date }
    }
}
