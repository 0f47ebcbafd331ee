import APITestSupport
import Foundation
import ServerTestSupport
import TestSupport
import Testing

/// Issue 10 item 2 against a real `swiftlet server` process: a few hundred bytes of nested YAML
/// aliases once grew the server past 8 GB (nine levels of nine) or stored a 63 MB object
/// (seven). Now they are refused with a message, and the process's peak resident memory
/// (VmHWM) stays within a small margin of what it was before.
@Suite struct ServerMemoryTests {
    /// `VmRSS` or `VmHWM` of a process, in bytes.
    static func memory(_ field: String, pid: Int32) throws -> Int {
        let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
        guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix(field + ":") }),
              let kilobytes = Int(line.split(separator: " ").dropFirst().first ?? "") else {
            throw TestFailure("no \(field) in /proc/\(pid)/status")
        }
        return kilobytes * 1024
    }

    @Test func aliasBombsAndOtherHostileBodiesLeaveTheServersMemoryBounded() async throws {
        let directory = try TemporaryDirectory()
        let server = try await ServerProcess(dataDirectory: directory.path + "/data")
        defer { server.kill9() }
        let pid = server.pid
        let client = HTTPTestClient(port: server.port)
        let configMaps = "/api/v1/namespaces/default/configmaps"
        // Warm up the paths the hostile requests take, so their first-use costs are in the baseline.
        for index in 0..<20 {
            let body = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: warm-\(index)}\ndata: {a: &x b, c: *x}\n"
            #expect(try await client.send("POST", configMaps, headers: ["Content-Type": "application/yaml"], body: Array(body.utf8)).status == 201)
        }
        _ = try await client.send("GET", configMaps)
        let baseline = try Self.memory("VmRSS", pid: pid)
        let peakBefore = try Self.memory("VmHWM", pid: pid)

        let yaml = ["Content-Type": "application/yaml"]
        let nineByNine = HostileBodies.aliasBomb(levels: 9)
        #expect(nineByNine.utf8.count < 600)
        for body in [nineByNine, HostileBodies.aliasBomb(levels: 7), HostileBodies.aliasBomb(levels: 5), HostileBodies.aliasBomb(levels: 30, fanOut: 2)] {
            for _ in 0..<3 {
                let response = try await client.send("POST", configMaps, headers: yaml, body: Array(body.utf8))
                #expect(response.status == 400)
                #expect((try response.json()["message"]?.stringValue ?? "").hasSuffix("yaml: document contains excessive aliasing"))
            }
        }
        for body in ["apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata: {l: .inf}", String(repeating: "[", count: 1_000_000),
                     String(repeating: "- ", count: 1_000_000) + "x"] {
            let response = try await client.send("POST", configMaps, headers: yaml, body: Array(body.utf8))
            #expect(response.status == 400)
        }
        // JSON patch copies of an object into itself, doubling it each time.
        #expect(try await client.send("POST", configMaps, json: .object(["metadata": .object(["name": .string("p")]), "data": .object(["a": .string("0123456789")])])).status == 201)
        let copies = (0..<60).map { #"{"op":"copy","from":"/data","path":"/data/c\#($0)"}"# }.joined(separator: ",")
        let doubled = try await client.send("PATCH", configMaps + "/p", headers: ["Content-Type": "application/json-patch+json"], body: Array("[\(copies)]".utf8))
        #expect(doubled.status == 422)

        let peakAfter = try Self.memory("VmHWM", pid: pid)
        let after = try Self.memory("VmRSS", pid: pid)
        let margin = 96 * 1_048_576
        #expect(peakAfter <= max(peakBefore, baseline + margin),
                "peak resident memory went from \(peakBefore / 1_048_576) MiB to \(peakAfter / 1_048_576) MiB (baseline \(baseline / 1_048_576) MiB)")
        print("server memory: baseline \(baseline / 1_048_576) MiB, peak before \(peakBefore / 1_048_576) MiB, peak after \(peakAfter / 1_048_576) MiB, now \(after / 1_048_576) MiB")

        // Still serving, and nothing unreadable was stored.
        let list = try await client.send("GET", configMaps)
        #expect(list.status == 200)
        #expect(list.headers["warning"] == nil)
        #expect(try await client.send("GET", configMaps + "/bomb").status == 404)
    }
}
