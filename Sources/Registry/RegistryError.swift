/// Why a pull failed, worded as containerd words it (the text kubelet shows in a container's
/// `ErrImagePull` message and the `Failed` event), with the category callers act on.
///
/// containerd's texts (remotes/docker/resolver.go, fetcher.go, pull.go):
/// `failed to resolve reference "REF": REF: not found`,
/// `… pull access denied, repository does not exist or may require authorization: …`,
/// `… failed to do request: Head "URL": dial tcp HOST: connect: connection refused`.
public struct RegistryError: Error, CustomStringConvertible, Sendable, Equatable {
    /// What kind of failure this is.
    public enum Kind: Sendable, Equatable {
        /// The registry has no such repository, tag or digest (404, MANIFEST_UNKNOWN).
        case notFound
        /// Credentials missing or refused (401, 403, or a token the auth server refused).
        case unauthorized
        /// The registry could not be reached: refused, timed out, name not resolved, TLS failure.
        case unavailable
        /// Content that does not match its digest or size, or an invalid manifest.
        case invalidContent
        /// Something the registry answered that swiftlet cannot use (schema 1, unknown media type,
        /// no manifest for this platform).
        case unsupported
        /// Bad configuration or input on our side (the registry file, a reference).
        case invalidInput
        /// Anything else the server answered (5xx, 429...).
        case server
    }

    public var kind: Kind
    /// The message, without the reference prefix `describe(reference:)` adds.
    public var message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }

    /// The same error with `context: ` before its message (containerd's `fmt.Errorf("…: %w")`).
    func wrapped(_ context: String) -> RegistryError {
        RegistryError(kind, context + ": " + message)
    }
}
