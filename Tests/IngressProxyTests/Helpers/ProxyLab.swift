import Foundation
import Glibc
import IngressProxy
import KubeAPI
import NIOCore
import NIOPosix
import Testing
import TestSupport

/// The proxy on 127.0.0.1 (ports picked by the kernel) and python3 pods on other 127.0.0.x
/// addresses, all loopback; `run` stops every pod by PID and shuts the proxy down, also when the
/// test fails.
final class ProxyLab: @unchecked Sendable {
    /// A backend pod: tests/IngressProxyTests/Scripts/echo_backend.py.
    struct Pod: Sendable {
        let pid: pid_t
        let address: String
        let port: Int
        var endpoint: String { "\(address):\(port)" }
    }

    let server: IngressProxyServer
    let root: TestRoot
    private(set) var pods: [Pod] = []
    private var table: IngressRouteTable?

    static let scripts = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Scripts").path

    private init(server: IngressProxyServer, root: TestRoot) {
        self.server = server
        self.root = root
    }

    var httpPort: Int { server.httpAddresses.first?.port ?? 0 }
    var httpsPort: Int { server.httpsAddresses.first?.port ?? 0 }

    /// Runs `body` with a proxy configured by `configure`, then cleans up.
    static func run(_ name: String = #function, configure: (inout IngressProxyConfig) -> Void = { _ in },
                    _ body: (ProxyLab) async throws -> Void) async throws {
        var config = IngressProxyConfig(http: [.init(host: "127.0.0.1", port: 0)], https: [.init(host: "127.0.0.1", port: 0)])
        configure(&config)
        let server = try await IngressProxyServer.start(config: config, group: MultiThreadedEventLoopGroup.singleton)
        let lab = ProxyLab(server: server, root: try TestRoot(name))
        var failure: Error?
        do {
            try await body(lab)
        } catch {
            failure = error
        }
        await lab.cleanUp()
        if let failure { throw failure }
    }

    private func cleanUp() async {
        for pod in pods { await TestProcess.stopAsync(pod.pid, timeout: 5) }
        pods.removeAll()
        await server.shutdown(gracePeriod: .seconds(2))
        root.cleanUp()
    }

    /// Starts an echo pod on `address` (a port the kernel picks) and waits until it listens.
    func startPod(_ address: String) async throws -> Pod {
        let log = root.path + "/pod-\(address)-\(pods.count).log"
        let pid = try TestProcess.spawn(["/usr/bin/python3", "-u", Self.scripts + "/echo_backend.py", address], log: log)
        var port = 0
        let ready = await TestProcess.waitFor(30) {
            guard let text = try? String(contentsOfFile: log, encoding: .utf8),
                  let line = text.split(separator: "\n").first(where: { $0.hasPrefix("PORT ") }),
                  let value = Int(line.dropFirst(5)) else { return false }
            port = value
            return true
        }
        guard ready else {
            await TestProcess.stopAsync(pid, timeout: 2)
            throw FixtureError(message: "the echo pod on \(address) did not start: \((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")")
        }
        let pod = Pod(pid: pid, address: address, port: port)
        pods.append(pod)
        return pod
    }

    /// Builds a table from these objects, serves it, and returns the problems.
    @discardableResult
    func serve(_ ingresses: [Ingress], services: [Service], slices: [EndpointSlice],
               secrets: [String: IngressTLSSecret] = [:]) -> [IngressProblem] {
        let inputs = IngressRouteInputs(ingresses: ingresses, ingressClasses: [Fixture.swiftletClass], services: services,
                                        endpointSlices: slices, tlsSecrets: secrets)
        let (table, problems) = IngressRouteTable.build(inputs, reusing: table)
        self.table = table
        server.update(table)
        return problems
    }

    /// A Service `name` on port 80 whose endpoints are `pods` (each on its own port, so one
    /// slice per pod, as a named targetPort would give).
    static func service(_ name: String, pods: [Pod], notReady: [Pod] = []) -> (Service, [EndpointSlice]) {
        let service = Fixture.service(name)
        var slices: [EndpointSlice] = []
        for (index, pod) in pods.enumerated() {
            slices.append(Fixture.slice(name, name: "\(name)-\(index)", addresses: [pod.address], port: Int32(pod.port)))
        }
        for (index, pod) in notReady.enumerated() {
            slices.append(Fixture.slice(name, name: "\(name)-nr\(index)", addresses: [], notReady: [pod.address], port: Int32(pod.port)))
        }
        return (service, slices)
    }

    /// What curl got: the status code, the HTTP version, the body, and curl's own output.
    struct Reply: Sendable {
        let exit: Int32
        let code: Int
        let version: String
        /// Body bytes curl received.
        let size: Int
        let body: String
        let output: String

        /// The body as the echo pod's JSON.
        var json: [String: Any] {
            (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any] ?? [:]
        }

        var server: String? { json["server"] as? String }

        /// The request headers the pod saw, lowercased names.
        var headers: [(String, String)] {
            ((json["headers"] as? [[String]]) ?? []).compactMap { $0.count == 2 ? ($0[0], $0[1]) : nil }
        }

        func header(_ name: String) -> [String] { headers.filter { $0.0 == name }.map(\.1) }
    }

    static let marker = "\n@@CURL@@"

    /// Runs curl against the proxy: `url` is a path; the host goes in the URL and --resolve
    /// points it at the proxy, so Host and SNI are what a browser would send.
    func curl(_ host: String, _ path: String, tls: Bool = false, extra: [String] = []) async -> Reply {
        let port = tls ? httpsPort : httpPort
        let url = "\(tls ? "https" : "http")://\(host):\(port)\(path)"
        let argv = ["/usr/bin/curl", "-sS", "--max-time", "30", "--resolve", "\(host):\(port):127.0.0.1",
                    "-w", "\(Self.marker) %{http_code} %{http_version} %{size_download}\n"] + (tls ? ["-k"] : []) + extra + [url]
        return await Self.runCurl(argv)
    }

    static func runCurl(_ argv: [String]) async -> Reply {
        let (status, output) = await TestProcess.runAsync(argv)
        guard let range = output.range(of: marker, options: .backwards) else {
            return Reply(exit: status, code: 0, version: "", size: 0, body: "", output: output)
        }
        let fields = output[range.upperBound...].split(separator: " ").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
        let code = fields.first.flatMap { Int($0) } ?? 0
        let version = fields.count > 1 ? fields[1] : ""
        let size = fields.count > 2 ? Int(fields[2]) ?? 0 : 0
        return Reply(exit: status, code: code, version: version, size: size, body: String(output[..<range.lowerBound]),
                     output: output)
    }

    /// Runs one of the Scripts with python3.
    static func python(_ script: String, _ arguments: [String]) async -> (Int32, String) {
        await TestProcess.runAsync(["/usr/bin/python3", scripts + "/" + script] + arguments)
    }

    /// Connections the pod has accepted so far (asked directly, which itself counts one).
    static func acceptedConnections(_ pod: Pod) async -> Int {
        await stats(pod)["connections"] as? Int ?? -1
    }

    /// `/slow` requests the pod is answering now (asked directly).
    static func slowInProgress(_ pod: Pod) async -> Int {
        await stats(pod)["slow"] as? Int ?? -1
    }

    private static func stats(_ pod: Pod) async -> [String: Any] {
        await runCurl(["/usr/bin/curl", "-sS", "--max-time", "10", "-w", "\(marker) %{http_code} %{http_version} %{size_download}\n",
                       "http://\(pod.endpoint)/stats"]).json
    }
}
