import CShims
import Foundation
import Glibc
import KubeAPI
import Runtime

/// Runs one probe once, with kubelet's semantics (pkg/kubelet/prober): exec succeeds on exit
/// code 0, httpGet on a status from 200 to 399, tcpSocket when the connection opens; a probe
/// that does not answer within timeoutSeconds fails.
struct Prober: Sendable {
    let runtime: PodRuntime

    enum Result: Sendable, Equatable {
        case success
        case failure(String)
    }

    func run(_ probe: Probe, container: RunningContainer, spec: Container, sandbox: RunningSandbox) async -> Result {
        let timeout = Duration.seconds(Int64(probe.timeoutSeconds ?? 1))
        if let action = probe.exec {
            do {
                guard let code = try await runtime.exec(action.command ?? [], in: container, sandbox: sandbox,
                                                        spec: spec, timeout: timeout) else {
                    return .failure("command timed out")
                }
                return code == 0 ? .success : .failure("command exited with \(code)")
            } catch {
                return .failure("\(error)")
            }
        }
        if let action = probe.httpGet {
            guard let port = resolvePort(action.port, in: spec) else { return .failure("no port \(action.port)") }
            if action.scheme?.uppercased() == "HTTPS" {
                return .failure("HTTPS probes are not supported yet")
            }
            let host = action.host ?? sandbox.info.podIP ?? "127.0.0.1"
            let headers = (action.httpHeaders ?? []).map { ($0.name, $0.value) }
            let path = action.path ?? "/"
            return await BlockingCall.run(stackSize: 256 * 1024) {
                Self.httpGet(netns: sandbox.sandbox.networkNamespace, host: host, port: port, path: path,
                             headers: headers, timeout: timeout)
            }
        }
        if let action = probe.tcpSocket {
            guard let port = resolvePort(action.port, in: spec) else { return .failure("no port \(action.port)") }
            let host = action.host ?? sandbox.info.podIP ?? "127.0.0.1"
            return await BlockingCall.run(stackSize: 256 * 1024) {
                do {
                    let fd = try Self.connect(netns: sandbox.sandbox.networkNamespace, host: host, port: port, timeout: timeout)
                    close(fd)
                    return .success
                } catch {
                    return .failure("\(error)")
                }
            }
        }
        if probe.grpc != nil { return .failure("gRPC probes are not supported yet") }
        return .failure("probe has no handler")
    }

    /// A named port is looked up in the container's ports, as kubelet does.
    func resolvePort(_ port: IntOrString, in spec: Container) -> UInt16? {
        switch port {
        case .int(let number): return UInt16(exactly: number)
        case .string(let name):
            if let number = UInt16(name) { return number }
            return spec.ports?.first { $0.name == name }.flatMap { UInt16(exactly: $0.containerPort) }
        }
    }

    /// Connects from inside the pod's network namespace (the socket is created there), so the
    /// probe reaches the pod without any route from the node.
    static func connect(netns: Int32?, host: String, port: UInt16, timeout: Duration) throws -> Int32 {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        guard inet_pton(AF_INET, host, &address.sin_addr) == 1 else { throw ProbeError("invalid IPv4 address \(host)") }
        let type = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue)
        let fd = netns.map { sl_socket_in_netns($0, AF_INET, type, 0) } ?? socket(AF_INET, type | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw ProbeError("socket: \(String(cString: strerror(errno)))") }
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        if rc < 0 && errno != EINPROGRESS {
            let message = String(cString: strerror(errno))
            close(fd)
            throw ProbeError("dial tcp \(host):\(port): connect: \(message.lowercased())")
        }
        var entry = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
        let ready = poll(&entry, 1, Int32(timeout.seconds * 1000))
        var error: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length)
        guard ready > 0, error == 0 else {
            close(fd)
            if ready == 0 { throw ProbeError("dial tcp \(host):\(port): i/o timeout") }
            throw ProbeError("dial tcp \(host):\(port): connect: \(String(cString: strerror(error)).lowercased())")
        }
        let flags = fcntl(fd, F_GETFL)
        _ = fcntl(fd, F_SETFL, flags & ~Int32(O_NONBLOCK))
        var tv = timeval(tv_sec: Int(timeout.components.seconds), tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        return fd
    }

    static func httpGet(netns: Int32?, host: String, port: UInt16, path: String, headers: [(String, String)],
                        timeout: Duration) -> Result {
        let fd: Int32
        do { fd = try connect(netns: netns, host: host, port: port, timeout: timeout) } catch { return .failure("\(error)") }
        defer { close(fd) }
        var request = "GET \(path.hasPrefix("/") ? path : "/" + path) HTTP/1.1\r\nHost: \(host):\(port)\r\n"
        var names = Set<String>()
        for (name, value) in headers {
            request += "\(name): \(value)\r\n"
            names.insert(name.lowercased())
        }
        // kubelet's defaults, unless the probe sets its own.
        if !names.contains("user-agent") { request += "User-Agent: kube-probe/1.32\r\n" }
        if !names.contains("accept") { request += "Accept: */*\r\n" }
        request += "Connection: close\r\n\r\n"
        let bytes = Array(request.utf8)
        guard bytes.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }) == bytes.count else {
            return .failure("write: \(String(cString: strerror(errno)))")
        }
        var buffer = [UInt8](repeating: 0, count: 1024)
        var received = 0
        while received < buffer.count {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress! + received, $0.count - received, 0) }
            if n <= 0 { break }
            received += n
            if buffer[0..<received].contains(UInt8(ascii: "\n")) { break }
        }
        let head = String(decoding: buffer[0..<received], as: UTF8.self)
        guard let line = head.split(separator: "\r\n").first, line.hasPrefix("HTTP/"),
              let code = Int(line.split(separator: " ").dropFirst().first ?? "") else {
            return .failure(received == 0 ? "no response (timeout or connection closed)" : "malformed HTTP response")
        }
        return (200..<400).contains(code) ? .success : .failure("HTTP probe failed with statuscode: \(code)")
    }
}

struct ProbeError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
