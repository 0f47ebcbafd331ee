import Foundation
import Glibc
import Hummingbird
import KubeAPI
import Runtime

/// `POST /run/{namespace}/{pod}[/{uid}]/{container}?cmd=...`: kubelet's getRun, a command run
/// to its end with its output in the answer (stdout then stderr, as kubelet's RunInContainer
/// appends CRI ExecSync's two), `cmd` split at whitespace (Go's strings.Fields). A command
/// that fails is a 500 with CRI's wording: `command 'false' exited with 1: <stderr>`.
struct RunRequest {
    /// The most output kept of each stream (CRI's ExecSync answer is bounded too).
    static let maxOutput = 16 << 20

    let host: any KubeletHost

    struct Failure: Error {
        let status: HTTPResponse.Status
        let message: String
    }

    func respond(path parts: [String], query: [String: String]) async throws(Failure) -> Response {
        let namespace: String, pod: String, uid: String?, container: String
        switch parts.count {
        case 4: (namespace, pod, uid, container) = (parts[1], parts[2], nil, parts[3])
        case 5: (namespace, pod, uid, container) = (parts[1], parts[2], parts[3], parts[4])
        default: throw Failure(status: .notFound, message: "404 page not found\n")
        }
        let command = (query["cmd"] ?? "").split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }).map(String.init)
        guard !command.isEmpty else { throw Failure(status: .badRequest, message: "you must specify at least 1 command") }
        guard let streaming = host.streaming else { throw Failure(status: .notFound, message: "this node runs no commands") }
        let target: any ExecTarget
        switch await streaming.execTarget(namespace: namespace, pod: pod, uid: uid, container: container) {
        case .found(let found): target = found
        case .podNotFound: throw Failure(status: .notFound, message: "pod does not exist")
        case .notRunning: throw Failure(status: .internalServerError, message: "container not found (\"\(container)\")")
        }
        let outcome = await BlockingCall.run(stackSize: 512 * 1024) { () -> Result<(ExitStatus, [UInt8], [UInt8]), any Error> in
            Result {
                let process = try target.start(command, stdio: ExecStdio(stdin: false, stdout: true, stderr: true))
                defer { process.process.closeHandle() }
                let (out, err) = Self.readBoth(process.stdout ?? -1, process.stderr ?? -1)
                var status: Int32 = 0
                while waitpid(process.process.pid, &status, 0) < 0 && errno == EINTR {}
                return (status & 0x7f == 0 ? ExitStatus(code: (status >> 8) & 0xff, signal: nil) : ExitStatus(code: nil, signal: status & 0x7f), out, err)
            }
        }
        switch outcome {
        case .failure(let error):
            throw Failure(status: .internalServerError, message: "\(error)")
        case .success(let (status, out, err)):
            guard status.exitCode == 0 else {
                throw Failure(status: .internalServerError,
                              message: "command '\(command.joined(separator: " "))' exited with \(status.exitCode): \(String(decoding: err, as: UTF8.self))")
            }
            return Response(status: .ok, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: ByteBuffer(bytes: out + err)))
        }
    }

    /// Reads two pipes to their ends together (either could fill while the other is read),
    /// keeping at most `maxOutput` of each; closes both.
    static func readBoth(_ first: Int32, _ second: Int32) -> ([UInt8], [UInt8]) {
        var buffers: [Int32: [UInt8]] = [first: [], second: []]
        var open = [first, second].filter { $0 >= 0 }
        var chunk = [UInt8](repeating: 0, count: 65536)
        while !open.isEmpty {
            var fds = open.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            if poll(&fds, nfds_t(fds.count), -1) < 0 {
                if errno == EINTR { continue }
                break
            }
            for entry in fds where entry.revents != 0 {
                let n = chunk.withUnsafeMutableBytes { read(entry.fd, $0.baseAddress, $0.count) }
                if n > 0 {
                    let room = maxOutput - (buffers[entry.fd]?.count ?? 0)
                    if room > 0 { buffers[entry.fd]?.append(contentsOf: chunk[..<min(n, room)]) }
                } else if n == 0 || (errno != EINTR && errno != EAGAIN) {
                    close(entry.fd)
                    open.removeAll { $0 == entry.fd }
                }
            }
        }
        for fd in open { close(fd) }
        return (buffers[first] ?? [], buffers[second] ?? [])
    }
}
