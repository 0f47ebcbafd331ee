import Agent
import Cgroups
import Foundation
import Glibc
import KubeAPI
import KubeletServer
import NIOCore
import Runtime
import Streaming
import Synchronization
import Testing
import TestSupport

/// A kubelet host with one real running pod (busybox serving HTTP on :8080) whose streaming
/// requests go to the real runtime: exec in its container, port-forward into its network.
final class RuntimePodHost: KubeletHost, ContainerStreaming, @unchecked Sendable {
    let nodeName = "node-a"
    let root: TestRoot
    let runtime: PodRuntime
    let cgroups: (any CgroupManager)?
    let cgroupParent: String
    let pod: Pod
    let sandbox: RunningSandbox
    let container: RunningContainer
    let null: Int32

    init(_ name: String = #function) async throws {
        root = try TestRoot(name)
        cgroupParent = "swiftlet-test-\(UUID().uuidString.prefix(8).lowercased())"
        let cgroups = try Cgroups.detect()
        self.cgroups = cgroups
        runtime = PodRuntime(config: RuntimeConfig(stateRoot: root.path + "/state", runRoot: root.path + "/run", cgroupParent: cgroupParent,
                                                   seccompProfileRoot: root.path + "/seccomp",
                                                   monitorPath: Fixtures.binDirectory + "/swiftlet-monitor"),
                             images: try await Fixtures.imageStore(), cgroups: cgroups, nodeName: nodeName)
        var pod = try Manifest.decodePod(yaml: """
            apiVersion: v1
            kind: Pod
            metadata: {name: web, namespace: default}
            spec:
              containers:
              - {name: c, image: busybox, command: ["sh", "-c", "mkdir -p /www && echo served > /www/index.html && exec httpd -f -p 8080 -h /www"]}
            """).withDefaults()
        pod.metadata.uid = UUID().uuidString.lowercased()
        self.pod = pod
        let runtime = self.runtime
        let started = pod
        null = open("/dev/null", O_WRONLY | O_CLOEXEC)
        let null = self.null
        (sandbox, container) = try await BlockingCall.run(stackSize: 512 * 1024) {
            Result {
                let sandbox = try runtime.createSandbox(for: started)
                return (sandbox, try runtime.startContainer(started.spec.containers[0], in: sandbox, output: .fds(stdout: null, stderr: null)))
            }
        }.get()
        // Until httpd answers in the pod's network namespace (a fixed 300 ms hoped it had
        // started; a loaded machine may take longer). connect() to a local port does not wait.
        let (sandbox, runtimeRef) = (self.sandbox, runtime)
        let listening = await TestProcess.waitFor(30) {
            guard let fd = try? runtimeRef.connect(to: 8080, in: sandbox) else { return false }
            close(fd)
            return true
        }
        // Recorded, not thrown: the caller's finish() must still remove the pod.
        if !listening { Issue.record("httpd in the test pod never listened on 8080") }
    }

    func pods() -> [Pod] { [pod] }
    var logs: PodLogs { PodLogs(logRoot: root.path + "/logs") }
    var dataDirectory: String { root.path }
    var imageDirectory: String { root.path }
    var streaming: (any ContainerStreaming)? { self }

    struct Target: ExecTarget, PortForwardTarget, AttachTarget {
        let host: RuntimePodHost
        var tty: Bool { false }
        var stdin: Bool { false }
        // This container runs with us as its parent (no monitor): the runtime refuses attach.
        func connect() throws -> Int32 { try host.runtime.attach(to: host.container) }
        func start(_ command: [String], stdio: ExecStdio) throws -> ExecProcess {
            try host.runtime.startExec(command, in: host.container, sandbox: host.sandbox, spec: host.pod.spec.containers[0], stdio: stdio)
        }
        func connect(port: UInt16) throws -> Int32 { try host.runtime.connect(to: port, in: host.sandbox) }
    }

    func execTarget(namespace: String, pod: String, uid: String?, container: String) async -> StreamingLookupResult<any ExecTarget> {
        guard namespace == "default", pod == "web" else { return .podNotFound }
        return container == "c" ? .found(Target(host: self)) : .notRunning
    }

