import Foundation
import KubeAPI
import Runtime

/// The pod's persistentVolumeClaim volumes: before the sandbox is made, each claim is read and
/// resolved to its bound volume's node directory (`ClaimResolver`); until every claim can be,
/// the pod waits in ContainerCreating with kubelet's FailedMount event ("Unable to attach or
/// mount volumes: ... error processing PVC ns/name: PVC is not bound") and looks again after
/// `configRetry`. A bound claim keeps its volume (volumeName never changes), so a running pod's
/// claims are resolved once; an agent that adopts a running pod resolves them again with its
/// first refresh, for the containers it restarts.
extension PodWorker {
    var claimVolumes: [Volume] { (pod.spec.volumes ?? []).filter { $0.persistentVolumeClaim != nil } }

    /// Whether every claim volume is resolved (trivially for pods without one, and for static
    /// pods, whose claims the runtime refuses with its own message).
    func claimsReady() async -> Bool {
        let volumes = claimVolumes
        guard !volumes.isEmpty, pod.isAPIPod, let api = images.api else { return true }
        let namespace = pod.metadata.namespace ?? "default"
        var resolved: [String: ClaimVolume] = [:]
        var failed: [String] = []
        var failures: [String] = []
        for volume in volumes {
            guard let source = volume.persistentVolumeClaim else { continue }
            do {
                resolved[volume.name] = try await resolve(source, namespace: namespace, api: api)
            } catch {
                failed.append(volume.name)
                failures.append("error processing PVC \(namespace)/\(source.claimName): \(error)")
            }
        }
        // The local-path provisioner's directories this agent is about to make: removed again
        // once their volume is gone (`LocalVolumeJanitor`).
        for claim in resolved.values where claim.createDirectory && !FileManager.default.fileExists(atPath: claim.path) {
            localVolumes?.record(path: claim.path, volume: claim.volumeName)
        }
        configObjects.claimVolumes = resolved
        sandbox?.configObjects = configObjects
        guard failures.isEmpty else {
            // kubelet's WaitForAttachAndMount error, as its FailedMount event shows it.
            let names = failed.joined(separator: " ")
            reportMountFailure("Unable to attach or mount volumes: unmounted volumes=[\(names)], unattached volumes=[\(names)], "
                               + "failed to process volumes=[\(names)]: " + failures.joined(separator: "; "))
            return false
        }
        return true
    }

    /// The claim, then its volume when it is bound; kubelet's messages for what is missing.
    private func resolve(_ source: PersistentVolumeClaimVolumeSource, namespace: String, api: any PodAPI) async throws -> ClaimVolume {
        let claim: JSONValue
        do {
            claim = try await api.getPersistentVolumeClaim(namespace: namespace, name: source.claimName)
        } catch {
            throw ClaimResolver.Failure(description: "failed to fetch PVC from API server: \(error)")
        }
        var volume: JSONValue?
        if claim["status"]?["phase"]?.stringValue == "Bound", let name = claim["spec"]?["volumeName"]?.stringValue, !name.isEmpty {
            do {
                volume = try await api.getPersistentVolume(name: name)
            } catch PodAPIError.notFound {
                volume = nil
            } catch {
                throw ClaimResolver.Failure(description: "failed to fetch PV \(name) from API server: \(error)")
            }
        }
        return try ClaimResolver.resolve(claim: claim, volume: volume, readOnly: source.readOnly ?? false)
    }

    /// An adopted pod's claims, resolved when they are not yet (its first config refresh).
    func resolveAdoptedClaims() async {
        guard sandbox != nil, !claimVolumes.isEmpty, configObjects.claimVolumes.count < claimVolumes.count else { return }
        _ = await claimsReady()
    }
}
