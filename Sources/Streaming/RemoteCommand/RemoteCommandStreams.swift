import NIOCore

/// What the client asked for in an exec or attach (kubelet's remotecommand `Options`, read from
/// `?stdin=1&stdout=1&stderr=1&tty=1`; with a terminal there is no separate stderr).
public struct RemoteCommandOptions: Sendable, Equatable {
    public var stdin: Bool
    public var stdout: Bool
    public var stderr: Bool
    public var tty: Bool

    public init(stdin: Bool, stdout: Bool, stderr: Bool, tty: Bool) {
        self.stdin = stdin
        self.stdout = stdout
        self.stderr = stderr && !tty
        self.tty = tty
    }

    /// kubelet's `NewOptions`: each flag is on when its parameter is exactly "1"; stderr is
    /// dropped with a terminal; at least one stream must be asked for.
    public static func parse(_ query: [(name: String, value: String)]) -> Result<RemoteCommandOptions, UpgradeRefusal> {
        func flag(_ name: String) -> Bool { query.first { $0.name == name }?.value == "1" }
        let options = RemoteCommandOptions(stdin: flag("stdin"), stdout: flag("stdout"), stderr: flag("stderr"), tty: flag("tty"))
        guard options.stdin || options.stdout || options.stderr else {
            return .failure(UpgradeRefusal(status: 400, text: "you must specify at least 1 of stdin, stdout, stderr"))
        }
        return .success(options)
    }
}

/// An output stream of the command.
public enum RemoteCommandOutput: Sendable {
    case stdout, stderr
}

/// What the client sends during a session.
public enum RemoteCommandInput: Sendable, Equatable {
    case stdin(ByteBuffer)
    /// The client's stdin ended (SPDY: the stream's FIN; WebSocket v5: a close of channel 0).
    case stdinClosed
    case resize(RemoteTerminalSize)
}

/// The client's end of one exec or attach, whatever carries it: WebSocket channels or SPDY
/// streams (kubelet's remotecommand `remoteContext`).
public protocol RemoteCommandStreams: Sendable {
    var options: RemoteCommandOptions { get }
    /// Sends command output; waits while the client does not read.
    func write(_ output: RemoteCommandOutput, _ bytes: ByteBuffer) async throws
    /// Says that `output` has ended, where the protocol can.
    func finish(_ output: RemoteCommandOutput) async
    /// Sends the final status and ends the session (what is left of the input is not read).
    func finish(status: RemoteCommandStatus) async
    /// Delivers the client's input until the client ends the session (returns) or the
    /// connection fails (throws).
    func readInput(_ handler: @Sendable (RemoteCommandInput) async throws -> Void) async throws
}
