import Foundation
import Images
import KubeAPI
import Logging
import Runtime

/// kubelet's image manager (pkg/kubelet/images/image_manager.go, EnsureImageExists): before a
/// container starts, make sure its image is in the store, by its pull policy, with a back-off
/// per pod and image after failures, one pull at a time unless configured otherwise, and the
/// Events kubelet records (`Pulling`, `Pulled`, `Failed`, `BackOff`, `ErrImageNeverPull`).
///
/// The outcome carries the container's waiting reason and message as kubelet sets them:
/// `ErrImagePull` with the runtime's error, `ImagePullBackOff` with `Back-off pulling image "x"`,
/// `ErrImageNeverPull`, `InvalidImageName`.
public actor ImageManager {
    /// What `ensureImageExists` found.
    public enum Outcome: Sendable {
        /// The image is in the store.
        case ready(Image)
        /// The container cannot start: its waiting reason and message; `retryAt` is when a new
        /// attempt can succeed (the end of the back-off), nil when only a change can help.
        case failed(reason: String, message: String, retryAt: Date?)
    }

    let store: ImageStore
    let puller: (any ImagePuller)?
    let events: PodEventRecorder
    let logger: Logger
    private var backoff: PullBackoff
    private let limiter: PullLimiter

    public init(store: ImageStore, puller: (any ImagePuller)?, settings: ImageSettings, backoffInitial: Duration,
                backoffMax: Duration, events: PodEventRecorder, logger: Logger) {
        self.store = store
        self.puller = puller
        self.events = events
        self.logger = logger
        backoff = PullBackoff(initial: backoffInitial, max: backoffMax)
        limiter = PullLimiter(permits: settings.serializeImagePulls ? 1 : settings.maxParallelImagePulls)
    }

    /// kubelet's pull policy when the pod does not give one (the API server's defaulting):
    /// `Always` for `:latest` or no tag, `IfNotPresent` otherwise (a digest counts as a tag).
    public static func defaultPullPolicy(_ image: String) -> String {
        guard let reference = try? ImageReference(parsing: image) else { return "IfNotPresent" }
        if reference.digest != nil { return "IfNotPresent" }
        return (reference.tag ?? "latest") == "latest" ? "Always" : "IfNotPresent"
    }

    /// Makes sure `container`'s image is present (EnsureImageExists). `pullSecrets` is read only
    /// when a pull happens.
    public func ensureImageExists(pod: Pod, container: Container, fieldPath: String,
                                  pullSecrets: @Sendable () async -> [PullSecret]) async -> Outcome {
        let imageName = container.image ?? ""
        func event(_ type: String, _ reason: String, _ message: String) {
            events.record(PodEventRecord(namespace: pod.metadata.namespace ?? "default", podName: pod.metadata.name ?? "",
                                         podUID: pod.metadata.uid ?? "", fieldPath: fieldPath, type: type,
                                         reason: reason, message: message))
        }
        func failed(_ reason: String, _ message: String, retryAt: Date?) -> Outcome {
            // kuberuntime's startContainer records the failure once more as "Error: <reason>".
            event("Warning", "Failed", "Error: \(reason)")
            return .failed(reason: reason, message: message, retryAt: retryAt)
        }
        guard (try? ImageReference(parsing: imageName)) != nil else {
            let message = "Failed to apply default image tag \"\(imageName)\": couldn't parse image reference \"\(imageName)\": invalid reference format"
            event("Warning", "InspectFailed", message)
            return failed("InvalidImageName", message, retryAt: nil)
        }
        let present: Image?
        let store = self.store
        let lookup: Result<Image?, any Error> = await BlockingCall.run {
            Result {
                do {
                    return try store.resolve(imageName)
                } catch ImageError.notFound {
                    return nil
                }
            }
        }
        switch lookup {
        case .success(let image):
            present = image
        case .failure(let error):
            let message = "Failed to inspect image \"\(imageName)\": \(error)"
            event("Warning", "InspectFailed", message)
            return failed("ImageInspectError", message, retryAt: nil)
        }

        let policy = container.imagePullPolicy.flatMap { $0.isEmpty ? nil : $0 } ?? Self.defaultPullPolicy(imageName)
        // An image imported with `swiftlet images import` (it has no repo digest: it never came
        // from a registry) is used as it is, even under Always: that is how images reach
        // air-gapped nodes, and a registry that cannot be reached must not make them useless.
        // Pulled images follow the policy exactly as kubelet applies it.
        let imported = present.map { $0.repoDigests.isEmpty } ?? false
        let shouldPull = (policy == "Always" && !imported) || (policy == "IfNotPresent" && present == nil)
        if !shouldPull {
            if let present {
                event("Normal", "Pulled", "Container image \"\(imageName)\" already present on machine")
                return .ready(present)
            }
            let message = "Container image \"\(imageName)\" is not present with pull policy of Never"
            event("Warning", "ErrImageNeverPull", message)
            return failed("ErrImageNeverPull", message, retryAt: nil)
        }

        let key = "\(pod.metadata.uid ?? "")_\(imageName)"
        let now = Date()
        if let until = backoff.inBackOff(key, now: now) {
            let message = "Back-off pulling image \"\(imageName)\""
            event("Normal", "BackOff", message)
            return failed("ImagePullBackOff", message, retryAt: until)
        }
        guard let puller else {
            // An agent without a registry client (none is configured in tests) can only use
            // what was imported.
            let message = "failed to pull image \"\(imageName)\": this agent has no registry client; import the image with: swiftlet images import PATH"
            backoff.next(key, now: now)
            event("Warning", "Failed", "Failed to pull image \"\(imageName)\": \(message)")
            return failed("ErrImagePull", message, retryAt: backoff.inBackOff(key, now: now))
        }

        event("Normal", "Pulling", "Pulling image \"\(imageName)\"")
        let secrets = await pullSecrets()
        let waitStart = Date()
        let result: Result<ImagePullResult, any Error>
        do {
            try await limiter.acquire()
        } catch {
            return .failed(reason: "ErrImagePull", message: "image pull cancelled", retryAt: Date())
        }
        let pullStart = Date()
        do {
            result = .success(try await puller.pull(imageName, pullSecrets: secrets))
        } catch {
            result = .failure(error)
        }
        await limiter.release()
        switch result {
        case .success(let pulled):
            let done = Date()
            backoff.gc(now: done)
            event("Normal", "Pulled", "Successfully pulled image \"\(imageName)\" in \(Self.goDuration(done.timeIntervalSince(pullStart))) "
                  + "(\(Self.goDuration(done.timeIntervalSince(waitStart))) including waiting). Image size: \(pulled.image.size) bytes.")
            return .ready(pulled.image)
        case .failure(let error):
            if error is CancellationError {
                return .failed(reason: "ErrImagePull", message: "image pull cancelled", retryAt: Date())
            }
            let failedAt = Date()
            event("Warning", "Failed", "Failed to pull image \"\(imageName)\": \(error)")
            backoff.next(key, now: failedAt)
            let retryAt = backoff.inBackOff(key, now: failedAt)
            if let pullError = error as? ImagePullError, pullError.registryUnavailable {
                return failed("RegistryUnavailable", "image pull failed for \(imageName) because the registry is unavailable: \(pullError.message)", retryAt: retryAt)
            }
            return failed("ErrImagePull", "\(error)", retryAt: retryAt)
        }
    }

    /// Go's `time.Duration` text truncated to milliseconds, as in kubelet's Pulled event:
    /// `523ms`, `1.234s`, `2m3.5s`.
    static func goDuration(_ seconds: TimeInterval) -> String {
        let ms = Int((seconds * 1000).rounded(.down))
        if ms < 1000 { return "\(ms)ms" }
        func secondsText(_ ms: Int) -> String {
            var text = "\(ms / 1000)"
            let fraction = ms % 1000
            if fraction != 0 {
                var digits = String(format: "%03d", fraction)
                while digits.hasSuffix("0") { digits.removeLast() }
                text += "." + digits
            }
            return text + "s"
        }
        if ms < 60_000 { return secondsText(ms) }
        let minutes = ms / 60_000
        if minutes < 60 { return "\(minutes)m" + secondsText(ms % 60_000) }
        return "\(minutes / 60)h\(minutes % 60)m" + secondsText(ms % 60_000)
    }
}

