@testable import Agent
import Foundation
import Images
import KubeAPI
import Logging
import Synchronization
import Testing
import TestSupport

/// kubelet's image manager: pull policies, the pull back-off, pull limits, Events and the
/// container's waiting reasons. The registry is stood in for by a puller that imports the test
/// fixtures into the store (or fails as told): what is under test is the agent's decisions.
@Suite(.serialized) struct ImageManagerTests {
    /// "Pulls" by importing a fixture layout under the asked name; counts pulls and how many
    /// ran at once.
    final class FixturePuller: ImagePuller {
        let store: ImageStore
        let layout: String
        let failure = Mutex<String?>(nil)
        /// While set, pulls wait before they finish: a test sees how many run at once.
        let hold = Mutex(false)
        private let counts = Mutex((pulls: 0, running: 0, maxRunning: 0, secrets: [[PullSecret]]()))

        init(store: ImageStore, layout: String) {
            self.store = store
            self.layout = layout
        }

        var pulls: Int { counts.withLock { $0.pulls } }
        var maxRunning: Int { counts.withLock { $0.maxRunning } }
        var running: Int { counts.withLock { $0.running } }
        var secrets: [[PullSecret]] { counts.withLock { $0.secrets } }

        func pull(_ image: String, pullSecrets: [PullSecret]) async throws -> ImagePullResult {
            counts.withLock {
                $0.pulls += 1
                $0.running += 1
                $0.maxRunning = max($0.maxRunning, $0.running)
                $0.secrets.append(pullSecrets)
            }
            defer { counts.withLock { $0.running -= 1 } }
            while hold.withLock({ $0 }) { try await Task.sleep(for: .milliseconds(10)) }
            if let message = failure.withLock({ $0 }) { throw ImagePullError(message) }
            // Stored as a pull stores it: the tag and a repo digest (name@digest).
            let imported = try #require(try store.importImage(from: layout, name: image).first)
            let reference = try ImageReference(parsing: image)
            let repoDigest = reference.name + "@" + imported.manifestDigest.description
            let stored = try store.beginPull().commit(manifest: imported.manifestDigest, names: [reference.normalized, repoDigest])
            return ImagePullResult(image: stored, repoDigest: repoDigest)
        }
    }

    struct Context {
        var store: ImageStore
        var puller: FixturePuller
        var api: FakePodAPI
        var events: PodEventRecorder
        var fixtures: String
    }

    static func withManager(settings: ImageSettings = ImageSettings(), backoff: Duration = .seconds(10),
                            _ body: (ImageManager, Context) async throws -> Void) async throws {
        let root = try TestRoot()
        defer { root.cleanUp() }
        let fixtures = try await Fixtures.builtDirectory()
        let store = try ImageStore(root: root.path + "/images")
        let puller = FixturePuller(store: store, layout: fixtures + "/busybox")
        let api = FakePodAPI()
        let events = PodEventRecorder(api: api, logger: Logger(label: "test"))
        let sender = Task { await events.run() }
        defer { sender.cancel() }
        let manager = ImageManager(store: store, puller: puller, settings: settings, backoffInitial: backoff,
                                   backoffMax: backoff * 30, events: events, logger: Logger(label: "test"))
        try await body(manager, Context(store: store, puller: puller, api: api, events: events, fixtures: fixtures))
    }

    static func pod(_ image: String, policy: String? = nil, uid: String = "uid-1") -> (Pod, Container) {
        let container = Container(name: "app", image: image, imagePullPolicy: policy)
        let pod = Pod(metadata: ObjectMeta(name: "web", namespace: "default", uid: uid), spec: PodSpec(containers: [container]))
        return (pod, container)
    }

    static func ensure(_ manager: ImageManager, _ image: String, policy: String? = nil, uid: String = "uid-1",
                       secrets: [PullSecret] = []) async -> ImageManager.Outcome {
        let (pod, container) = pod(image, policy: policy, uid: uid)
        return await manager.ensureImageExists(pod: pod, container: container, fieldPath: "spec.containers{app}") { secrets }
    }

    static func failure(_ outcome: ImageManager.Outcome) -> (reason: String, message: String, retryAt: Date?)? {
        if case .failed(let reason, let message, let retryAt) = outcome { return (reason, message, retryAt) }
        return nil
    }

