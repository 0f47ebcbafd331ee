import Glibc
import Logging
import NIOCore
import Runtime
import Streaming

/// One `kubectl exec` on this node, once the client's streams are up: starts the command in
/// the container, copies its output to the client and the client's input and resizes to it,
/// and reports how it ended (kubelet's ServeExec with containerd's exec behind it):
/// - the status is sent once the command has ended and its output is drained (as containerd
///   waits for the exec's IO: a background process holding stdout keeps the session open);
/// - a client that goes away takes the command with it (containerd kills the exec when the
///   stream's context ends); nothing is left behind: process, fds or terminal.
struct ExecSession {
    let command: [String]
    let logger: Logger

    enum Event: Sendable {
        case exited(ExitStatus)
        case outputEnded
        case inputEnded
        case drainTimeout
    }

    /// Runs the session on `streams`; `start` launches the command (blocking).
    func run(_ streams: some RemoteCommandStreams, start: @escaping @Sendable (ExecStdio) throws -> ExecProcess) async {
        let options = streams.options
        let stdio = ExecStdio(stdin: options.stdin, stdout: options.stdout, stderr: options.stderr,
                              terminal: options.tty ? TerminalSize(rows: 0, columns: 0) : nil)
        let started = await BlockingCall.run(stackSize: 512 * 1024) { Result { try start(stdio) } }
        let process: ExecProcess
        switch started {
        case .success(let value): process = value
        case .failure(let error):
            // containerd's wording, which kubectl prints as "Internal error occurred: ...".
            await streams.finish(status: .internalError("error executing command in container: failed to exec in container: \(error)"))
            return
        }
        defer { process.process.closeHandle() }

        // Our ends as NIO channels (NIO owns the fds from here). With a terminal, its master is
        // both the output (read) and the input (a duplicate, written).
        var outputs: [(RemoteCommandOutput, ProcessPipes.Channel)] = []
        var input: ProcessInput?
        var reads: [(RemoteCommandOutput, Int32)] = []
        var write: Int32?
        if let terminal = process.terminal {
            reads = [(.stdout, terminal)]
            if options.stdin {
                let duplicate = fcntl(terminal, F_DUPFD_CLOEXEC, 3)
                if duplicate >= 0 { write = duplicate }
            }
        } else {
            let candidates: [(RemoteCommandOutput, Int32?)] = [(.stdout, process.stdout), (.stderr, process.stderr)]
            reads = candidates.compactMap { kind, fd in fd.map { (kind, $0) } }
            write = process.stdin
        }
        do {
            while let next = reads.first {
                reads.removeFirst()
                outputs.append((next.0, try await ProcessPipes.reading(next.1)))
            }
            if let fd = write {
                write = nil
                input = try await ProcessPipes.writing(fd)
            }
        } catch {
            for (_, fd) in reads { close(fd) }
            if let write { close(write) }
            process.kill()
            _ = await process.wait()
            for (_, channel) in outputs { try? await channel.channel.close() }
            if let input { await input.close() }
            await streams.finish(status: .internalError("error executing command in container: \(error)"))
            return
        }

        let tty = process.terminal != nil
        let stdin = input
        let outputChannels = outputs
        await withTaskGroup(of: Event.self) { group in
            group.addTask {
                await .exited(process.wait())
            }
            for (kind, channel) in outputChannels {
                group.addTask {
                    do {
                        try await channel.executeThenClose { inbound, _ in
                            for try await chunk in inbound { try await streams.write(kind, chunk) }
                        }
                    } catch {
                        // A terminal's master reads EIO once the command has ended; a client
                        // gone fails the write. Either way this output is done.
                    }
                    await streams.finish(kind)
                    return .outputEnded
                }
            }
            group.addTask {
                await Self.copyInput(streams, to: stdin, tty: tty, resize: { try? process.resize($0) }, logger: logger)
                return .inputEnded
            }

            var exit: ExitStatus?
            var outputsOpen = outputChannels.count
            var statusSent = false
            var inputEnded = false
            while let event = await group.next() {
                switch event {
                case .exited(let status):
                    exit = status
                case .outputEnded:
                    outputsOpen -= 1
                case .inputEnded:
                    inputEnded = true
                    // The client closed or went away before the end: the command goes too.
                    if exit == nil { process.kill() }
                    group.addTask {
                        try? await Task.sleep(for: .seconds(2))
                        return .drainTimeout
                    }
                case .drainTimeout:
                    // Output still held open (a background process) after the client left, or
                    // a client that does not answer the close: the session ends.
                    if exit != nil && (inputEnded || statusSent) {
                        group.cancelAll()
                        return
                    }
                }
                if let exit, outputsOpen == 0, !statusSent {
                    statusSent = true
                    await streams.finish(status: .exit(code: exit.exitCode, command: command))
                    if !inputEnded {
                        group.addTask {
                            try? await Task.sleep(for: .seconds(2))
                            return .drainTimeout
                        }
                    }
                }
                if statusSent && inputEnded {
                    group.cancelAll()
                    return
                }
            }
        }
    }

    /// Copies the client's stdin to the command (closing it at the client's EOF; with a
    /// terminal, EOF is the terminal's end-of-file character) and its resizes to the terminal,
    /// until the client ends the session.
    static func copyInput(_ streams: some RemoteCommandStreams, to input: ProcessInput?, tty: Bool,
                          resize: @escaping @Sendable (TerminalSize) -> Void, logger: Logger) async {
        do {
            try await streams.readInput { event in
                switch event {
                case .stdin(let bytes):
                    // A command that stopped reading (or ended) fails the write: its input is
                    // dropped, the session goes on, as kubelet's copy does.
                    try? await input?.write(bytes)
                case .stdinClosed:
                    if tty {
                        try? await input?.write(ByteBuffer(bytes: [0x04]))
                    } else {
                        await input?.close()
                    }
                case .resize(let size):
                    resize(TerminalSize(rows: size.height, columns: size.width))
                }
            }
        } catch {
            logger.debug("exec input ended", metadata: ["error": "\(error)"])
        }
        await input?.close()
    }
}