/// The agent's image settings (kubelet's flags of the same names).
public struct ImageSettings: Sendable, Equatable {
    /// One pull at a time (`--serialize-image-pulls`, kubelet's default true).
    public var serializeImagePulls: Bool
    /// At most this many pulls at once when not serialized (`--max-parallel-image-pulls`); nil: no limit.
    public var maxParallelImagePulls: Int?
    /// Image garbage collection starts at this disk usage (`--image-gc-high-threshold`, 85) and
    /// frees space down to the low one (`--image-gc-low-threshold`, 80); 100 disables it.
    public var gcHighThresholdPercent: Int
    public var gcLowThresholdPercent: Int
    /// How often usage is checked (kubelet's ImageGCPeriod, 5 minutes).
    public var gcPeriod: Duration
    /// An image is not removed until it has been known this long (`--minimum-image-ttl-duration`, 2m).
    public var minimumImageAge: Duration
    /// Most images reported in the node's status (`--node-status-max-images`, 50; -1: all).
    public var nodeStatusMaxImages: Int
    /// The registry file (`--registry-config`); nil: none (every registry over HTTPS, no mirrors).
    public var registryConfigPath: String?
    /// Layers of one pull downloading at once (containerd's `max_concurrent_downloads`, 3).
    public var maxConcurrentDownloads: Int

