import Foundation
import Images
import KubeAPI
import Logging

/// What a pod worker needs for its containers' images: the image manager (policy, pulls,
/// back-off, Events), the API for the pod's pull secrets, and the image garbage collector to
/// tell which images are used.
struct PodImages: Sendable {
    let manager: ImageManager
    let api: (any PodAPI)?
    let gc: ImageGCManager?
    let logger: Logger

    /// The pod's `imagePullSecrets`, read from the API when a pull needs them. A secret that
    /// cannot be read is skipped with a warning, as kubelet does ("Unable to retrieve pull
    /// secret, the image pull may not succeed."): the pull then runs without it.
    func pullSecrets(of pod: Pod) async -> [PullSecret] {
        guard let references = pod.spec.imagePullSecrets, !references.isEmpty else { return [] }
        let namespace = pod.metadata.namespace ?? "default"
        guard let api else {
            logger.warning("Unable to retrieve pull secrets, the image pull may not succeed: static pods cannot use Secrets",
                           metadata: ["pod": "\(namespace)/\(pod.metadata.name ?? "")"])
            return []
        }
        var secrets: [PullSecret] = []
        for reference in references {
            guard let name = reference.name, !name.isEmpty else { continue }
            do {
                secrets.append(try await api.getPullSecret(namespace: namespace, name: name))
            } catch {
                logger.warning("Unable to retrieve pull secret, the image pull may not succeed.", metadata: [
                    "pod": "\(namespace)/\(pod.metadata.name ?? "")", "secret": "\(name)", "error": "\(error)",
                ])
            }
        }
        return secrets
    }
}

extension PodWorker {
    /// kubelet's field path of a container, for Events: `spec.containers{web}`.
    func fieldPath(_ name: String) -> String {
        initOrder.contains(name) ? "spec.initContainers{\(name)}" : "spec.containers{\(name)}"
    }

    /// Starts the image check (and pull) for a container's next start, unless one runs or the
    /// pull back-off has not ended; its outcome is filed at the next `.imagesArrived` event.
    func requestImage(_ name: String) {
        guard var slot = slots[name], slot.imageTask == nil else { return }
        if let retryAt = slot.imageRetryAt, retryAt > Date() { return }
        let pod = self.pod
        let spec = slot.spec
        let images = self.images
        let path = fieldPath(name)
        slot.imageTask = Task { [weak self] in
            let outcome = await images.manager.ensureImageExists(pod: pod, container: spec, fieldPath: path) {
                await images.pullSecrets(of: pod)
            }
            guard !Task.isCancelled, let self else { return }
            imageOutcomes.withLock { $0.append((name, outcome)) }
            send(.imagesArrived)
        }
        slots[name] = slot
    }

    /// Files an image outcome: the image for the pending start, or the waiting reason kubelet
    /// shows (ErrImagePull, then ImagePullBackOff until the back-off ends, ErrImageNeverPull...).
    func imageArrived(_ name: String, _ outcome: ImageManager.Outcome) {
        guard var slot = slots[name] else { return }
        slot.imageTask = nil
        switch outcome {
        case .ready(let image):
            slot.readyImage = image
            slot.imageRetryAt = nil
            slots[name] = slot
        case .failed(let reason, let message, let retryAt):
            slot.waitingReason = reason
            slot.waitingMessage = message
            let now = Date()
            if reason == "ImagePullBackOff" {
                slot.imageRetryAt = retryAt
                slots[name] = slot
                if let retryAt { scheduleWake(name, at: retryAt) }
            } else if reason == "ErrImagePull" || reason == "RegistryUnavailable" {
                // The pull failed just now: ErrImagePull shows until kubelet's next pod sync,
                // which finds the image in back-off and shows ImagePullBackOff. Here that sync
                // comes a second later (or when the back-off ends, if sooner).
                let next = min(retryAt ?? now, now.addingTimeInterval(1))
                slot.imageRetryAt = next
                slots[name] = slot
                scheduleWake(name, at: next)
            } else {
                // Never, an unreadable image: checked again now and then (kubelet's pod resync),
                // in case the image is imported meanwhile. An invalid name never changes.
                let recheck = now.addingTimeInterval(max(settings.backoffInitial.seconds, 1))
                slot.imageRetryAt = reason == "InvalidImageName" ? .distantFuture : recheck
                slots[name] = slot
                if reason != "InvalidImageName" { scheduleWake(name, at: recheck) }
            }
        }
    }
}
