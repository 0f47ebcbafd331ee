import Foundation
import Glibc

/// kubelet's healthz endpoint (127.0.0.1:10248/healthz): "ok" with 200 while the sync loop is
/// alive, 500 when it has not completed an iteration for too long (kubelet's
/// "syncloop" check). A few lines of HTTP/1.1 over a socket: it answers curl and kubelet-style
/// checkers, nothing more, and keeps the agent free of a server framework.
final class HealthzServer: @unchecked Sendable {
    private let fd: Int32
    private let lastLoop: @Sendable () -> Date
    private let maxLoopAge: TimeInterval
    let port: UInt16

    init(address: String, port: UInt16, maxLoopAge: TimeInterval, lastLoop: @escaping @Sendable () -> Date) throws {
        self.lastLoop = lastLoop
        self.maxLoopAge = maxLoopAge
        let socketFD = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard socketFD >= 0 else { throw HealthzError("socket: \(String(cString: strerror(errno)))") }
        var one: Int32 = 1
        setsockopt(socketFD, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var sin = sockaddr_in()
        sin.sin_family = sa_family_t(AF_INET)
        sin.sin_port = port.bigEndian
        guard inet_pton(AF_INET, address, &sin.sin_addr) == 1 else {
            close(socketFD)
            throw HealthzError("invalid healthz bind address \(address)")
        }
        let bound = withUnsafePointer(to: &sin) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socketFD, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(socketFD, 16) == 0 else {
            let message = String(cString: strerror(errno))
            close(socketFD)
            throw HealthzError("listen tcp \(address):\(port): bind: \(message.lowercased())")
        }
        var actual = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &actual) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(socketFD, $0, &length) }
        }
        fd = socketFD
        self.port = UInt16(bigEndian: actual.sin_port)
    }

    func start() {
        let thread = Thread { [self] in serve() }
        thread.stackSize = 128 * 1024
        thread.start()
    }

    private func serve() {
        while true {
            let client = accept(fd, nil, nil)
            if client < 0 {
                if errno == EINTR || errno == ECONNABORTED { continue }
                return
            }
            _ = fcntl(client, F_SETFD, FD_CLOEXEC) // accept4 is not exported to Swift
            handle(client)
            close(client)
        }
    }

    private func handle(_ client: Int32) {
        var tv = timeval(tv_sec: 2, tv_usec: 0)
        setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var buffer = [UInt8](repeating: 0, count: 2048)
        let n = recv(client, &buffer, buffer.count, 0)
        guard n > 0 else { return }
        let request = String(decoding: buffer[0..<n], as: UTF8.self)
        let path = request.split(separator: " ").dropFirst().first.map(String.init) ?? "/"
        let code: Int
        let body: String
        switch path.split(separator: "?").first.map(String.init) ?? path {
        case "/healthz", "/healthz/syncloop":
            let age = Date().timeIntervalSince(lastLoop())
            if age > maxLoopAge {
                code = 500
                body = "[-]syncloop failed: reason withheld\nhealthz check failed\n"
            } else {
                code = 200
                body = "ok"
            }
        case "/healthz/ping":
            code = 200
            body = "ok"
        default:
            code = 404
            body = "404 page not found\n"
        }
        let status = code == 200 ? "OK" : (code == 404 ? "Not Found" : "Internal Server Error")
        let response = "HTTP/1.1 \(code) \(status)\r\nContent-Type: text/plain; charset=utf-8\r\n"
            + "X-Content-Type-Options: nosniff\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n" + body
        _ = response.withCString { send(client, $0, strlen($0), Int32(MSG_NOSIGNAL)) }
    }
}

struct HealthzError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
