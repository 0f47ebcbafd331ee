import Foundation
import KubeAPI
import Runtime

/// The pod's ConfigMaps and Secrets: volumes set up only once their objects exist (FailedMount
/// otherwise, containers stay ContainerCreating, retried), env checked before each container
/// start (CreateContainerConfigError with kubelet's message, retried), and the volumes
/// rewritten every sync period when their objects changed, and at once when the pod's labels or
/// annotations change (downward API; not for subPath mounts, which bind the file as it was, as
/// in Kubernetes).
extension PodWorker {
    var configSource: PodConfigSource {
        PodConfigSource(api: pod.isAPIPod ? images.api : nil, namespace: pod.metadata.namespace ?? "default")
    }

    /// Every ConfigMap and Secret the pod refers to (volumes and all containers' env).
    var allReferences: PodConfigReferences {
        var references = PodConfigReferences.volumes(of: pod)
        for container in pod.spec.containers + (pod.spec.initContainers ?? []) {
            let env = PodConfigReferences.environment(of: container)
            references.configMaps.formUnion(env.configMaps)
            references.secrets.formUnion(env.secrets)
        }
        return references
    }

    var apiVolumes: [Volume] { (pod.spec.volumes ?? []).filter(PodConfigReferences.isAPIVolume) }

    /// Files the objects read for `references` into `configObjects` (a name not found is
    /// removed), and hands them to the sandbox for env and exec probes.
    func remember(_ objects: PodConfigObjects, for references: PodConfigReferences) {
        configObjects.fromAPIServer = objects.fromAPIServer
        for name in references.configMaps { configObjects.configMaps[name] = objects.configMaps[name] }
        for name in references.secrets { configObjects.secrets[name] = objects.secrets[name] }
        sandbox?.configObjects = configObjects
    }

    /// Whether the pod's API volumes can be written now: every non-optional object and key
    /// exists. Otherwise a FailedMount event, and a new look after `configRetry`.
    func volumesReady() async -> Bool {
        guard await claimsReady() else { return false }
        let volumes = apiVolumes
        guard !volumes.isEmpty else { return true }
        let references = PodConfigReferences.volumes(of: pod)
        // The objects and the service account tokens are independent requests: both go at once,
        // one round trip to the API server before the sandbox instead of two. (Each result is
        // stored on the actor as it comes: the objects and the tokens are different fields.)
        async let tokenFailure = tokenRefreshFailure()
        do {
            remember(try await configSource.read(references, known: configObjects), for: references)
        } catch {
            _ = await tokenFailure
            failedMount(volumes[0].name, "\(error)")
            return false
        }
        do {
            if let failure = await tokenFailure { throw failure }
        } catch let failure as TokenFailure {
            failedMount(failure.volume, "failed to fetch token: \(failure.error)")
            return false
        } catch {
            failedMount(volumes[0].name, "failed to fetch token: \(error)")
            return false
        }
        // The payloads themselves (item paths) are checked once, as createSandbox writes them.
        lastMountFailure = nil
        return true
    }

    /// kubelet's `FailedMount` warning; the containers stay waiting in ContainerCreating.
    func failedMount(_ volume: String, _ message: String) {
        reportMountFailure("MountVolume.SetUp failed for volume \"\(volume)\" : \(message)")
    }

    /// A `FailedMount` event with `text` (once while it stays the same), and a new look after
    /// `configRetry`.
    func reportMountFailure(_ text: String) {
        if text != lastMountFailure {
            lastMountFailure = text
            record("Warning", "FailedMount", text)
        }
        scheduleWake(appOrder.first ?? "", at: Date().addingTimeInterval(settings.configRetry.seconds))
    }

    /// Checks a container's env references before its start. Returns kubelet's message when an
    /// object or key is missing (the container then waits in CreateContainerConfigError).
    func environmentProblem(_ name: String) async -> String? {
        guard let container = slots[name]?.spec else { return nil }
        let references = PodConfigReferences.environment(of: container)
        guard !references.isEmpty else { return nil }
        do {
            remember(try await configSource.read(references, known: configObjects), for: references)
            let invalid = try EnvironmentBuilder.checkReferences(pod: pod, container: container, objects: configObjects)
            for (source, keys) in invalid {
                // kubelet's makeEnvironmentVariables warning, one per envFrom source.
                record("Warning", "InvalidEnvironmentVariableNames",
                       "Keys [\(keys.joined(separator: ", "))] from the EnvFrom \(source) were skipped since they are considered invalid environment variable names.",
                       container: name)
            }
            return nil
        } catch {
            return "\(error)"
        }
    }

    /// A container whose env cannot be built yet: waiting, kubelet's `Failed` event
    /// ("Error: ..."), and another try after `configRetry`.
    func containerConfigFailed(_ name: String, _ message: String) {
        guard var slot = slots[name] else { return }
        if slot.waitingMessage != message || slot.waitingReason != "CreateContainerConfigError" {
            record("Warning", "Failed", "Error: \(message)", container: name)
        }
        slot.waitingReason = "CreateContainerConfigError"
        slot.waitingMessage = message
        slots[name] = slot
        scheduleWake(name, at: Date().addingTimeInterval(settings.configRetry.seconds))
    }