    /// Waits until the recorder has sent `count` Events to the API.
    static func events(_ api: FakePodAPI, atLeast count: Int) async -> [PodEventRecord] {
        _ = await TestProcess.waitFor(30) { api.events.count >= count }
        return api.events
    }

    @Test func defaultPolicyIsAlwaysForLatestOrNoTag() {
        #expect(ImageManager.defaultPullPolicy("busybox") == "Always")
        #expect(ImageManager.defaultPullPolicy("busybox:latest") == "Always")
        #expect(ImageManager.defaultPullPolicy("registry:5000/busybox") == "Always")
        #expect(ImageManager.defaultPullPolicy("busybox:1.36") == "IfNotPresent")
        #expect(ImageManager.defaultPullPolicy("busybox@sha256:" + String(repeating: "a", count: 64)) == "IfNotPresent")
        #expect(ImageManager.defaultPullPolicy("registry:5000/busybox:latest@sha256:" + String(repeating: "a", count: 64)) == "IfNotPresent")
    }

    @Test func ifNotPresentUsesWhatIsThereAndPullsWhatIsNot() async throws {
        try await Self.withManager { manager, c in
            guard case .ready(let pulled) = await Self.ensure(manager, "registry.test/app:v1", policy: "IfNotPresent") else {
                Issue.record("not pulled")
                return
            }
            #expect(pulled.repoTags == ["registry.test/app:v1"])
            #expect(c.puller.pulls == 1)
            guard case .ready = await Self.ensure(manager, "registry.test/app:v1", policy: "IfNotPresent") else {
                Issue.record("not found present")
                return
            }
            #expect(c.puller.pulls == 1)
            // Defaulted: a version tag is IfNotPresent, :latest is Always.
            _ = await Self.ensure(manager, "registry.test/app:v1")
            #expect(c.puller.pulls == 1)
            _ = await Self.ensure(manager, "registry.test/app:latest")
            _ = await Self.ensure(manager, "registry.test/app:latest")
            #expect(c.puller.pulls == 3)
            let events = await Self.events(c.api, atLeast: 7)
            #expect(events.map(\.reason).prefix(3) == ["Pulling", "Pulled", "Pulled"])
            #expect(events[0].message == "Pulling image \"registry.test/app:v1\"")
            #expect(events[1].message.hasPrefix("Successfully pulled image \"registry.test/app:v1\" in "))
            #expect(events[1].message.contains(" including waiting). Image size: "))
            #expect(events[2].message == "Container image \"registry.test/app:v1\" already present on machine")
            #expect(events.allSatisfy { $0.fieldPath == "spec.containers{app}" && $0.podName == "web" && $0.podUID == "uid-1" })
        }
    }

    @Test func importedImagesAreUsedAsTheyAreEvenUnderAlways() async throws {
        try await Self.withManager { manager, c in
            _ = try c.store.importImage(from: c.fixtures + "/busybox", name: "registry.test/airgap:latest")
            guard case .ready = await Self.ensure(manager, "registry.test/airgap:latest", policy: "Always") else {
                Issue.record("an imported image was not used")
                return
            }
            #expect(c.puller.pulls == 0)
        }
    }

    @Test func neverDoesNotPullAndSaysSo() async throws {
        try await Self.withManager { manager, c in
            let outcome = Self.failure(await Self.ensure(manager, "registry.test/absent:v1", policy: "Never"))
            #expect(outcome?.reason == "ErrImageNeverPull")
            #expect(outcome?.message == "Container image \"registry.test/absent:v1\" is not present with pull policy of Never")
            #expect(c.puller.pulls == 0)
            let events = await Self.events(c.api, atLeast: 2)
            #expect(events.map(\.reason) == ["ErrImageNeverPull", "Failed"])
            #expect(events.map(\.type) == ["Warning", "Warning"])
            #expect(events[1].message == "Error: ErrImageNeverPull")
            // Imported meanwhile, the same container can start.
            _ = try c.store.importImage(from: c.fixtures + "/busybox", name: "registry.test/absent:v1")
            guard case .ready = await Self.ensure(manager, "registry.test/absent:v1", policy: "Never") else {
                Issue.record("an imported image was not used")
                return
            }
        }
    }

