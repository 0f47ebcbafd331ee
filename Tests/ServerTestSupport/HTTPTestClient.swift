import APIMachinery
import APITestSupport
import Foundation
import KubeAPI
#if canImport(Glibc)
import Glibc
#endif

/// A response read by `HTTPTestClient`.
package struct HTTPTestResponse: Sendable {
    package let status: Int
    /// Header names lower-cased.
    package let headers: [String: String]
    package let body: [UInt8]

    package var text: String { String(decoding: body, as: UTF8.self) }

    package func json() throws -> JSONValue {
        try JSONParser.parse(body)
    }
}

/// A deliberately plain HTTP/1.1 client over a TCP socket: exact control of what is sent
/// (odd bodies, huge bodies) and of streamed responses (watches).
package struct HTTPTestClient: Sendable {
    package let port: Int

    package init(port: Int) {
        self.port = port
    }

    /// How long `send` waits for a whole response.
    static let responseTimeoutSeconds = 120

    /// Sends one request and reads the whole response (the connection is closed after it).
    package func send(_ method: String, _ path: String, headers: [String: String] = [:], body: [UInt8] = []) async throws -> HTTPTestResponse {
        let port = self.port
        return try await blocking {
            let socket = try Self.connect(port: port)
            defer { close(socket) }
            // A request answered slowly on a loaded machine is still answered (an etcd-backed
            // list took over 10 s during issue 20's series); this bound only stops a hang.
            var timeout = timeval(tv_sec: Self.responseTimeoutSeconds, tv_usec: 0)
            setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            try Self.write(socket, Self.head(method, path, headers: headers, bodyLength: body.count, close: true) + body)
            var data: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 65536)
            while true {
                let count = recv(socket, &buffer, buffer.count, 0)
                if count < 0, errno == EAGAIN || errno == EWOULDBLOCK {
                    throw TestFailure("\(method) \(path): no complete response within \(Self.responseTimeoutSeconds) s (\(data.count) bytes)")
                }
                if count <= 0 { break }
                data.append(contentsOf: buffer[0..<count])
            }
            return try Self.parse(data)
        }
    }

    /// `send` with a JSON body.
    package func send(_ method: String, _ path: String, json: JSONValue, contentType: String = "application/json") async throws -> HTTPTestResponse {
        try await send(method, path, headers: ["Content-Type": contentType], body: JSONSerializer.serialize(json))
    }

    /// Opens a streamed GET (a watch) and returns a reader of its body lines.
    package func stream(_ path: String, headers: [String: String] = [:]) async throws -> LineStream {
        let port = self.port
        return try await blocking {
            let socket = try Self.connect(port: port)
            do {
                try Self.write(socket, Self.head("GET", path, headers: headers, bodyLength: 0, close: false))
                return try LineStream(socket: socket)
            } catch {
                close(socket)
                throw error
            }
        }
    }

    package static func head(_ method: String, _ path: String, headers: [String: String], bodyLength: Int, close: Bool) -> [UInt8] {
        var text = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        for (name, value) in headers { text += "\(name): \(value)\r\n" }
        if bodyLength > 0 || method == "POST" || method == "PUT" || method == "PATCH" {
            text += "Content-Length: \(bodyLength)\r\n"
        }
        if close { text += "Connection: close\r\n" }
        return Array((text + "\r\n").utf8)
    }

    package static func connect(port: Int) throws -> Int32 {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { throw TestFailure("socket: errno \(errno)") }
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else {
            close(socket)
            throw TestFailure("connect to 127.0.0.1:\(port): errno \(errno)")
        }
        return socket
    }

    package static func write(_ socket: Int32, _ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { Glibc.send(socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            // The server may answer (413) and close before reading everything: stop sending.
            guard written > 0 else { return }
            offset += written
        }
    }

    package static func parse(_ data: [UInt8]) throws -> HTTPTestResponse {
        guard let end = headEnd(data) else { throw TestFailure("no HTTP response head in \(data.count) bytes") }
        let head = String(decoding: data[0..<end], as: UTF8.self)
        var lines = head.components(separatedBy: "\r\n")
        let statusLine = lines.removeFirst().split(separator: " ")
        guard statusLine.count >= 2, let status = Int(statusLine[1]) else { throw TestFailure("bad status line in \(head)") }
        var headers: [String: String] = [:]
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        var body = Array(data[(end + 4)...])
        if headers["transfer-encoding"]?.lowercased() == "chunked" {
            body = dechunk(body)
        }
        return HTTPTestResponse(status: status, headers: headers, body: body)
    }

    package static func headEnd(_ data: [UInt8]) -> Int? {
        guard data.count >= 4 else { return nil }
        for index in 0...(data.count - 4) where data[index] == 13 && data[index + 1] == 10 && data[index + 2] == 13 && data[index + 3] == 10 {
            return index
        }
        return nil
    }

    package static func dechunk(_ data: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        var index = 0
        while index < data.count {
            guard let lineEnd = (index..<data.count - 1).first(where: { data[$0] == 13 && data[$0 + 1] == 10 }) else { break }
            let sizeText = String(decoding: data[index..<lineEnd], as: UTF8.self).split(separator: ";").first.map(String.init) ?? ""
            guard let size = Int(sizeText, radix: 16), size > 0 else { break }
            let start = lineEnd + 2
            out.append(contentsOf: data[start..<min(start + size, data.count)])
            index = start + size + 2
        }
        return out
    }
}
