import Logging
import NIOCore
import Synchronization

/// An exec or attach over SPDY/3.1, as kubelet serves kubectl 1.20-1.30
/// (pkg/kubelet/cri/streaming/remotecommand/httpstream.go): the client opens one stream per
/// channel, named by its `streamType` header (error, stdin, stdout, stderr, and resize with a
/// terminal from v3 on); the server waits for all of them (30 s, kubelet's stream creation
/// timeout), then writes output on stdout/stderr, half-closes them at their end, and writes
/// the status on the error stream before closing it.
public final class SPDYRemoteCommand: RemoteCommandStreams {
    public static let protocols = ["v4.channel.k8s.io", "v3.channel.k8s.io", "v2.channel.k8s.io", "channel.k8s.io"]
    static let creationTimeout: Duration = .seconds(30)

    public let options: RemoteCommandOptions
    let protocolName: String
    let session: SPDYSession
    let error: SPDYStream
    let stdin: SPDYStream?
    let stdout: SPDYStream?
    let stderr: SPDYStream?
    let resize: SPDYStream?
    let ended: OneShot

    init(options: RemoteCommandOptions, protocolName: String, session: SPDYSession, streams: [String: SPDYStream], ended: OneShot) throws {
        guard let error = streams["error"] else { throw SPDYProtocolError("no error stream") }
        self.options = options
        self.protocolName = protocolName
        self.session = session
        self.error = error
        stdin = streams["stdin"]
        stdout = streams["stdout"]
        stderr = streams["stderr"]
        resize = streams["resize"]
        self.ended = ended
        // The client writes nothing the server reads on these.
        for stream in [error, stdout, stderr].compactMap({ $0 }) { stream.discardInput() }
    }

    /// The upgrade for an exec or attach: the streams are gathered, then `run` gets them.
    public static func upgrade(_ request: UpgradeRequest, options: RemoteCommandOptions, logger: Logger = Logger(label: "swiftlet.streaming"),
                               run: @escaping @Sendable (SPDYRemoteCommand) async -> Void) -> UpgradeDecision {
        SPDYSession.upgrade(request, protocols: protocols) { transport, chosen in
            guard let session = try? SPDYSession(transport: transport, logger: logger) else { return }
            // kubelet's count: error, each stream asked for, resize with a terminal (v3+).
            var expected = 1 + [options.stdin, options.stdout, options.stderr].filter { $0 }.count
            if options.tty && (chosen == "v4.channel.k8s.io" || chosen == "v3.channel.k8s.io") { expected += 1 }
            let collector = StreamCollector(expected: expected)
            let ended = OneShot()
            await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    await session.run { stream in
                        guard await collector.offer(stream) else {
                            await stream.reset(status: SPDYFrame.Status.refusedStream)
                            return
                        }
                        try? await session.accept(stream)
                    }
                    await collector.fail()
                    ended.signal()
                }
                group.addTask {
                    try? await Task.sleep(for: creationTimeout)
                    await collector.fail()
                }
                guard let streams = await collector.wait(),
                      let remote = try? SPDYRemoteCommand(options: options, protocolName: chosen, session: session,
                                                          streams: streams, ended: ended) else {
                    logger.debug("SPDY exec: the client did not open its streams")
                    await session.goAway()
                    group.cancelAll()
                    return
                }
                await run(remote)
                await session.goAway()
                // The client closes once it has the status; one that does not is not waited for.
                group.addTask { try? await Task.sleep(for: .seconds(2)) }
                await ended.wait(orAnyOf: &group)
                group.cancelAll()
            }
        }
    }

    public func write(_ output: RemoteCommandOutput, _ bytes: ByteBuffer) async throws {
        guard let stream = output == .stdout ? stdout : stderr else { return }
        try await stream.write(bytes)
    }

    public func finish(_ output: RemoteCommandOutput) async {
        await (output == .stdout ? stdout : stderr)?.close()
    }

    public func finish(status: RemoteCommandStatus) async {
        let bytes = protocolName == "v4.channel.k8s.io" ? status.json : status.text
        if !bytes.isEmpty { try? await error.write(ByteBuffer(bytes: bytes)) }
        await error.close()
        await stdout?.close()
        await stderr?.close()
    }

    public func readInput(_ handler: @Sendable (RemoteCommandInput) async throws -> Void) async throws {
        try await withoutActuallyEscaping(handler) { handler in
            try await withThrowingTaskGroup(of: Void.self) { group in
                if let stdin {
                    group.addTask {
                        while let bytes = await stdin.read() { try await handler(.stdin(bytes)) }
                        try await handler(.stdinClosed)
                    }
                }
                if let resize, options.tty {
                    group.addTask {
                        var decoder = TerminalSizeDecoder()
                        while let bytes = await resize.read() {
                            // kubelet stops reading resizes at the first bad one.
                            guard let sizes = try? decoder.feed(bytes) else { resize.discardInput(); return }
                            for size in sizes { try await handler(.resize(size)) }
                        }
                    }
                } else {
                    resize?.discardInput()
                }
                // The input is over when the client ends the connection, not at stdin's end.
                group.addTask { await self.ended.wait() }
                while let _ = try await group.next() {
                    if ended.isSignalled { break }
                }
                group.cancelAll()
            }
        }
    }
}

/// Gathers the streams of an exec by their `streamType` until all expected have come.
actor StreamCollector {
    let expected: Int
    private var streams: [String: SPDYStream] = [:]
    private var waiter: CheckedContinuation<[String: SPDYStream]?, Never>?
    private var done = false

    init(expected: Int) {
        self.expected = expected
    }

    /// Takes a stream; false when it cannot be part of the session (unknown or repeated type).
    func offer(_ stream: SPDYStream) -> Bool {
        guard !done, let type = stream.header("streamType"), ["error", "stdin", "stdout", "stderr", "resize"].contains(type),
              streams[type] == nil else { return false }
        streams[type] = stream
        if streams.count == expected { finish(streams) }
        return true
    }

    func fail() { finish(nil) }

    func wait() async -> [String: SPDYStream]? {
        if done { return streams.count == expected ? streams : nil }
        return await withCheckedContinuation { waiter = $0 }
    }

    private func finish(_ result: [String: SPDYStream]?) {
        guard !done else { return }
        done = true
        if result == nil { streams = [:] }
        waiter?.resume(returning: result)
        waiter = nil
    }
}
