/// Kubernetes' WebSocket channel protocols (k8s.io/apiserver/pkg/util/wsstream,
/// k8s.io/apimachinery/pkg/util/remotecommand): every message starts with its channel's number,
/// a byte (binary protocols) or an ASCII digit followed by base64 data (text protocols). The
/// remote command channels are stdin 0, stdout 1, stderr 2, error 3 and resize 4; port-forward
/// has a data and an error channel per port (2n and 2n+1). v5 adds a close signal: a message
/// `255, n` says that channel n is done (stdin's EOF).
public enum ChannelProtocol {
    public static let v5 = "v5.channel.k8s.io"
    public static let v4 = "v4.channel.k8s.io"
    public static let v4Base64 = "v4.base64.channel.k8s.io"
    public static let v1 = "channel.k8s.io"
    public static let v1Base64 = "base64.channel.k8s.io"
    /// kubectl 1.31+ port-forward: SPDY/3.1 carried in binary WebSocket messages
    /// (client-go tools/portforward tunneling_connection.go).
    public static let portForwardTunnel = "SPDY/3.1+portforward.k8s.io"

    /// What kubelet accepts for exec and attach (remotecommand/websocket.go), with v5 first
    /// (the API server translates v5 for kubelet; ours serves it directly). "" is a client that
    /// named no protocol: binary channels, the oldest status format.
    public static let remoteCommand = [v5, v4, v4Base64, v1, v1Base64]
    /// What kubelet accepts for port-forward (portforward/websocket.go), and the tunnel.
    public static let portForward = [portForwardTunnel, v4, v4Base64, v1, v1Base64]

    public static let stdin: UInt8 = 0
    public static let stdout: UInt8 = 1
    public static let stderr: UInt8 = 2
    public static let error: UInt8 = 3
    public static let resize: UInt8 = 4
    /// The v5 close signal's first byte.
    public static let close: UInt8 = 255

    /// Text frames with base64 data instead of binary frames.
    public static func isBase64(_ name: String) -> Bool { name.contains("base64") }
    /// Channels can be closed one by one (v5).
    public static func supportsClose(_ name: String) -> Bool { name == v5 }
    /// The error channel carries a JSON Status (v4 and v5), not plain text.
    public static func writesStatusJSON(_ name: String) -> Bool { name == v5 || name == v4 || name == v4Base64 }
}
