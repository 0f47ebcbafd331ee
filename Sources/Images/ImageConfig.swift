/// The runtime defaults an image carries (the `config` object of an OCI image configuration),
/// which the runtime merges with the container spec: `command` overrides `entrypoint`, `args`
/// override `cmd`, env entries are appended, and so on.
/// See https://github.com/opencontainers/image-spec/blob/main/config.md#properties
public struct ImageConfig: Sendable, Equatable, Codable {
    /// `user`, `uid`, `user:group` or `uid:gid`.
    public var user: String?
    /// `NAME=value` entries.
    public var env: [String]?
    /// The executable and leading arguments; replaced by a container's `command`.
    public var entrypoint: [String]?
    /// Default arguments; replaced by a container's `args`.
    public var cmd: [String]?
    /// The process's working directory (absolute); nil means `/`.
    public var workingDir: String?
    /// `port/proto` entries such as `80/tcp`, sorted.
    public var exposedPorts: [String]?
    /// Image labels (`org.opencontainers.image.*` and others).
    public var labels: [String: String]?
    /// A signal name (`SIGTERM`) or number, sent to stop the container.
    public var stopSignal: String?

    /// A config with the given fields; everything defaults to unset.
    public init(
        user: String? = nil, env: [String]? = nil, entrypoint: [String]? = nil, cmd: [String]? = nil,
        workingDir: String? = nil, exposedPorts: [String]? = nil, labels: [String: String]? = nil,
        stopSignal: String? = nil
    ) {
        self.user = user
        self.env = env
        self.entrypoint = entrypoint
        self.cmd = cmd
        self.workingDir = workingDir
        self.exposedPorts = exposedPorts
        self.labels = labels
        self.stopSignal = stopSignal
    }
}
