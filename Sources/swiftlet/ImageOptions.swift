import Agent
import ArgumentParser
import APIMachinery
import Foundation
import Registry

/// The agent's image flags (kubelet's names), with the registry flags `images pull` takes too.
struct ImageOptions: ParsableArguments {
    @OptionGroup var registry: RegistryOptions

    @Option(help: "Pull one image at a time (kubelet's --serialize-image-pulls; true or false).")
    var serializeImagePulls = true

    @Option(help: "Most image pulls at once when --serialize-image-pulls=false (kubelet's --max-parallel-image-pulls; default: no limit).")
    var maxParallelImagePulls: Int?

    @Option(help: "Disk usage (percent) of the image filesystem at which unused images are removed; 100 disables it (kubelet's --image-gc-high-threshold).")
    var imageGcHighThreshold = 85

    @Option(help: "Disk usage (percent) image garbage collection frees down to (kubelet's --image-gc-low-threshold).")
    var imageGcLowThreshold = 80

    @Option(help: "An unused image is not removed before it has been on the node this long, e.g. 2m, 90s, 1h (kubelet's --minimum-image-ttl-duration).")
    var minimumImageTtlDuration = "2m"

    @Option(help: "Seconds between checks of the image filesystem's usage (kubelet checks every 5 minutes).")
    var imageGcPeriod = 300

    @Option(help: "Most images listed in the node's status; -1 lists all (kubelet's --node-status-max-images).")
    var nodeStatusMaxImages = 50

    /// The settings, every flag checked, and the registry file read (a broken file is an error
    /// now, not at the first pull).
    func settings() throws -> (settings: ImageSettings, registry: RegistryConfig) {
        guard let minimumAge = GoDuration.seconds(minimumImageTtlDuration) else {
            throw CLIError("--minimum-image-ttl-duration \(minimumImageTtlDuration): not a duration such as 2m, 90s or 1h30m")
        }
        guard imageGcPeriod >= 1 else { throw CLIError("--image-gc-period \(imageGcPeriod): must be at least 1 second") }
        let settings = ImageSettings(
            serializeImagePulls: serializeImagePulls, maxParallelImagePulls: maxParallelImagePulls,
            gcHighThresholdPercent: imageGcHighThreshold, gcLowThresholdPercent: imageGcLowThreshold,
            gcPeriod: .seconds(imageGcPeriod), minimumImageAge: .seconds(minimumAge), nodeStatusMaxImages: nodeStatusMaxImages,
            registryConfigPath: registry.registryConfig, maxConcurrentDownloads: registry.maxConcurrentDownloads)
        do {
            try settings.validate()
        } catch {
            throw CLIError("\(error)")
        }
        return (settings, try registry.load())
    }
}
