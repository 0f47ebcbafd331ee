import Foundation
import Images
import Logging

/// Pulls images from registries into the local store: what containerd's pull does for kubelet
/// (client.Pull with unpack), without a daemon.
///
/// 1. Resolve the reference on the registry's endpoints in order (mirrors from the registry
///    file, then the registry itself): `GET /v2/<repo>/manifests/<tag|digest>`.
/// 2. An index or manifest list: pick this node's platform, fetch that manifest by digest.
/// 3. Fetch the config, check its platform and diff IDs.
/// 4. Download the layers in parallel (at most `maxConcurrentDownloads` of one pull at once),
///    each streamed to disk and verified, resumed if the connection drops; unpack each into the
///    layer store as soon as it is in, on a thread of its own, while the others still download.
///    A layer the store has is neither downloaded nor unpacked again, and a layer another pull
///    is downloading at the moment is waited for, not downloaded twice.
/// 5. Name the image: the tag, and `name@<digest the tag resolved to>`.
///
/// Failures read as containerd's (`failed to pull and unpack image "REF": failed to resolve
/// reference "REF": REF: not found`); nothing unverified is ever stored.
public final class RegistryPuller: Sendable {
    public let store: ImageStore
    public let config: RegistryConfig
    public let maxConcurrentDownloads: Int
    let transport: RegistryTransport
    let authorizer: RegistryAuthorizer
    let downloads = SharedWork<Digest>()
    let unpacks = SharedWork<Digest>()
    let platform: HostPlatform
    let logger: Logger

    /// - Parameters:
    ///   - maxConcurrentDownloads: layers of one pull downloading at once (containerd's
    ///     `max_concurrent_downloads`, 3 by default).
    ///   - readTimeout: a response that stalls this long fails (and a blob resumes).
    public init(store: ImageStore, config: RegistryConfig = .empty, maxConcurrentDownloads: Int = 3,
                readTimeout: Duration = .seconds(30), logger: Logger = Logger(label: "swiftlet.registry")) {
        self.store = store
        self.config = config
        self.maxConcurrentDownloads = max(1, maxConcurrentDownloads)
        transport = RegistryTransport(readTimeout: readTimeout)
        authorizer = RegistryAuthorizer(transport: transport)
        platform = HostPlatform.current
        self.logger = logger
    }

    /// Closes the registry connections; no pull may follow.
    public func shutdown() async {
        await transport.shutdown()
    }

    /// Pulls `reference` (`nginx`, `registry.example.com:5000/team/app:v1`, `app@sha256:…`) the
    /// way kubelet does with a pod's pull secrets: with each credential the keyring has for the
    /// image in turn until one works, or with the registry file's credentials when it has none.
    public func pull(_ reference: String, keyring: DockerKeyring = DockerKeyring(),
                     progress: (@Sendable (PullProgress) -> Void)? = nil) async throws -> PulledImage {
        let parsed: ImageReference
        do {
            parsed = try ImageReference(parsing: reference)
        } catch {
            throw RegistryError(.invalidInput, "failed to pull and unpack image \"\(reference)\": \(error)")
        }
        let candidates = keyring.lookup(parsed)
        if candidates.isEmpty {
            return try await pull(parsed, credential: nil, progress: progress)
        }
        var errors: [RegistryError] = []
        for credential in candidates {
            do {
                return try await pull(parsed, credential: credential, progress: progress)
            } catch let error as RegistryError {
                // kubelet tries the next credential whatever the failure, and reports them all.
                errors.append(error)
            }
        }
        if errors.count == 1 { throw errors[0] }
        let kind = errors.allSatisfy { $0.kind == errors[0].kind } ? errors[0].kind : .unauthorized
        throw RegistryError(kind, "[" + errors.map(\.message).joined(separator: ", ") + "]")
    }

    /// Pulls with `credential` (from a pull secret) on every endpoint, or with each endpoint's
    /// credentials from the registry file when nil (containerd's CRI plugin does the same).
    public func pull(_ reference: ImageReference, credential: RegistryCredential?,
                     progress: (@Sendable (PullProgress) -> Void)? = nil) async throws -> PulledImage {
        let name = reference.normalized
        // Store calls (files, flocks, fsyncs) run on threads of their own throughout: under a
        // busy disk an fsync takes long enough to starve Swift's cooperative pool.
        let store = self.store
        let transaction = try await OwnThread.run { try store.beginPull() }
        do {
            let result = try await pull(reference, credential: credential, transaction: transaction, progress: progress)
            return result
        } catch let error as RegistryError {
            try? await OwnThread.run { transaction.cancel() }
            throw error.wrapped("failed to pull and unpack image \"\(name)\"")
        } catch let error as ImageError {
            try? await OwnThread.run { transaction.cancel() }
            throw RegistryError(.invalidContent, "failed to pull and unpack image \"\(name)\": \(error)")
        } catch {
            try? await OwnThread.run { transaction.cancel() }
            throw error
        }
    }