    func attachTarget(namespace: String, pod: String, uid: String?, container: String) async -> StreamingLookupResult<any AttachTarget> {
        guard namespace == "default", pod == "web" else { return .podNotFound }
        return container == "c" ? .found(Target(host: self)) : .notRunning
    }

    func portForwardTarget(namespace: String, pod: String, uid: String?) async -> StreamingLookupResult<any PortForwardTarget> {
        namespace == "default" && pod == "web" ? .found(Target(host: self)) : .podNotFound
    }

    /// Processes in the container's cgroup: 1 (its init) when no exec is left behind.
    func containerProcesses() -> [Int32] { (try? cgroups?.processes(in: container.cgroup)) ?? [] }

    func finish() async {
        await runtime.stop(container, gracePeriod: 0)
        await runtime.removeContainer(container)
        runtime.removeSandbox(sandbox)
        close(null)
        try? cgroups?.killAll(cgroupParent)
        try? cgroups?.destroy(cgroupParent)
        root.cleanUp()
    }
}

/// The kubelet's `/exec` and `/portForward` over WebSocket with a client the test writes frame
/// by frame: the protocol as kubectl speaks it, and what a hostile client could send (root).
@Suite("Kubelet exec and port-forward (root)", .ownThreads)
struct KubeletExecTests {
    static func exec(_ command: [String], flags: String = "stdout=1&stderr=1") -> String {
        "/exec/default/web/c?" + command.map { "command=" + ($0.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? $0) }
            .joined(separator: "&") + "&" + flags
    }

