import Foundation
import Glibc
import KubeAPI
import Runtime

/// The agent's record of its pods on disk (`<data-dir>/pod-status/<uid>/`): the pod as the agent
/// runs it (`pod.json`) and its latest status (`status.json`). It lets `swiftlet pods` show
/// pods without talking to the agent, and a restarted agent find the pods it was running.
public final class StatusStore: Sendable {
    public let directory: String

    public init(directory: String) {
        self.directory = directory
    }

    public struct Entry: Sendable {
        public let pod: Pod
        public let status: PodStatus?
    }

    func savePod(_ pod: Pod, startTime: Date) {
        guard let uid = pod.metadata.uid else { return }
        var stored = pod
        if stored.status == nil { stored.status = PodStatus(startTime: Time(startTime)) }
        write(stored, to: uid + "/pod.json")
    }

    func saveStatus(_ status: PodStatus, uid: String) {
        write(status, to: uid + "/status.json")
    }

    func startTime(uid: String) -> Date? {
        read(Pod.self, uid + "/pod.json")?.status?.startTime?.date
    }

    func remove(uid: String) {
        try? FileManager.default.removeItem(atPath: directory + "/" + uid)
    }

    /// Every pod with its status, oldest first.
    public func entries() -> [Entry] {
        let uids = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return uids.compactMap { uid in
            guard let pod = read(Pod.self, uid + "/pod.json") else { return nil }
            return Entry(pod: pod, status: read(PodStatus.self, uid + "/status.json"))
        }.sorted { ($0.pod.status?.startTime?.date ?? .distantPast) < ($1.pod.status?.startTime?.date ?? .distantPast) }
    }

    /// The pods a previous agent left running, to adopt or to terminate.
    func storedPods() -> [Pod] { entries().map(\.pod) }

    private func write<T: Encodable>(_ value: T, to relative: String) {
        guard let data = try? JSONEncoder().encode(value) else { return }
        try? AtomicFile.write(data, to: directory + "/" + relative, creatingDirectory: true)
    }

    private func read<T: Decodable>(_ type: T.Type, _ relative: String) -> T? {
        guard let data = FileManager.default.contents(atPath: directory + "/" + relative) else { return nil }
        return try? JSONDecoder().decode(type, from: data)
    }
}