    /// Reads the pod's objects again and rewrites the volumes whose content changed (kubelet's
    /// periodic sync, every `configSyncPeriod`).
    func refreshConfig() async {
        guard let sandbox, !terminating, pod.isAPIPod else { return }
        await resolveAdoptedClaims()
        let references = allReferences
        guard !references.isEmpty || !apiVolumes.isEmpty else { return }
        do {
            remember(try await configSource.read(references, known: configObjects), for: references)
        } catch {
            logger.warning("ConfigMaps and Secrets not read again", metadata: ["pod": "\(podDescription)", "error": "\(error)"])
            return
        }
        do {
            try await refreshTokens()
        } catch {
            // The old token stays in place until it can be replaced (kubelet keeps it too).
            logger.warning("service account token not refreshed", metadata: ["pod": "\(podDescription)", "error": "\(error)"])
        }
        rewriteVolumes()
    }

    /// The pod as its volumes see it now: the spec it started with, the labels and annotations
    /// the API shows.
    var currentPod: Pod {
        var current = pod
        let metadata = observedMetadata.withLock { $0 }
        current.metadata.labels = metadata.labels
        current.metadata.annotations = metadata.annotations
        return current
    }

    /// Takes the labels and annotations of the pod as the API shows it now; when they changed,
    /// its downward API volumes are written again (kubelet syncs a pod on every update, and its
    /// downwardAPI volume plugin rewrites the files on each sync). Never blocks.
    /// Ephemeral containers added since (`kubectl debug`) are started.
    nonisolated func observe(_ latest: Pod) {
        let metadata = PodLabelsAndAnnotations(latest)
        let changed = observedMetadata.withLock { current -> Bool in
            guard current != metadata else { return false }
            current = metadata
            return true
        }
        if changed { send(.metadataChanged) }
        let ephemeral = latest.spec.ephemeralContainers ?? []
        let added = observedEphemeralCount.withLock { seen -> Bool in
            guard ephemeral.count > seen else { return false }
            seen = ephemeral.count
            return true
        }
        if added { send(.ephemeralContainersAdded(ephemeral)) }
    }

    /// Writes the pod's API volumes again from `configObjects` and the current labels and
    /// annotations; only files whose content changed are replaced (the atomic writer's `..data`
    /// swap), and a volume that cannot be written keeps what it had, with a FailedMount Event.
    func rewriteVolumes() {
        guard let sandbox, !terminating, pod.isAPIPod, !apiVolumes.isEmpty else { return }
        let result = runtime.updateVolumes(sandbox, pod: currentPod, objects: configObjects)
        if !result.changed.isEmpty {
            logger.info("volumes updated", metadata: ["pod": "\(podDescription)", "volumes": "\(result.changed.joined(separator: ","))"])
        }
        for error in result.errors {
            record("Warning", "FailedMount", "\(error)")
        }
    }

    /// `refreshTokens`, its error as a value (for `async let`).
    private func tokenRefreshFailure() async -> Error? {
        do {
            try await refreshTokens()
            return nil
        } catch {
            return error
        }
    }

    /// Requests the pod's service account tokens that are missing or due (TokenRequest bound to
    /// the pod by uid), into `configObjects`.
    func refreshTokens() async throws {
        let sources = ServiceAccountTokenSource.all(in: pod)
        guard !sources.isEmpty, pod.isAPIPod, let api = images.api else { return }
        let account = (pod.spec.serviceAccountName ?? "").isEmpty ? "default" : pod.spec.serviceAccountName ?? "default"
        for source in tokens.due(sources, now: Date()) {
            let issued = Date()
            do {
                let answer = try await api.requestServiceAccountToken(
                    namespace: pod.metadata.namespace ?? "default", serviceAccount: account, audiences: source.audiences,
                    expirationSeconds: source.expirationSeconds, podName: pod.metadata.name ?? "", podUID: pod.metadata.uid ?? "")
                tokens.store(ServiceAccountTokens.Entry(token: answer.token, issued: issued, expiration: answer.expiration), for: source.key)
                configObjects.serviceAccountTokens[source.key] = answer.token
            } catch {
                throw TokenFailure(volume: String(source.key.split(separator: "/").first ?? ""), error: error)
            }
        }
        sandbox?.configObjects = configObjects
    }

    /// Sends `.refreshConfig` every sync period while the worker lives.
    func startConfigRefresh() {
        guard configRefreshTask == nil, pod.isAPIPod, !allReferences.isEmpty || !apiVolumes.isEmpty else { return }
        let period = settings.configSyncPeriod
        configRefreshTask = Task { [weak self] in
            while !Task.isCancelled {
                try? await Task.sleep(for: period)
                guard let self, !Task.isCancelled else { return }
                self.send(.refreshConfig)
            }
        }
    }
}

/// A TokenRequest that failed, and for which volume.
struct TokenFailure: Error, CustomStringConvertible {
    let volume: String
    let error: any Error
    var description: String { "\(error)" }
}

/// What of a pod's metadata can change while it runs and its downward API volumes show.
struct PodLabelsAndAnnotations: Equatable, Sendable {
    var labels: [String: String]?
    var annotations: [String: String]?

    init(_ pod: Pod) {
        labels = pod.metadata.labels
        annotations = pod.metadata.annotations
    }
}