    @Test func execOverEachChannelProtocol() async throws {
        let host = try await RuntimePodHost()
        try await withKubeletServer(host: host, certificateDirectory: host.root.path + "/pki") { server in
            for name in [ChannelProtocol.v5, ChannelProtocol.v4] {
                let (status, headers, session) = try await StreamingTestConnection.with(port: server.port) { c in
                    try await c.send(StreamingTestConnection.webSocketRequest(Self.exec(["sh", "-c", "echo out; echo err >&2; exit 3"]),
                                                                              protocols: [name, "v4.channel.k8s.io"]))
                    let (status, headers) = try await c.readHead()
                    return (status, headers, try await c.readSession())
                }
                #expect(status == 101 && headers["sec-websocket-protocol"] == name && headers["sec-websocket-accept"] == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
                #expect(session.text(1) == "out\n" && session.text(2) == "err\n", "\(session)")
                #expect(session.text(3)?.contains(#""reason":"NonZeroExitCode""#) == true && session.text(3)?.contains(#""message":"3""#) == true,
                        "\(session)")
                #expect(session.closeCode == WebSocketCloseCode.normal)
            }
            // stdin with v5's close signal as its end.
            let echoed = try await StreamingTestConnection.with(port: server.port) { c in
                try await c.send(StreamingTestConnection.webSocketRequest(Self.exec(["cat"], flags: "stdin=1&stdout=1"), protocols: [ChannelProtocol.v5]))
                _ = try await c.readHead()
                try await c.send(channel: 0, "abc")
                try await c.send(channel: 0, "def\n")
                try await c.send(WebSocketFrame(opcode: .binary, payload: ByteBuffer(bytes: [255, 0])))
                return try await c.readSession()
            }
            #expect(echoed.text(1) == "abcdef\n" && echoed.text(3) == #"{"metadata":{},"status":"Success"}"#, "\(echoed)")
        }
        #expect(host.containerProcesses().count == 1, "\(host.containerProcesses())")
        await host.finish()
    }

    /// kubectl cp's case: stdin sent faster than the command reads it, then its end (v5).
    /// Every byte must arrive before the EOF, however long the command takes to read them.
    @Test func stdinToASlowReaderArrivesWholeBeforeItsEnd() async throws {
        let host = try await RuntimePodHost()
        try await withKubeletServer(host: host, certificateDirectory: host.root.path + "/pki") { server in
            let counted = try await StreamingTestConnection.with(port: server.port) { c in
                try await c.send(StreamingTestConnection.webSocketRequest(Self.exec(["sh", "-c", "sleep 1; wc -c"], flags: "stdin=1&stdout=1"),
                                                                          protocols: [ChannelProtocol.v5]))
                _ = try await c.readHead()
                let chunk = String(repeating: "x", count: 32 * 1024)
                for _ in 0..<32 { try await c.send(channel: 0, chunk) }
                try await c.send(WebSocketFrame(opcode: .binary, payload: ByteBuffer(bytes: [255, 0])))
                return try await c.readSession()
            }
            #expect(counted.text(1)?.trimmingCharacters(in: .whitespacesAndNewlines) == "1048576", "\(counted)")
        }
        await host.finish()
    }

    @Test func base64ChannelsAndTheRunForm() async throws {
        let host = try await RuntimePodHost()
        try await withKubeletServer(host: host, certificateDirectory: host.root.path + "/pki") { server in
            // Text frames: the channel as an ASCII digit, the data in base64 (browsers' protocol).
            let frames = try await StreamingTestConnection.with(port: server.port) { c -> [String] in
                try await c.send(StreamingTestConnection.webSocketRequest(Self.exec(["sh", "-c", "read x; echo \"[$x]\""], flags: "stdin=1&stdout=1"),
                                                                          protocols: [ChannelProtocol.v4Base64]))
                _ = try await c.readHead()
                try await c.send(WebSocketFrame(opcode: .text, payload: ByteBuffer(string: "0" + Data("hello\n".utf8).base64EncodedString())))
                var texts: [String] = []
                while let frame = try await c.readFrame(), frame.opcode != .close {
                    if frame.opcode == .text { texts.append(String(buffer: frame.payload)) }
                }
                return texts
            }
            #expect(frames.first == "1", "an empty message opens stdout: \(frames)")
            #expect(frames.contains("1" + Data("[hello]\n".utf8).base64EncodedString()), "\(frames)")
            #expect(frames.last.map { $0.hasPrefix("3") && String(data: Data(base64Encoded: String($0.dropFirst())) ?? Data(), encoding: .utf8) == #"{"metadata":{},"status":"Success"}"# } == true,
                    "\(frames)")

            // kubelet's /run: the words of `cmd` (no shell quoting), the output in the answer; a
            // failure is CRI's message with the command's stderr.
            let run = try await server.send(.POST, "/run/default/web/c?cmd=cat%20/www/index.html")
            #expect(run.status == 200 && run.body == "served\n", "\(run)")
            let failed = try await server.send(.POST, "/run/default/web/c?cmd=ls%20/nothing")
            #expect(failed.status == 500 && failed.body.hasPrefix("command 'ls /nothing' exited with 1: ls: /nothing"), "\(failed)")
            #expect(try await server.send(.GET, "/run/default/web/c?cmd=true").status == 405)
            #expect(try await server.send(.POST, "/run/default/web/c?cmd=true", token: "node-token").status == 403)
        }
        await host.finish()
    }

    @Test func hostileRequestsAndFramesEndOnlyTheirSession() async throws {
        let host = try await RuntimePodHost()
        try await withKubeletServer(host: host, certificateDirectory: host.root.path + "/pki") { server in
            // Errors before the upgrade, with kubelet's statuses and words.
            func refusal(_ path: String, token: String? = "admin-token") async throws -> (Int, String) {
                try await StreamingTestConnection.with(port: server.port) { c in
                    try await c.send(StreamingTestConnection.webSocketRequest(path, protocols: [ChannelProtocol.v5], token: token))
                    let (status, headers) = try await c.readHead()
                    return (status, try await c.readBody(headers))
                }
            }
            #expect(try await refusal(Self.exec(["true"]), token: nil) == (401, "Unauthorized"))
            #expect(try await refusal(Self.exec(["true"]), token: "node-token")
                    == (403, "Forbidden (user=system:node:node-b, verb=get, resource=nodes, subresource=proxy)"))
            #expect(try await refusal("/exec/default/web/c?stdout=1") == (400, "you must specify at least 1 command"))
            #expect(try await refusal("/exec/default/web/c?command=true") == (400, "you must specify at least 1 of stdin, stdout, stderr"))
            #expect(try await refusal("/exec/default/web/c?command=a%00b&stdout=1") == (400, "argument 0 of the command contains a NUL byte"))
            let many = "/exec/default/web/c?" + String(repeating: "command=x&", count: 5000) + "stdout=1"
            #expect(try await refusal(many).0 == 400)
            #expect(try await refusal("/exec/default/ghost/c?command=true&stdout=1") == (404, "pod does not exist"))
            #expect(try await refusal("/exec/default/web/other?command=true&stdout=1") == (500, #"container not found ("other")"#))
            // attach: the same checks before the upgrade.
            #expect(try await refusal("/attach/default/web/c?tty=1") == (400, "you must specify at least 1 of stdin, stdout, stderr"))
            #expect(try await refusal("/attach/default/ghost/c?stdout=1") == (404, "pod does not exist"))
            #expect(try await refusal("/attach/default/web/other?stdout=1") == (500, #"container not found ("other")"#))
            #expect(try await refusal("/attach/default/web/c?stdout=1", token: "node-token").0 == 403)
            // This host's container has no monitor (we are its parent): the session says why.
            let unattachable = try await StreamingTestConnection.with(port: server.port) { c in
                try await c.send(StreamingTestConnection.webSocketRequest("/attach/default/web/c?stdout=1", protocols: [ChannelProtocol.v5]))
                _ = try await c.readHead()
                return try await c.readSession()
            }
            let status = unattachable.text(3) ?? ""
            #expect(status.contains(#""reason":"InternalError""#) && status.contains("error attaching to container: container")
                    && status.contains("has no monitor"), "\(unattachable)")

            // Data for channels nobody reads is ignored; the session goes on.
            let ignored = try await StreamingTestConnection.with(port: server.port) { c in
                try await c.send(StreamingTestConnection.webSocketRequest(Self.exec(["sh", "-c", "read line; echo got $line"], flags: "stdin=1&stdout=1"),
                                                                          protocols: [ChannelProtocol.v4]))
                _ = try await c.readHead()
                try await c.send(channel: 9, "nobody")
                try await c.send(channel: 1, "not yours")
                try await c.send(WebSocketFrame(opcode: .binary, payload: ByteBuffer()))
                try await c.send(channel: 0, "it\n")
                return try await c.readSession()
            }
            #expect(ignored.text(1) == "got it\n", "\(ignored)")

            // A frame announcing 1 GiB: closed with 1009 at once, the command killed.
            let huge = try await StreamingTestConnection.with(port: server.port) { c in
                try await c.send(StreamingTestConnection.webSocketRequest(Self.exec(["sleep", "1000"], flags: "stdin=1&stdout=1"),
                                                                          protocols: [ChannelProtocol.v5]))
                _ = try await c.readHead()
                try await c.outbound.write(ByteBuffer(bytes: [0x82, 0xFF, 0, 0, 0, 0, 0x40, 0, 0, 0, 1, 2, 3, 4]))
                return try await c.readSession()
            }
            #expect(huge.closeCode == WebSocketCloseCode.tooBig, "\(huge)")

            // A terminal: garbage on the resize channel stops resizes, not the session.
            let resized = try await StreamingTestConnection.with(port: server.port) { c in
                try await c.send(StreamingTestConnection.webSocketRequest(Self.exec(["sh", "-c", "read line; stty size; echo $line"],
                                                                                    flags: "stdin=1&stdout=1&tty=1"),
                                                                          protocols: [ChannelProtocol.v5]))
                _ = try await c.readHead()
                try await c.send(channel: 4, #"{"Width":120,"Height":40}"#)
                try await c.send(channel: 4, "garbage {")
                try await c.send(channel: 4, #"{"Width":10,"Height":10}"#)
                try await c.send(channel: 0, "after\r")
                return try await c.readSession()
            }
            #expect(resized.text(1)?.contains("40 120\r\nafter") == true, "\(resized)")
            #expect(resized.text(3) == #"{"metadata":{},"status":"Success"}"#, "\(resized)")
            // The terminal is gone with its session: its /dev/pts entry lives as long as
            // anyone (the agent included) holds its master.
            let pts = try await StreamingTestConnection.with(port: server.port) { c in
                try await c.send(StreamingTestConnection.webSocketRequest(Self.exec(["ls", "/dev/pts"]), protocols: [ChannelProtocol.v5]))
                _ = try await c.readHead()
                return try await c.readSession()
            }
            #expect(pts.text(1) == "ptmx\n", "\(pts)")

            // A client that never reads: the command is held by its full pipe, not buffered.
            let writer = try await StreamingTestConnection.with(port: server.port) { c -> Int in
                try await c.send(StreamingTestConnection.webSocketRequest(Self.exec(["yes"], flags: "stdout=1"), protocols: [ChannelProtocol.v5]))
                _ = try await c.readHead()
                func written() -> Int {
                    let yes = host.containerProcesses().first { (ProcFile.read("/proc/\($0)/comm") ?? "").hasPrefix("yes") } ?? 0
                    let io = ProcFile.read("/proc/\(yes)/io") ?? ""
                    return io.split(separator: "\n").first { $0.hasPrefix("wchar:") }.flatMap { Int($0.dropFirst(6).trimmingCharacters(in: .whitespaces)) } ?? -1
                }
                // Once yes is writing (it may take a while to start on a loaded machine), give
                // an unbounded buffer time to show before reading the count: a load that
                // slows yes can only make this pass, never fail, a correct agent.
                _ = await TestProcess.waitFor(30) { written() > 0 }
                try await Task.sleep(for: .seconds(2))
                return written()
            }
            #expect(writer > 0 && writer < 64 << 20, "yes wrote \(writer) bytes to a client that reads nothing")
        }
        // Every session's command is gone with its connection.
        let left = await TestProcess.waitFor(30) { host.containerProcesses().count == 1 }
        #expect(left, "\(host.containerProcesses())")
        await host.finish()
    }

    @Test func portForwardOverWebSocketChannels() async throws {
        let host = try await RuntimePodHost()
        try await withKubeletServer(host: host, certificateDirectory: host.root.path + "/pki") { server in
            let session = try await StreamingTestConnection.with(port: server.port) { c in
                try await c.send(StreamingTestConnection.webSocketRequest("/portForward/default/web?port=8080&port=9",
                                                                          protocols: [ChannelProtocol.v4]))
                let (status, _) = try await c.readHead()
                #expect(status == 101)
                try await c.send(channel: 0, "GET / HTTP/1.0\r\n\r\n")
                return try await c.readSession()
            }
            // Each channel opens with its port (little-endian); the answer comes on channel 0;
            // the closed port's error names it as kubelet does.
            let data = session.bytes[0] ?? []
            #expect(data.prefix(2) == [0x90, 0x1F] && String(decoding: data.dropFirst(2), as: UTF8.self).hasPrefix("HTTP/1.1 200 OK")
                    && String(decoding: data, as: UTF8.self).hasSuffix("served\n"), "\(session)")
            #expect(session.bytes[1] == [0x90, 0x1F] && session.bytes[2]?.prefix(2) == [9, 0], "\(session)")
            #expect(session.text(3)?.contains("error forwarding port 9 to pod web") == true
                    && session.text(3)?.contains("ECONNREFUSED") == true, "\(session)")
            let missing = try await StreamingTestConnection.with(port: server.port) { c in
                try await c.send(StreamingTestConnection.webSocketRequest("/portForward/default/web?port=0", protocols: [ChannelProtocol.v4]))
                let (status, headers) = try await c.readHead()
                return (status, try await c.readBody(headers))
            }
            #expect(missing == (400, "port \"0\" must be > 0"))
        }
        await host.finish()
    }
}

