import Foundation
import KubeAPI
import Logging
import NIOCore
import Runtime
import Streaming

/// kubelet's streaming endpoints, as the API server reaches them (pkg/kubelet/server/server.go
/// getExec/getAttach/getPortForward, with the CRI streaming server of
/// pkg/kubelet/cri/streaming behind):
/// - `/exec/{namespace}/{pod}[/{uid}]/{container}?command=..&stdin=1&stdout=1&stderr=1&tty=1`
/// - `/attach/{namespace}/{pod}[/{uid}]/{container}?stdin=1&stdout=1&stderr=1&tty=1` (the
///   container's own stdio, through its monitor's attach socket)
/// - `/portForward/{namespace}/{pod}[/{uid}]` (`?port=` for the WebSocket protocol)
/// over WebSocket (`ChannelProtocol`) or SPDY/3.1 (`SPDYSession`). Errors before the upgrade are
/// kubelet's: 400 for bad options, 404 `pod does not exist`, 500 `container not found ("c")`.
struct KubeletStreaming: Sendable {
    static let endpoints: Set<String> = ["exec", "attach", "portForward"]
    /// The most arguments and bytes of arguments an exec may have (Linux's ARG_MAX is 2 MiB
    /// with the environment; a command line longer than this is an attack, not a command).
    static let maxArguments = 4096
    static let maxCommandBytes = 256 * 1024

    let host: any KubeletHost
    let gate: KubeletGate
    let logger: Logger

    enum Route: Equatable {
        case exec(namespace: String, pod: String, uid: String?, container: String)
        case attach(namespace: String, pod: String, uid: String?, container: String)
        case portForward(namespace: String, pod: String, uid: String?)
    }

    /// The streaming route of a path, or nil for any other path.
    static func route(_ path: String) -> Route? {
        var parts = path.split(separator: "/", omittingEmptySubsequences: false).dropFirst().map {
            String($0).removingPercentEncoding ?? String($0)
        }
        if parts.count > 1, parts.last == "" { parts.removeLast() }
        guard let first = parts.first, endpoints.contains(first), !parts.dropFirst().contains("") else { return nil }
        switch (first, parts.count) {
        case ("exec", 4): return .exec(namespace: parts[1], pod: parts[2], uid: nil, container: parts[3])
        case ("exec", 5): return .exec(namespace: parts[1], pod: parts[2], uid: parts[3], container: parts[4])
        case ("attach", 4): return .attach(namespace: parts[1], pod: parts[2], uid: nil, container: parts[3])
        case ("attach", 5): return .attach(namespace: parts[1], pod: parts[2], uid: parts[3], container: parts[4])
        case ("portForward", 3): return .portForward(namespace: parts[1], pod: parts[2], uid: nil)
        case ("portForward", 4): return .portForward(namespace: parts[1], pod: parts[2], uid: parts[3])
        default: return nil
        }
    }

    /// The upgrade decision for a request (`UpgradableHTTPChannel`).
    func decide(_ request: UpgradeRequest) async -> UpgradeDecision {
        guard let route = Self.route(request.path) else { return .pass }
        guard request.head.method == .GET || request.head.method == .POST else {
            return .refuse(UpgradeRefusal(status: 405, text: "Method Not Allowed"))
        }
        if case .failure(let refusal) = await gate.check(authorization: request.head.headers["Authorization"].first,
                                                         method: request.head.method.rawValue, path: request.path) {
            return .refuse(refusal)
        }
        guard let streaming = host.streaming else {
            return .refuse(UpgradeRefusal(status: 404, text: "this node serves no streaming requests"))
        }
        let query = URLQuery.parseAll(request.query)
        switch route {
        case .exec(let namespace, let pod, let uid, let container):
            return await exec(request, query: query, streaming: streaming, namespace: namespace, pod: pod, uid: uid, container: container)
        case .attach(let namespace, let pod, let uid, let container):
            return await attach(request, query: query, streaming: streaming, namespace: namespace, pod: pod, uid: uid, container: container)
        case .portForward(let namespace, let pod, let uid):
            return await portForward(request, query: query, streaming: streaming, namespace: namespace, pod: pod, uid: uid)
        }
    }

    /// The command of an exec: every `command` parameter, in order.
    static func command(_ query: [(name: String, value: String)]) -> Result<[String], UpgradeRefusal> {
        let command = query.filter { $0.name == "command" }.map(\.value)
        guard !command.isEmpty else {
            return .failure(UpgradeRefusal(status: 400, text: "you must specify at least 1 command"))
        }
        guard command.count <= maxArguments else {
            return .failure(UpgradeRefusal(status: 400, text: "the command has \(command.count) arguments; at most \(maxArguments) are allowed"))
        }
        let bytes = command.reduce(0) { $0 + $1.utf8.count + 1 }
        guard bytes <= maxCommandBytes else {
            return .failure(UpgradeRefusal(status: 400, text: "the command is \(bytes) bytes long; at most \(maxCommandBytes) are allowed"))
        }
        if let index = command.firstIndex(where: { $0.utf8.contains(0) }) {
            return .failure(UpgradeRefusal(status: 400, text: "argument \(index) of the command contains a NUL byte"))
        }
        return .success(command)
    }

