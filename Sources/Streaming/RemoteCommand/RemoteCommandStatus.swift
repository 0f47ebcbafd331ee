import Foundation

/// How an exec or attach ended, as kubelet's remotecommand server reports it on the error
/// stream (pkg/kubelet/cri/streaming/remotecommand/exec.go, `v4WriteStatusFunc`): a
/// `metav1.Status`, Success, or Failure with reason `NonZeroExitCode` and the code in a cause
/// of type `ExitCode`, which kubectl turns into its own exit code; anything else is an
/// `InternalError` kubectl prints as `error: Internal error occurred: ...`.
public enum RemoteCommandStatus: Sendable, Equatable {
    case success
    /// The command ended with this code (128 + n for signal n, as containerd reports it).
    case exitCode(Int32, command: [String])
    case internalError(String)

    struct Cause: Encodable {
        var reason: String?
        var message: String
    }

    struct Details: Encodable {
        var causes: [Cause]
    }

    struct Status: Encodable {
        var metadata: [String: String] = [:]
        var status: String
        var message: String?
        var reason: String?
        var details: Details?
        var code: Int?
    }

    var status: Status {
        switch self {
        case .success:
            return Status(status: "Success")
        case .exitCode(let code, let command):
            // containerd's CRI exec error text, which kubelet quotes in the message.
            let words = "[" + command.joined(separator: " ") + "]"
            return Status(status: "Failure",
                          message: "command terminated with non-zero exit code: error executing command \(words), exit code \(code)",
                          reason: "NonZeroExitCode",
                          details: Details(causes: [Cause(reason: "ExitCode", message: String(code))]))
        case .internalError(let text):
            return Status(status: "Failure", message: "Internal error occurred: \(text)", reason: "InternalError",
                          details: Details(causes: [Cause(message: text)]), code: 500)
        }
    }

    /// The JSON of the v4 and v5 protocols.
    public var json: [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? Array(encoder.encode(status))) ?? Array(#"{"metadata":{},"status":"Failure"}"#.utf8)
    }

    /// What the older protocols (channel.k8s.io, SPDY v1-v3) write: the message of a failure,
    /// nothing for a success (`v1WriteStatusFunc`).
    public var text: [UInt8] {
        self == .success ? [] : Array((status.message ?? "").utf8)
    }

    /// The status for an exit: Success for 0, NonZeroExitCode otherwise.
    public static func exit(code: Int32, command: [String]) -> RemoteCommandStatus {
        code == 0 ? .success : .exitCode(code, command: command)
    }
}