/// The kubelet's SPDY/3.1 exec with a client that writes frames itself: the session kubectl
/// 1.20-1.30 holds, and frames no client should send (root).
@Suite("Kubelet exec over SPDY (root)", .ownThreads)
struct KubeletSPDYExecTests {
    @Test func execOverSPDYAndHostileFrames() async throws {
        let host = try await RuntimePodHost()
        try await withKubeletServer(host: host, certificateDirectory: host.root.path + "/pki") { server in
            let path = KubeletExecTests.exec(["sh", "-c", "echo out; echo err >&2; exit 2"])
            // A session as kubectl opens it: error, stdout, stderr streams; then the output,
            // each stream's FIN, and the status on the error stream.
            let (status, chosen, byStream) = try await StreamingTestConnection.with(port: server.port) { c in
                try await c.send(StreamingTestConnection.spdyRequest(path, protocols: ["v4.channel.k8s.io", "v3.channel.k8s.io"]))
                let (status, headers) = try await c.readHead()
                let codec = try SPDYHeaderCodec()
                for (id, type) in [(UInt32(1), "error"), (3, "stdout"), (5, "stderr")] {
                    try await c.send(.synStream(streamID: id, associatedTo: 0, priority: 0, fin: false, unidirectional: false,
                                                headerBlock: try codec.encode([("streamType", type)])))
                }
                try await c.send(.ping(id: 1))
                var parser = SPDYFrameParser()
                var data: [UInt32: String] = [:]
                var finished: Set<UInt32> = []
                var replies = 0, pongs = 0
                while finished.count < 3, let frame = try await c.readSPDYFrame(&parser) {
                    switch frame {
                    case .synReply: replies += 1
                    case .ping(1): pongs += 1
                    case .data(let id, let fin, let payload):
                        data[id, default: ""] += String(buffer: payload)
                        if fin { finished.insert(id) }
                    default: break
                    }
                }
                #expect(replies == 3 && pongs == 1)
                return (status, headers["x-stream-protocol-version"], data)
            }
            #expect(status == 101 && chosen == "v4.channel.k8s.io")
            #expect(byStream[3] == "out\n" && byStream[5] == "err\n", "\(byStream)")
            #expect(byStream[1]?.contains(#""reason":"NonZeroExitCode""#) == true && byStream[1]?.contains(#""message":"2""#) == true, "\(byStream)")

            // Protocol negotiation refusals.
            func refusal(_ protocols: [String]) async throws -> (Int, String) {
                try await StreamingTestConnection.with(port: server.port) { c in
                    try await c.send(StreamingTestConnection.spdyRequest(path, protocols: protocols))
                    let (status, headers) = try await c.readHead()
                    return (status, try await c.readBody(headers))
                }
            }
            #expect(try await refusal([]) == (400, "unable to upgrade: X-Stream-Protocol-Version is required"))
            #expect(try await refusal(["v9.channel.k8s.io"]).0 == 403)

            // Hostile frames: an unknown stream type and a server-numbered stream are reset; a
            // header block zlib cannot read, or a 16 MiB data frame, ends the session (GOAWAY).
            let resets = try await StreamingTestConnection.with(port: server.port) { c -> [UInt32] in
                try await c.send(StreamingTestConnection.spdyRequest(KubeletExecTests.exec(["sleep", "1000"], flags: "stdout=1"),
                                                                     protocols: ["v4.channel.k8s.io"]))
                _ = try await c.readHead()
                let codec = try SPDYHeaderCodec()
                try await c.send(.synStream(streamID: 1, associatedTo: 0, priority: 0, fin: false, unidirectional: false,
                                            headerBlock: try codec.encode([("streamType", "bogus")])))
                try await c.send(.synStream(streamID: 2, associatedTo: 0, priority: 0, fin: false, unidirectional: false,
                                            headerBlock: try codec.encode([("streamType", "error")])))
                try await c.send(.synStream(streamID: 3, associatedTo: 0, priority: 0, fin: false, unidirectional: false,
                                            headerBlock: ByteBuffer(bytes: [0x78, 0x9c, 1, 2, 3, 4, 5, 6])))
                var parser = SPDYFrameParser()
                var reset: [UInt32] = []
                while let frame = try await c.readSPDYFrame(&parser) {
                    if case .rstStream(let id, _) = frame { reset.append(id) }
                    if case .goAway = frame { reset.append(0) }
                }
                return reset
            }
            #expect(resets == [1, 2, 0], "\(resets)")
            let huge = try await StreamingTestConnection.with(port: server.port) { c -> Bool in
                try await c.send(StreamingTestConnection.spdyRequest(KubeletExecTests.exec(["sleep", "1000"], flags: "stdout=1"),
                                                                     protocols: ["v4.channel.k8s.io"]))
                _ = try await c.readHead()
                try await c.outbound.write(ByteBuffer(bytes: [0, 0, 0, 1, 0, 0xFF, 0xFF, 0xFF]))
                var parser = SPDYFrameParser()
                var goAway = false
                while let frame = try await c.readSPDYFrame(&parser) {
                    if case .goAway = frame { goAway = true }
                }
                return goAway
            }
            #expect(huge)
        }
        let left = await TestProcess.waitFor(30) { host.containerProcesses().count == 1 }
        #expect(left, "\(host.containerProcesses())")
        await host.finish()
    }
}
