import Foundation
import KubeAPI

/// The image configuration blob: platform, runtime defaults and the layer diff IDs.
/// Docker's config is a superset with the same field names, so one decoder serves both.
/// See https://github.com/opencontainers/image-spec/blob/main/config.md
package struct OCIImageConfigFile: Decodable, Sendable {
    package var architecture: String?
    package var os: String?
    package var created: String?
    package var config: RuntimeConfig?
    package var rootfs: RootFS

    package struct RootFS: Decodable, Sendable {
        package var type: String
        package var diffIDs: [Digest]

        enum CodingKeys: String, CodingKey {
            case type
            case diffIDs = "diff_ids"
        }
    }

    /// The `config` object, with the capitalized keys both OCI and Docker use.
    package struct RuntimeConfig: Decodable, Sendable {
        package var user: String?
        package var env: [String]?
        package var entrypoint: [String]?
        package var cmd: [String]?
        package var workingDir: String?
        package var exposedPorts: [String: IgnoredValue]?
        package var labels: [String: String]?
        package var stopSignal: String?

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
    package struct IgnoredValue: Decodable, Sendable {
        package init(from decoder: any Decoder) throws {}
    }

    /// The runtime defaults in the store's public form. Empty strings mean "unset" in
    /// Docker-built configs (`"User": ""`, `"WorkingDir": ""`), so they become nil.
    package var imageConfig: ImageConfig {
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
    package var createdDate: Date? {
        created.flatMap { Time(rfc3339: $0)?.date }
    }
}
