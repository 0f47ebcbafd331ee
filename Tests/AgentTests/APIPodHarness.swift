import Agent
import Cgroups
import Foundation
import Glibc
import KubeAPI
import Runtime
import TestSupport

/// Root-only: an `Agent` running in the test process against a `FakePodAPI`, with its own
/// directories and cgroup parent and no pod network (pods have only loopback, so the host's
/// network is never touched). Stopping the agent (cancelling it) leaves its pods running, as the
/// real one does; `cleanUp` kills whatever is left.
final class APIPodHarness {
    let root: TestRoot
    let api = FakePodAPI()
    let nodeName = "testnode"
    let cgroupParent: String
    let runtime: PodRuntime
    let settings: AgentSettings
    let cgroups: any CgroupManager
    var nodeUID: String? = "node-uid-1"
    private(set) var agent: Agent?
    private var task: Task<Void, any Error>?

    var data: String { root.path + "/data" }
    var logs: String { root.path + "/logs" }

    init(_ name: String = #function) async throws {
        root = try TestRoot(name)
        cgroupParent = "swiftlet-test-\(UUID().uuidString.prefix(8).lowercased())"
        cgroups = try Cgroups.detect()
        let config = RuntimeConfig(stateRoot: root.path + "/data", runRoot: root.path + "/run", cgroupParent: cgroupParent,
                                   seccompProfileRoot: root.path + "/seccomp",
                                   monitorPath: Fixtures.binDirectory + "/swiftlet-monitor")
        guard FileManager.default.isExecutableFile(atPath: Fixtures.binDirectory + "/swiftlet-monitor") else {
            throw FixtureError(message: "swiftlet-monitor must be built next to the test runner in \(Fixtures.binDirectory): run `swift build` first")
        }
        runtime = PodRuntime(config: config, images: try await Fixtures.imageStore(), cgroups: cgroups, nodeName: nodeName)
        settings = AgentSettings(podManifests: root.path + "/manifests", nodeName: nodeName, logRoot: root.path + "/logs",
                                 fileCheckFrequency: .seconds(1), backoffInitial: .seconds(1), backoffMax: .seconds(4),
                                 healthzPort: 0)
    }

    deinit { cleanUp() }

    /// Starts a new agent on the same directories (as a restarted agent process would).
    func start() {
        let uid = nodeUID
        let agent = Agent(runtime: runtime, settings: settings,
                          podSync: PodSyncConfig(api: api, nodeIPs: ["192.0.2.10"], nodeUID: { uid },
                                                 relistBackoffInitial: .milliseconds(100), statusCoalesce: .milliseconds(20),
                                                 statusRetryInitial: .milliseconds(100), mirrorRetryInterval: .milliseconds(200)))
        self.agent = agent
        task = Task { try await agent.run() }
    }

    /// Stops the agent and waits until it has returned; pods keep running.
    func stop() async {
        task?.cancel()
        _ = try? await task?.value
        task = nil
        agent = nil
    }

    /// Runs a test's body and then stops the agent, also when the body throws (an async
    /// defer: the agent's pod workers must be gone before `cleanUp` kills what they watch).
    func run(_ body: () async throws -> Void) async throws {
        do {
            try await body()
        } catch {
            await stop()
            throw error
        }
        await stop()
    }

    func writeManifest(_ name: String, _ yaml: String) throws {
        try FileManager.default.createDirectory(atPath: settings.podManifests, withIntermediateDirectories: true)
        let temporary = settings.podManifests + "/." + name + ".tmp"
        try yaml.write(toFile: temporary, atomically: false, encoding: .utf8)
        guard rename(temporary, settings.podManifests + "/" + name) == 0 else { throw FixtureError(message: "rename manifest") }
    }

    func removeManifest(_ name: String) throws {
        try FileManager.default.removeItem(atPath: settings.podManifests + "/" + name)
    }

    /// The agent's record of a pod (by its API name).
    func entry(_ name: String) -> StatusStore.Entry? {
        StatusStore(directory: data + "/pod-status").entries().first { $0.pod.metadata.name == name }
    }

    var entries: [StatusStore.Entry] { StatusStore(directory: data + "/pod-status").entries() }

    /// The container pid of the current start of a pod's container.
    func containerPid(uid: String, _ container: String = "c") -> Int32? {
        let base = data + "/pods/\(uid)/containers/\(container)"
        let attempts = ((try? FileManager.default.contentsOfDirectory(atPath: base)) ?? []).compactMap(Int.init).sorted()
        guard let last = attempts.last,
              let contents = FileManager.default.contents(atPath: base + "/\(last)/state.json"),
              let object = try? JSONSerialization.jsonObject(with: contents) as? [String: Any] else { return nil }
        return (object["containerPid"] as? NSNumber)?.int32Value
    }

    /// Pod directories, namespaces, status records, log directories and pod cgroups left behind.
    func leftovers() -> [String] {
        var found: [String] = []
        let fm = FileManager.default
        for dir in [data + "/pods", root.path + "/run/pods", data + "/pod-status"] {
            for entry in (try? fm.contentsOfDirectory(atPath: dir)) ?? [] { found.append("\(dir)/\(entry)") }
        }
        for entry in (try? fm.contentsOfDirectory(atPath: logs)) ?? [] { found.append("log dir \(entry)") }
        for hierarchy in ["memory", "pids", "cpu", "freezer", ""] {
            let dir = "/sys/fs/cgroup/\(hierarchy)/\(cgroupParent)"
            for entry in (try? fm.contentsOfDirectory(atPath: dir)) ?? [] where entry.hasPrefix("pod") {
                found.append("cgroup \(dir)/\(entry)")
            }
        }
        return found
    }

    /// Forced cleanup: stop the agent, kill every monitor and container recorded in our state and
    /// everything in our cgroups, then remove the directories (TestRoot unmounts).
    func cleanUp() {
        task?.cancel()
        task = nil
        PodProcesses.killAll(dataDirectory: data, cgroupParent: cgroupParent)
        root.cleanUp()
    }

    /// Polls every 100 ms until `condition` holds; false on timeout.
    func waitFor(_ timeout: Double, _ condition: () -> Bool) async -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if condition() { return true }
            try? await Task.sleep(for: .milliseconds(100))
        }
        return condition()
    }
}