    @Test func failedPullsBackOffPerPodAndImage() async throws {
        try await Self.withManager(backoff: .seconds(60)) { manager, c in
            c.puller.failure.withLock { $0 = "failed to pull and unpack image \"registry.test/app:v1\": not found" }
            let first = Self.failure(await Self.ensure(manager, "registry.test/app:v1"))
            #expect(first?.reason == "ErrImagePull")
            #expect(first?.message == "failed to pull and unpack image \"registry.test/app:v1\": not found")
            #expect((first?.retryAt ?? .distantPast) > Date().addingTimeInterval(50))
            // Within the back-off no pull happens: ImagePullBackOff with kubelet's message.
            let second = Self.failure(await Self.ensure(manager, "registry.test/app:v1"))
            #expect(second?.reason == "ImagePullBackOff")
            #expect(second?.message == "Back-off pulling image \"registry.test/app:v1\"")
            #expect(second?.retryAt == first?.retryAt)
            #expect(c.puller.pulls == 1)
            // Another pod is not held back by this pod's failures (kubelet keys by pod uid).
            c.puller.failure.withLock { $0 = nil }
            guard case .ready = await Self.ensure(manager, "registry.test/app:v1", uid: "uid-2") else {
                Issue.record("another pod was held back")
                return
            }
            let events = await Self.events(c.api, atLeast: 6)
            #expect(events.map(\.reason).prefix(5) == ["Pulling", "Failed", "Failed", "BackOff", "Failed"])
            #expect(events[1].message == "Failed to pull image \"registry.test/app:v1\": failed to pull and unpack image \"registry.test/app:v1\": not found")
            #expect(events[2].message == "Error: ErrImagePull")
            #expect(events[4].message == "Error: ImagePullBackOff")
        }
    }

    @Test func pullSecretsAreReadOnlyForAPull() async throws {
        try await Self.withManager { manager, c in
            let secret = PullSecret(name: "regcred", type: "kubernetes.io/dockerconfigjson", data: [".dockerconfigjson": Data("{}".utf8)])
            _ = await Self.ensure(manager, "registry.test/app:v1", secrets: [secret])
            #expect(c.puller.secrets == [[secret]])
        }
    }

    @Test func invalidNamesAreRefusedWithoutAPull() async throws {
        try await Self.withManager { manager, c in
            let outcome = Self.failure(await Self.ensure(manager, "Not A/Valid:::name"))
            #expect(outcome?.reason == "InvalidImageName")
            #expect(outcome?.message.hasPrefix("Failed to apply default image tag \"Not A/Valid:::name\"") == true)
            #expect(outcome?.retryAt == nil)
            #expect(c.puller.pulls == 0)
        }
    }

    @Test(arguments: [(true, nil as Int?, 1), (false, 2, 2), (false, nil, 3)])
    func pullsAreSerializedOrLimited(serialize: Bool, maxParallel: Int?, expected: Int) async throws {
        let settings = ImageSettings(serializeImagePulls: serialize, maxParallelImagePulls: maxParallel)
        try await Self.withManager(settings: settings) { manager, c in
            // The pulls are held until as many run as the limit lets start (whatever the
            // machine's load), then a while longer to see that no more start.
            c.puller.hold.withLock { $0 = true }
            let pulls = Task {
                await withTaskGroup(of: Void.self) { group in
                    for i in 0..<3 {
                        group.addTask { _ = await Self.ensure(manager, "registry.test/app\(i):latest", uid: "uid-\(i)") }
                    }
                }
            }
            let deadline = ContinuousClock.now + .seconds(30)
            while c.puller.running < expected, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(20))
            }
            try await Task.sleep(for: .milliseconds(300))
            #expect(c.puller.running == expected)
            c.puller.hold.withLock { $0 = false }
            await pulls.value
            #expect(c.puller.pulls == 3)
            #expect(c.puller.maxRunning == expected)
        }
    }

    @Test func settingsAreCheckedAsKubeletChecksThem() {
        #expect(throws: ImageSettingsError.self) { try ImageSettings(gcHighThresholdPercent: 101).validate() }
        #expect(throws: ImageSettingsError.self) { try ImageSettings(gcHighThresholdPercent: 70, gcLowThresholdPercent: 80).validate() }
        #expect(throws: ImageSettingsError.self) { try ImageSettings(serializeImagePulls: true, maxParallelImagePulls: 3).validate() }
        #expect(throws: ImageSettingsError.self) { try ImageSettings(serializeImagePulls: false, maxParallelImagePulls: 0).validate() }
        #expect(throws: Never.self) { try ImageSettings(serializeImagePulls: false, maxParallelImagePulls: 5).validate() }
    }
}