    private func exec(_ request: UpgradeRequest, query: [(name: String, value: String)], streaming: any ContainerStreaming,
                      namespace: String, pod: String, uid: String?, container: String) async -> UpgradeDecision {
        let options: RemoteCommandOptions
        switch RemoteCommandOptions.parse(query) {
        case .success(let parsed): options = parsed
        case .failure(let refusal): return .refuse(refusal)
        }
        let command: [String]
        switch Self.command(query) {
        case .success(let parsed): command = parsed
        case .failure(let refusal): return .refuse(refusal)
        }
        let target: any ExecTarget
        switch Self.found(await streaming.execTarget(namespace: namespace, pod: pod, uid: uid, container: container), container: container) {
        case .success(let found): target = found
        case .failure(let refusal): return .refuse(refusal)
        }
        let session = ExecSession(command: command, logger: logger)
        let start: @Sendable (ExecStdio) throws -> ExecProcess = { stdio in try target.start(command, stdio: stdio) }
        return Self.upgrade(request, options: options) { streams in await session.run(streams, start: start) }
    }

    private func attach(_ request: UpgradeRequest, query: [(name: String, value: String)], streaming: any ContainerStreaming,
                        namespace: String, pod: String, uid: String?, container: String) async -> UpgradeDecision {
        let asked: RemoteCommandOptions
        switch RemoteCommandOptions.parse(query) {
        case .success(let parsed): asked = parsed
        case .failure(let refusal): return .refuse(refusal)
        }
        let target: any AttachTarget
        switch Self.found(await streaming.attachTarget(namespace: namespace, pod: pod, uid: uid, container: container), container: container) {
        case .success(let found): target = found
        case .failure(let refusal): return .refuse(refusal)
        }
        // kubelet's GetAttach: the terminal is the container spec's, whatever the client asked
        // (kubectl has already matched it, or warned "Unable to use a TTY"). A terminal has no
        // separate stderr: CRI's validateAttachRequest refuses both, and kubelet answers 500
        // with the runtime's words (kubectl -it with a piped stdin drops -t and asks for stderr).
        if target.tty && asked.stderr {
            return .refuse(UpgradeRefusal(status: 500, text: "tty and stderr cannot both be true"))
        }
        let options = RemoteCommandOptions(stdin: asked.stdin, stdout: asked.stdout,
                                           stderr: asked.stderr, tty: target.tty)
        let session = AttachSession(container: container, containerStdin: target.stdin, logger: logger)
        let connect: @Sendable () throws -> Int32 = { try target.connect() }
        return Self.upgrade(request, options: options) { streams in await session.run(streams, connect: connect) }
    }

    /// kubelet's answers for a lookup that found nothing: 404 `pod does not exist`, 500
    /// `container not found ("c")`.
    static func found<Target>(_ lookup: StreamingLookupResult<Target>, container: String) -> Result<Target, UpgradeRefusal> {
        switch lookup {
        case .found(let found): return .success(found)
        case .podNotFound: return .failure(UpgradeRefusal(status: 404, text: "pod does not exist"))
        case .notRunning: return .failure(UpgradeRefusal(status: 500, text: "container not found (\"\(container)\")"))
        }
    }

    /// The remote-command upgrade exec and attach share: WebSocket (v4/v5 channels) or SPDY/3.1,
    /// then `run` with the streams.
    static func upgrade(_ request: UpgradeRequest, options: RemoteCommandOptions,
                        run: @escaping @Sendable (any RemoteCommandStreams) async -> Void) -> UpgradeDecision {
        switch request.upgradeProtocol {
        case "websocket":
            switch WebSocketHandshake.negotiate(request, supported: ChannelProtocol.remoteCommand, allowUnnamed: true) {
            case .failure(let refusal):
                return .refuse(refusal)
            case .success(let (headers, protocolName)):
                return .accept(headers: headers) { connection in
                    let channels = ChannelConnection(socket: WebSocketConnection(connection), protocolName: protocolName)
                    let streams = WebSocketRemoteCommand(connection: channels, options: options)
                    try await streams.start()
                    await run(streams)
                }
            }
        default:
            return SPDYRemoteCommand.upgrade(request, options: options) { streams in await run(streams) }
        }
    }

    private func portForward(_ request: UpgradeRequest, query: [(name: String, value: String)], streaming: any ContainerStreaming,
                             namespace: String, pod: String, uid: String?) async -> UpgradeDecision {
        let target: any PortForwardTarget
        switch await streaming.portForwardTarget(namespace: namespace, pod: pod, uid: uid) {
        case .found(let found): target = found
        case .podNotFound: return .refuse(UpgradeRefusal(status: 404, text: "pod does not exist"))
        case .notRunning: return .refuse(UpgradeRefusal(status: 500, text: "pod \(pod.debugDescription) is not running"))
        }
        let forwarder = PortForwarder(pod: pod, uid: uid ?? "", target: target, logger: logger)
        switch request.upgradeProtocol {
        case "websocket":
            switch WebSocketHandshake.negotiate(request, supported: ChannelProtocol.portForward, allowUnnamed: true) {
            case .failure(let refusal):
                return .refuse(refusal)
            case .success(let (headers, protocolName)) where protocolName == ChannelProtocol.portForwardTunnel:
                // kubectl 1.31+: SPDY inside the WebSocket's binary messages.
                return .accept(headers: headers) { connection in
                    let socket = WebSocketConnection(connection)
                    await forwarder.serveSPDY(SPDYTransport.tunnel(socket))
                }
            case .success(let (headers, protocolName)):
                let ports: [UInt16]
                switch PortForwarder.ports(query) {
                case .success(let parsed): ports = parsed
                case .failure(let refusal): return .refuse(refusal)
                }
                return .accept(headers: headers) { connection in
                    let channels = ChannelConnection(socket: WebSocketConnection(connection), protocolName: protocolName)
                    await forwarder.serveWebSocket(channels, ports: ports)
                }
            }
        default:
            return SPDYSession.upgrade(request, protocols: [SPDYSession.portForwardProtocol]) { transport, _ in
                await forwarder.serveSPDY(transport)
            }
        }
    }
}
