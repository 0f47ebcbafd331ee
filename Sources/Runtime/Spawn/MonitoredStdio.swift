/// A monitored container's own stdio (kubelet's container `stdin`, `stdinOnce`, `tty`).
public struct MonitoredStdio: Sendable, Equatable {
    /// The name of the attach socket in a container's directory (`SL_ATTACH_SOCKET_NAME`).
    public static let attachSocketName = "attach"
    /// The container runs on a terminal of its own (stdin, stdout, stderr, controlling terminal).
    public var tty = false
    /// Its stdin is a pipe the monitor writes attach clients' input to (else /dev/null).
    public var stdin = false
    /// The first attach client that sent input closes the container's stdin when it leaves.
    public var stdinOnce = false
    /// Where the monitor's attach socket goes (the container's directory); nil for none.
    public var attachDirectory: String?

    public init(tty: Bool = false, stdin: Bool = false, stdinOnce: Bool = false, attachDirectory: String? = nil) {
        self.tty = tty
        self.stdin = stdin
        self.stdinOnce = stdinOnce
        self.attachDirectory = attachDirectory
    }
}
