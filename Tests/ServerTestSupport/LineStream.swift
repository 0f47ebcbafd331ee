import APIMachinery
import APITestSupport
import Foundation
import KubeAPI
#if canImport(Glibc)
import Glibc
#endif

/// Lines of a streamed chunked response, read as they arrive.
package final class LineStream: @unchecked Sendable {
    private let socket: Int32
    private var raw: [UInt8] = []
    private var body: [UInt8] = []
    package let status: Int
    private var closed = false

    /// Reads the response head.
    package init(socket: Int32) throws {
        self.socket = socket
        var buffer = [UInt8](repeating: 0, count: 65536)
        while HTTPTestClient.headEnd(raw) == nil {
            let count = recv(socket, &buffer, buffer.count, 0)
            guard count > 0 else { throw TestFailure("the stream closed before its head") }
            raw.append(contentsOf: buffer[0..<count])
        }
        let end = HTTPTestClient.headEnd(raw) ?? 0
        let statusLine = String(decoding: raw[0..<end], as: UTF8.self).split(separator: " ")
        status = statusLine.count > 1 ? Int(statusLine[1]) ?? 0 : 0
        raw = Array(raw[(end + 4)...])
    }

    deinit {
        close(socket)
    }

    /// The next body line, or nil when the stream ends or nothing comes within the socket timeout.
    package func nextLine() -> String? {
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            decodeChunks()
            if let newline = body.firstIndex(of: 10) {
                let line = String(decoding: body[0..<newline], as: UTF8.self)
                body.removeFirst(newline + 1)
                return line
            }
            if closed { return nil }
            let count = recv(socket, &buffer, buffer.count, 0)
            if count <= 0 {
                closed = true
                continue
            }
            raw.append(contentsOf: buffer[0..<count])
        }
    }

    /// The next line parsed as a watch event.
    package func nextEvent() async throws -> (type: String, object: JSONValue)? {
        let line = try await blocking { [self] in self.nextLine() }
        guard let line else { return nil }
        let value = try JSONParser.parse(Array(line.utf8))
        return (value["type"]?.stringValue ?? "", value["object"] ?? .null)
    }

    private func decodeChunks() {
        while let lineEnd = (0..<max(raw.count - 1, 0)).first(where: { raw[$0] == 13 && raw[$0 + 1] == 10 }) {
            let sizeText = String(decoding: raw[0..<lineEnd], as: UTF8.self)
            guard let size = Int(sizeText, radix: 16) else { closed = true; return }
            if size == 0 {
                closed = true
                raw.removeAll()
                return
            }
            guard raw.count >= lineEnd + 2 + size + 2 else { return }
            body.append(contentsOf: raw[(lineEnd + 2)..<(lineEnd + 2 + size)])
            raw.removeFirst(lineEnd + 2 + size + 2)
        }
    }
}