    private func pull(_ reference: ImageReference, credential: RegistryCredential?, transaction: ImagePullTransaction,
                      progress: (@Sendable (PullProgress) -> Void)?) async throws -> PulledImage {
        let (repository, top) = try await resolve(reference, credential: credential)
        try await OwnThread.run { try transaction.store(blob: top.bytes, digest: top.digest, what: "manifest \(top.digest)") }
        var document = try ManifestDocument.parse(top.bytes, mediaType: top.mediaType, source: "\(reference.normalized)")
        var manifestDigest = top.digest
        var depth = 0
        while case .index(let entries) = document {
            depth += 1
            guard depth <= 4 else {
                throw RegistryError(.invalidContent, "\(reference.normalized): image indexes nested deeper than 4 levels")
            }
            let entry = try ManifestDocument.select(entries, for: platform, source: manifestDigest.description)
            let child = try await manifest(entry.digest, repository: repository, transaction: transaction)
            guard Int64(child.bytes.count) == entry.size else {
                throw RegistryError(.invalidContent, "manifest \(entry.digest) has \(child.bytes.count) bytes but the index says \(entry.size)")
            }
            document = try ManifestDocument.parse(child.bytes, mediaType: child.mediaType.isEmpty ? entry.mediaType : child.mediaType,
                                                  source: entry.digest.description)
            manifestDigest = entry.digest
        }
        guard case .image(let manifest) = document else { throw RegistryError(.invalidContent, "no image manifest") }

        let config = try await configFile(manifest.config, repository: repository, transaction: transaction)
        guard (config.os ?? platform.os) == platform.os, (config.architecture ?? platform.architecture) == platform.architecture else {
            throw RegistryError(.unsupported, "image \(reference.normalized) is for \(config.os ?? "?")/\(config.architecture ?? "?"), this node is \(platform.description)")
        }
        guard config.rootfs.diffIDs.count == manifest.layers.count else {
            throw RegistryError(.invalidContent, "manifest \(manifestDigest) has \(manifest.layers.count) layers but its config lists \(config.rootfs.diffIDs.count) diff_ids")
        }
        progress?(.resolved(endpoint: repository.endpoint.description, digest: top.digest,
                            layers: manifest.layers.map { ($0.digest, $0.size) }))

        let downloaded = try await fetchLayers(manifest.layers, diffIDs: config.rootfs.diffIDs, repository: repository,
                                               transaction: transaction, progress: progress)

        let repoDigest = reference.name + "@" + top.digest.description
        var names = [repoDigest]
        if reference.digest == nil { names.insert(reference.normalized, at: 0) }
        let (committed, committedNames) = (manifestDigest, names)
        let image = try await OwnThread.run { try transaction.commit(manifest: committed, names: committedNames) }
        logger.info("pulled image", metadata: [
            "image": "\(reference.normalized)", "digest": "\(top.digest)", "endpoint": "\(repository.endpoint)",
            "downloaded": "\(downloaded)",
        ])
        return PulledImage(image: image, repoDigest: repoDigest, downloadedBytes: downloaded,
                           endpoint: repository.endpoint.description)
    }

    // MARK: Resolving

    /// The first endpoint that has the reference, and its manifest (containerd's resolver: a
    /// 404 moves on to the next host, any other failure too but is remembered and reported
    /// if no host has the image).
    func resolve(_ reference: ImageReference, credential: RegistryCredential?) async throws
        -> (RegistryRepository, RegistryRepository.FetchedManifest)
    {
        let endpoints = RegistryEndpoint.endpoints(for: reference, config: config)
        var firstError: RegistryError?
        var notFound: RegistryError?
        for endpoint in endpoints {
            let repository = RegistryRepository(endpoint: endpoint, credential: credential ?? endpoint.auth,
                                                transport: transport, authorizer: authorizer)
            do {
                let fetched = try await repository.manifest(reference.digest?.description ?? reference.tag ?? "latest",
                                                            expected: reference.digest)
                return (repository, fetched)
            } catch let error as RegistryError {
                logger.info("endpoint could not resolve the image", metadata: [
                    "image": "\(reference.normalized)", "endpoint": "\(endpoint)", "error": "\(error)",
                ])
                if error.kind == .notFound {
                    notFound = notFound ?? error
                } else if firstError == nil {
                    firstError = error
                }
            }
        }
        let resolving = "failed to resolve reference \"\(reference.normalized)\""
        if let firstError { throw firstError.wrapped(resolving) }
        // containerd: "<ref>: not found", with the registry's own reason after it.
        let detail = notFound.map { $0.message.hasPrefix("not found") ? String($0.message.dropFirst(9)) : "" } ?? ""
        throw RegistryError(.notFound, "\(resolving): \(reference.normalized): not found\(detail)")
    }

