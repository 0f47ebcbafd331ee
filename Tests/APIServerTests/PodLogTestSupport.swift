@testable import APIRegistry
@testable import APIServer
import APITestSupport
import Agent
import Cgroups
import Foundation
import TestSupport
import KubeAPI
import KubeletServer
import Logging
import ServerTestSupport
import Storage
import Synchronization

/// A kubelet API host over pods and CRI log files a test provides.
final class PodLogTestHost: KubeletHost {
    let nodeName: String
    let root: String
    let cgroups: (any CgroupManager)? = nil
    let cgroupParent = "swiftlet"
    private let current = Mutex<[Pod]>([])

    init(nodeName: String, root: String) {
        self.nodeName = nodeName
        self.root = root
    }

    func pods() -> [Pod] { current.withLock { $0 } }
    func set(_ pods: [Pod]) { current.withLock { $0 = pods } }
    var logs: PodLogs { PodLogs(logRoot: root + "/logs") }
    var dataDirectory: String { root }
    var imageDirectory: String { root }

    func log(_ pod: Pod, _ container: String, attempt: Int, _ lines: [String]) throws {
        let directory = logs.directory(pod: pod, container: container)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let path = "\(directory)/\(attempt).log"
        if !FileManager.default.fileExists(atPath: path) { _ = FileManager.default.createFile(atPath: path, contents: nil) }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        try handle.seekToEnd()
        let records = lines.enumerated().map { "2026-11-22T10:00:0\($0.offset % 10).000000000Z stdout F \($0.element)\n" }
        try handle.write(contentsOf: Data(records.joined().utf8))
    }
}

/// Accepts only the API server's kubelet client token, as a system:masters user.
struct PodLogTestReviewer: TokenReviewer {
    let token: String
    func review(token: String) async throws -> ReviewedUser? {
        token == self.token ? ReviewedUser(name: "kube-apiserver-kubelet-client", groups: ["system:masters"]) : nil
    }
}

/// What a pods/log test gets: the API server (plain HTTP, no authentication) and a kubelet
/// API (HTTPS, bearer tokens) on 127.0.0.1, wired by the server's kubelet client token.
struct PodLogCluster: Sendable {
    let server: TestServerHandle
    let kubeletPort: Int
    let host: PodLogTestHost
}

func withPodLogCluster<T: Sendable>(kubeletClientToken: String = "kubelet-client-secret",
                                     _ body: @Sendable (PodLogCluster) async throws -> T) async throws -> T {
    try await withTestServer(kubeletClientToken: kubeletClientToken) { server in
        var logger = Logger(label: "test-pod-log")
        logger.logLevel = .critical
        let host = PodLogTestHost(nodeName: "node-a", root: server.directory + "/agent")
        let kubelet = KubeletServer(host: host,
                                    configuration: KubeletServerConfiguration(address: "127.0.0.1", port: 0,
                                                                              certificateDirectory: server.directory + "/agent/pki"),
                                    reviewer: PodLogTestReviewer(token: "kubelet-client-secret"), logger: logger)
        let result = await whileServing("the kubelet API", run: { try await kubelet.run(onListening: $0) }) { kubeletPort in
            try await body(PodLogCluster(server: server, kubeletPort: kubeletPort, host: host))
        }
        return try result.get()
    }
}
