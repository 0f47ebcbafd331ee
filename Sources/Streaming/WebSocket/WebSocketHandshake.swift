import Crypto
import Foundation
import NIOHTTP1

/// The server side of the WebSocket opening handshake (RFC 6455 §4.2) with Kubernetes'
/// subprotocol choice (k8s.io/apiserver/pkg/util/wsstream/conn.go `handshake`): the first
/// protocol in the client's order that the server supports; a client that offers none gets
/// the server's unnamed protocol when it has one ("" in kubelet's table: binary channels).
public enum WebSocketHandshake {
    static let guid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

    /// `Sec-WebSocket-Accept` for a client's key.
    public static func accept(key: String) -> String {
        Data(Insecure.SHA1.hash(data: Data((key + guid).utf8))).base64EncodedString()
    }

    /// The handshake's answer: the headers of the 101 (besides Connection and Upgrade) and the
    /// protocol chosen, or the refusal to send instead.
    public static func negotiate(_ request: UpgradeRequest, supported: [String],
                                 allowUnnamed: Bool) -> Result<(headers: [(String, String)], protocol: String), UpgradeRefusal> {
        guard request.head.method == .GET else {
            return .failure(UpgradeRefusal(status: 405, text: "a WebSocket handshake must be a GET request, not \(request.head.method.rawValue)"))
        }
        let version = request.head.headers["Sec-WebSocket-Version"].first?.trimmingCharacters(in: .whitespaces) ?? ""
        guard version == "13" else {
            // RFC 6455 §4.4: 426 with the versions the server speaks.
            return .failure(UpgradeRefusal(status: 426, body: Array("Sec-WebSocket-Version \"\(version)\" is not supported: this server speaks version 13".utf8),
                                           headers: [("Sec-WebSocket-Version", "13")]))
        }
        let key = request.head.headers["Sec-WebSocket-Key"].first?.trimmingCharacters(in: .whitespaces) ?? ""
        guard let decoded = Data(base64Encoded: key), decoded.count == 16 else {
            return .failure(UpgradeRefusal(status: 400, text: "Sec-WebSocket-Key must be 16 bytes in base64, got \"\(key.prefix(64))\""))
        }
        let offered = request.headerValues("Sec-WebSocket-Protocol")
        var headers: [(String, String)] = [("Sec-WebSocket-Accept", accept(key: key))]
        if offered.isEmpty {
            guard allowUnnamed else {
                return .failure(UpgradeRefusal(status: 400, text: "no subprotocol requested; this endpoint supports \(supported)"))
            }
            return .success((headers, ""))
        }
        guard let chosen = offered.first(where: { supported.contains($0) }) else {
            return .failure(UpgradeRefusal(status: 403, text: "requested protocol(s) are not supported: \(offered); supports \(supported)"))
        }
        headers.append(("Sec-WebSocket-Protocol", chosen))
        return .success((headers, chosen))
    }
}