    public init(serializeImagePulls: Bool = true, maxParallelImagePulls: Int? = nil, gcHighThresholdPercent: Int = 85,
                gcLowThresholdPercent: Int = 80, gcPeriod: Duration = .seconds(300), minimumImageAge: Duration = .seconds(120),
                nodeStatusMaxImages: Int = 50, registryConfigPath: String? = nil, maxConcurrentDownloads: Int = 3) {
        self.registryConfigPath = registryConfigPath
        self.maxConcurrentDownloads = maxConcurrentDownloads
        self.serializeImagePulls = serializeImagePulls
        self.maxParallelImagePulls = maxParallelImagePulls
        self.gcHighThresholdPercent = gcHighThresholdPercent
        self.gcLowThresholdPercent = gcLowThresholdPercent
        self.gcPeriod = gcPeriod
        self.minimumImageAge = minimumImageAge
        self.nodeStatusMaxImages = nodeStatusMaxImages
    }

    /// kubelet's validation of these flags; the message names the flag.
    public func validate() throws {
        guard (0...100).contains(gcHighThresholdPercent) else {
            throw ImageSettingsError("--image-gc-high-threshold \(gcHighThresholdPercent): must be between 0 and 100")
        }
        guard (0...100).contains(gcLowThresholdPercent) else {
            throw ImageSettingsError("--image-gc-low-threshold \(gcLowThresholdPercent): must be between 0 and 100")
        }
        guard gcLowThresholdPercent <= gcHighThresholdPercent else {
            throw ImageSettingsError("--image-gc-low-threshold \(gcLowThresholdPercent) must not be above --image-gc-high-threshold \(gcHighThresholdPercent)")
        }
        guard maxConcurrentDownloads >= 1 else {
            throw ImageSettingsError("--max-concurrent-downloads \(maxConcurrentDownloads): must be at least 1")
        }
        if let max = maxParallelImagePulls {
            guard max >= 1 else { throw ImageSettingsError("--max-parallel-image-pulls \(max): must be at least 1") }
            guard !serializeImagePulls || max == 1 else {
                throw ImageSettingsError("--max-parallel-image-pulls \(max) needs --serialize-image-pulls=false (kubelet refuses it with serialized pulls)")
            }
        }
    }
}

/// A flag value the agent refuses; the message names the flag.
public struct ImageSettingsError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
