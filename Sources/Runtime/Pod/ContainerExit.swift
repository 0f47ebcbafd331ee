import Foundation

/// How a container ended, in Kubernetes' terms (ContainerStateTerminated).
public struct ContainerExit: Sendable, Equatable {
    public var exitCode: Int32
    public var signal: Int32?
    /// "Completed", "Error" or "OOMKilled", as kubelet reports them.
    public var reason: String
    /// Why, in words, when there is more to say than the reason (a start error's message).
    public var message: String?
    public var startedAt: Date
    public var finishedAt: Date

    public init(status: ExitStatus, oomKilled: Bool, startedAt: Date, finishedAt: Date) {
        exitCode = status.exitCode
        signal = status.signal
        if oomKilled {
            reason = "OOMKilled"
        } else {
            reason = status.exitCode == 0 ? "Completed" : "Error"
        }
        self.startedAt = startedAt
        self.finishedAt = finishedAt
    }
}

extension ContainerExit {
    /// A container whose end nobody recorded (its monitor was killed, or the node rebooted):
    /// kubelet reports these as `ContainerStatusUnknown` with exit code 137.
    static func lost(startedAt: Date) -> ContainerExit {
        var exit = ContainerExit(status: ExitStatus(code: nil, signal: 9), oomKilled: false, startedAt: startedAt, finishedAt: Date())
        exit.reason = "ContainerStatusUnknown"
        return exit
    }
}
