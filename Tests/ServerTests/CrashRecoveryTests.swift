@testable import APIMachinery
@testable import APIRegistry
import APITestSupport
import Foundation
import ServerTestSupport
import TestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// A `swiftlet server` child process on a data directory.
final class ServerProcess: @unchecked Sendable {
    private(set) var pid: pid_t
    let port: Int

    /// The swiftlet binary built next to the test bundle (`swift build` builds it).
    static var binary: String {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("swiftlet").path
    }

    /// Starts `swiftlet server` on `dataDirectory` with `arguments` (plain HTTP on a free
    /// port by default) and waits for its "listening on" line.
    init(dataDirectory: String, arguments: [String] = ["--http-listen", "127.0.0.1:0"]) async throws {
        guard FileManager.default.isExecutableFile(atPath: Self.binary) else {
            throw TestFailure("\(Self.binary) is missing: run `swift build` before the tests")
        }
        try FileManager.default.createDirectory(atPath: dataDirectory, withIntermediateDirectories: true)
        // stdout to a file the test polls: the server's "listening on" line gives the port.
        let log = dataDirectory + "/../server-\(UInt64.random(in: 0...UInt64.max)).out"
        let child = try TestChild.launch([Self.binary, "server", "--data-dir", dataDirectory] + arguments,
                                         stdout: .file(log), stderr: .file(log + ".err"))
        pid = child.pid
        var text = ""
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            if let range = text.range(of: "listening on http://127.0.0.1:") ?? text.range(of: "listening on https://127.0.0.1:"),
               let port = Int(text[range.upperBound...].prefix { $0.isNumber }), text[range.upperBound...].contains("\n") {
                self.port = port
                return
            }
            if TestProcess.hasExited(child.pid) {
                pid = -1
                let errors = (try? String(contentsOfFile: log + ".err", encoding: .utf8)) ?? ""
                throw TestFailure("swiftlet server exited before listening: \(text)\(errors.suffix(2000))")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        kill(child.pid, SIGKILL)
        _ = child.wait()
        pid = -1
        throw TestFailure("swiftlet server did not print its port within 60 s: \(text)")
    }

    /// SIGTERM, as systemd stops it, and waits for the exit.
    func stop() async {
        guard pid > 0 else { return }
        await TestProcess.stopAsync(pid)
        pid = -1
    }

    /// SIGKILL: no chance to flush or close anything.
    func kill9() {
        guard pid > 0 else { return }
        kill(pid, SIGKILL)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        pid = -1
    }

    deinit {
        kill9()
    }
}

/// Collects acknowledged writes from concurrent writers.
actor Acknowledged {
    private(set) var writes: [String: Int64] = [:]
    func record(_ name: String, _ revision: Int64) { writes[name] = revision }
    var count: Int { writes.count }
}

@Suite struct CrashRecoveryTests {
    /// Kill -9 of the server while clients write: every acknowledged write survives, the
    /// revision keeps increasing, and a watch resumed from its last revision misses nothing.
    @Test func killNineMidWritesLosesNothingAndWatchesResume() async throws {
        let directory = try TemporaryDirectory()
        let data = directory.path + "/data"
        let server = try await ServerProcess(dataDirectory: data)
        let firstPort = server.port
        let client = HTTPTestClient(port: firstPort)
        let startVersion = try #require(Int64(try await client.send("GET", "/api/v1/namespaces/default/configmaps").json()["metadata"]?["resourceVersion"]?.stringValue ?? ""))
        let watch = try await client.stream("/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=\(startVersion)")

        let acknowledged = Acknowledged()
        let target = 200
        await withTaskGroup(of: Void.self) { group in
            for writer in 0..<4 {
                group.addTask {
                    for index in 0..<10_000 {
                        let name = "cm-\(writer)-\(index)"
                        guard let response = try? await client.send("POST", "/api/v1/namespaces/default/configmaps",
                                                                    json: .object(["metadata": .object(["name": .string(name)])])),
                              response.status == 201,
                              let version = (try? response.json())?["metadata"]?["resourceVersion"]?.stringValue.flatMap({ Int64($0) }) else {
                            return  // the server is gone
                        }
                        await acknowledged.record(name, version)
                    }
                }
            }
            group.addTask {
                while await acknowledged.count < target {
                    try? await Task.sleep(for: .milliseconds(5))
                }
                server.kill9()
            }
        }
        let writes = await acknowledged.writes
        #expect(writes.count >= target)

        // A client that had read half the events when the server died.
        var seenBefore: [Int64] = []
        while seenBefore.count < target / 2, let event = try await watch.nextEvent() {
            if let version = Int64(event.object["metadata"]?["resourceVersion"]?.stringValue ?? "") { seenBefore.append(version) }
        }
        #expect(seenBefore.count == target / 2)
        let lastSeen = seenBefore.last ?? startVersion

        let restarted = try await ServerProcess(dataDirectory: data)
        let again = HTTPTestClient(port: restarted.port)
        let list = try await again.send("GET", "/api/v1/namespaces/default/configmaps").json()
        let stored = Set((list["items"]?.arrayValue ?? []).compactMap { $0["metadata"]?["name"]?.stringValue })
        let lost = Set(writes.keys).subtracting(stored)
        #expect(lost.isEmpty, "acknowledged but lost: \(lost.sorted().prefix(10))")
        let listVersion = try #require(Int64(list["metadata"]?["resourceVersion"]?.stringValue ?? ""))
        #expect(listVersion >= writes.values.max() ?? 0)

        // Resume the watch where it stopped: every later revision arrives, once, in order.
        let resumed = try await again.stream("/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=\(lastSeen)")
        // Every ConfigMap written after the watch began, once, in order. (Not every revision up to
        // the list's: the server's own controllers write other kinds meanwhile, e.g. the Endpoints
        // of the kubernetes Service just after a start; such a write once made this test fail.)
        let created = (list["items"]?.arrayValue ?? []).compactMap { Int64($0["metadata"]?["resourceVersion"]?.stringValue ?? "") }
            .filter { $0 > startVersion }.sorted()
        var seenAfter: [Int64] = []
        while (seenAfter.last ?? lastSeen) < (created.last ?? 0), let event = try await resumed.nextEvent() {
            #expect(event.type == "ADDED")
            if let version = Int64(event.object["metadata"]?["resourceVersion"]?.stringValue ?? "") { seenAfter.append(version) }
        }
        let all = seenBefore + seenAfter
        #expect(all == created, "a gap or a repeat in the watch across the restart")

        // Revisions keep increasing after the restart.
        let next = try await again.send("POST", "/api/v1/namespaces/default/configmaps", json: .object(["metadata": .object(["name": .string("after")])]))
        let nextVersion = try #require(Int64(try next.json()["metadata"]?["resourceVersion"]?.stringValue ?? ""))
        #expect(nextVersion > listVersion)
    }
}