    /// A manifest by digest: from the store when a previous pull brought it, else fetched.
    private func manifest(_ digest: Digest, repository: RegistryRepository, transaction: ImagePullTransaction) async throws
        -> RegistryRepository.FetchedManifest
    {
        if let bytes = try await OwnThread.run({ try transaction.storedBlob(digest, what: "manifest") }) {
            return RegistryRepository.FetchedManifest(bytes: bytes, digest: digest, mediaType: "")
        }
        let fetched = try await repository.manifest(digest.description, expected: digest)
        try await OwnThread.run { try transaction.store(blob: fetched.bytes, digest: digest, what: "manifest \(digest)") }
        return fetched
    }

    private func configFile(_ descriptor: OCIDescriptor, repository: RegistryRepository,
                            transaction: ImagePullTransaction) async throws -> OCIImageConfigFile {
        var bytes = try await OwnThread.run { try transaction.storedBlob(descriptor.digest, what: "config") }
        if bytes == nil {
            let fetched = try await repository.smallBlob(descriptor.digest, size: descriptor.size)
            try await OwnThread.run { try transaction.store(blob: fetched, digest: descriptor.digest, what: "config \(descriptor.digest)") }
            bytes = fetched
        }
        do {
            return try JSONDecoder().decode(OCIImageConfigFile.self, from: Data(bytes ?? []))
        } catch {
            throw RegistryError(.invalidContent, "config \(descriptor.digest) is not a valid image config: \(error)")
        }
    }

    // MARK: Layers

    /// Downloads and unpacks every layer; returns the bytes downloaded.
    private func fetchLayers(_ layers: [OCIDescriptor], diffIDs: [Digest], repository: RegistryRepository,
                             transaction: ImagePullTransaction, progress: (@Sendable (PullProgress) -> Void)?) async throws -> Int64 {
        // Bigger layers first: the longest downloads start at once and the small ones fill in.
        let order = layers.indices.sorted { layers[$0].size > layers[$1].size }
        return try await withThrowingTaskGroup(of: Int64.self) { group in
            var next = 0
            var total: Int64 = 0
            func startNext() {
                guard next < order.count else { return }
                let index = order[next]
                next += 1
                group.addTask {
                    try await self.fetchLayer(layers[index], diffID: diffIDs[index], repository: repository,
                                              transaction: transaction, progress: progress)
                }
            }
            for _ in 0..<maxConcurrentDownloads { startNext() }
            while let bytes = try await group.next() {
                total += bytes
                startNext()
            }
            return total
        }
    }

    /// One layer: in the store already, or downloaded (once, however many pulls want it), then
    /// unpacked (likewise). Returns the bytes this pull downloaded.
    private func fetchLayer(_ layer: OCIDescriptor, diffID: Digest, repository: RegistryRepository,
                            transaction: ImagePullTransaction, progress: (@Sendable (PullProgress) -> Void)?) async throws -> Int64 {
        var downloaded: Int64 = 0
        if try transaction.reuse(blob: layer.digest) {
            progress?(.downloaded(layer: layer.digest, cached: true))
        } else {
            let download = BlobDownload(repository: repository, digest: layer.digest, size: layer.size, transaction: transaction,
                                        progress: { progress?(.downloading(layer: layer.digest, received: $0, total: layer.size)) })
            let started = try await downloads.run(layer.digest) { try await download.run() }
            if started { downloaded = layer.size }
            // Joined another pull's download: lease the blob for this pull too. Should it be
            // gone again already (removed meanwhile), download it for this pull alone.
            if !(try transaction.reuse(blob: layer.digest)) {
                try await download.run()
                downloaded = layer.size
            }
            progress?(.downloaded(layer: layer.digest, cached: false))
        }
        progress?(.unpacking(layer: layer.digest))
        try await unpacks.run(diffID) {
            try await OwnThread.run { try transaction.unpack(layer: layer, diffID: diffID) }
        }
        // Leases the layer for this pull (a no-op unpack: the directory exists).
        try await OwnThread.run { try transaction.unpack(layer: layer, diffID: diffID) }
        progress?(.unpacked(layer: layer.digest))
        return downloaded
    }
}
