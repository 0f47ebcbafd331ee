import Agent
import Foundation
import KubeAPI
import KubeletServer
import Testing
import TestSupport

/// The agent's view for the kubelet API: its status store's pods with their latest statuses.
@Suite
struct AgentKubeletHostTests {
    @Test func storedPodsCarryTheirLatestStatusAndKeepTheirStartTime() throws {
        let root = try TestRoot()
        defer { root.cleanUp() }
        let store = StatusStore(directory: root.path + "/pod-status")
        var pod = try makePod("web", statuses: [])
        let started = Time(Date(timeIntervalSince1970: 1_700_000_000))
        pod.status = PodStatus(startTime: started)
        pod.apiVersion = nil
        pod.kind = nil
        let status = PodStatus(phase: "Running", containerStatuses: [running("app", attempt: 3, previous: 2)])
        try FileManager.default.createDirectory(atPath: store.directory + "/uid-1", withIntermediateDirectories: true)
        try JSONEncoder().encode(pod).write(to: URL(fileURLWithPath: store.directory + "/uid-1/pod.json"))
        try JSONEncoder().encode(status).write(to: URL(fileURLWithPath: store.directory + "/uid-1/status.json"))

        let pods = Agent.pods(from: store)
        #expect(pods.count == 1)
        #expect(pods.first?.kind == "Pod" && pods.first?.apiVersion == "v1")
        #expect(pods.first?.status?.phase == "Running")
        #expect(pods.first?.status?.startTime == started)
        #expect(pods.first?.status?.containerStatuses?.first?.restartCount == 3)

        // The log file kubelet would read follows the container IDs of that status.
        let logs = PodLogs(logRoot: root.path + "/logs")
        let merged = try #require(pods.first)
        #expect(try logs.logFile(pod: merged, container: "app", previous: false) == root.path + "/logs/default_web_uid-1/app/3.log")
        #expect(try logs.logFile(pod: merged, container: "app", previous: true) == root.path + "/logs/default_web_uid-1/app/2.log")
    }
}
