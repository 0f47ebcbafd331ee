import TestSupport
import Cgroups
import Foundation
import Glibc
import Images
import KubeAPI
@testable import Runtime

/// A runtime with its own state dirs and cgroup parent, checked for leftovers at the end.
final class RuntimeHarness {
    let root: TestRoot
    let runtime: PodRuntime
    let cgroups: any CgroupManager
    let parent: String

    init(_ name: String = #function) throws {
        root = try TestRoot(name)
        parent = "swiftlet-test-\(UUID().uuidString.prefix(8).lowercased())"
        cgroups = try Cgroups.detect()
        let config = RuntimeConfig(stateRoot: root.path + "/state", runRoot: root.path + "/run", cgroupParent: parent,
                                   seccompProfileRoot: root.path + "/seccomp",
                                   monitorPath: Fixtures.binDirectory + "/swiftlet-monitor")
        runtime = PodRuntime(config: config, images: try Fixtures.store.get(), cgroups: cgroups, nodeName: "test-node")
    }

    deinit {
        try? cgroups.killAll(parent)
        try? cgroups.destroy(parent)
    }

    /// Decodes, defaults and validates a pod manifest, giving it a fresh uid.
    func pod(_ yaml: String) throws -> Pod {
        var pod = try Manifest.decodePod(yaml: yaml).withDefaults()
        pod.metadata.uid = UUID().uuidString.lowercased()
        let problems = pod.validate()
        if !problems.isEmpty { throw FixtureError(message: problems.map { "\($0)" }.joined(separator: ", ")) }
        return pod
    }

    /// Runs the pod to completion and returns exits and each container's output.
    func run(_ pod: Pod) async throws -> (PodRunner.Result, [String: String]) {
        let logs = root.path + "/logs-\(UUID().uuidString.prefix(6))"
        try FileManager.default.createDirectory(atPath: logs, withIntermediateDirectories: true)
        let result = try await PodRunner(runtime: runtime).run(pod) { name in
            open(logs + "/" + name + ".log", O_CREAT | O_WRONLY | O_APPEND | O_CLOEXEC, 0o644)
        }
        var output: [String: String] = [:]
        for file in (try? FileManager.default.contentsOfDirectory(atPath: logs)) ?? [] {
            output[String(file.dropLast(4))] = try? String(contentsOfFile: logs + "/" + file, encoding: .utf8)
        }
        return (result, output)
    }

    /// What the runtime left behind: mounts under our dirs, pod cgroups, pod directories.
    func leftovers() -> [String] {
        var found: [String] = []
        let mounts = ProcFile.read("/proc/self/mountinfo") ?? ""
        for line in mounts.split(separator: "\n") where line.contains(root.path + "/state") || line.contains(root.path + "/run") {
            found.append("mount: \(line)")
        }
        for pod in (try? FileManager.default.contentsOfDirectory(atPath: root.path + "/state/pods")) ?? [] {
            found.append("pod dir: \(pod)")
        }
        for pod in (try? FileManager.default.contentsOfDirectory(atPath: root.path + "/run/pods")) ?? [] {
            found.append("run dir: \(pod)")
        }
        if let children = try? cgroups.processes(in: parent), !children.isEmpty {
            found.append("processes in cgroup \(parent): \(children)")
        }
        for hierarchy in ["memory", "pids", "cpu", "unified", ""] {
            let dir = "/sys/fs/cgroup/\(hierarchy)/\(parent)"
            let entries = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
            for entry in entries where entry.hasPrefix("pod") { found.append("cgroup: \(dir)/\(entry)") }
        }
        return found
    }
}
