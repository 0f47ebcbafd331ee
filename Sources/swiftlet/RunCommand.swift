import ArgumentParser
import Cgroups
import Dispatch
import Foundation
import Glibc
import KubeAPI
import Logging
import Runtime

struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a pod manifest once, in the foreground, until its containers exit.",
        discussion: """
        Creates the pod's namespaces, volumes and cgroups, runs its init containers in order and \
        then its containers, and removes everything when they have exited. Containers are not \
        restarted. Ctrl-C (SIGINT) or SIGTERM stops the pod gracefully (SIGTERM, the pod's \
        terminationGracePeriodSeconds, then SIGKILL). Images must be in the local store \
        (`swiftlet images import`).
        """
    )

    @OptionGroup var options: RuntimeOptions

    @Argument(help: "Pod manifest (YAML or JSON).") var manifest: String

    @Option(help: "Write each container's output to DIR/<container>.log instead of this terminal.")
    var logDir: String?

    @Option(help: "Node name pods see through the downward API (default: this host's name).")
    var nodeName: String?

    func run() async throws {
        // Containers write to stdout; our own log lines go to stderr.
        LoggingSystem.bootstrap(StreamLogHandler.standardError)
        ProcessLimits.raiseOpenFiles()
        guard let text = try? String(contentsOfFile: manifest, encoding: .utf8) else {
            throw CLIError("cannot read \(manifest)")
        }
        var pod: Pod
        do {
            pod = try Manifest.decodePod(yaml: text)
        } catch {
            throw CLIError("\(manifest): \(error)")
        }
        pod = pod.withDefaults()
        if pod.metadata.uid?.isEmpty ?? true { pod.metadata.uid = UUID().uuidString.lowercased() }
        do {
            pod = try pod.validated()
        } catch {
            throw CLIError("\(manifest): \(error)")
        }
        let config = options.config
        let runtime = PodRuntime(config: config, images: try options.imageStore(), cgroups: try Cgroups.detect(),
                                 nodeName: nodeName ?? ProcessInfo.processInfo.hostName.lowercased())
        let logDir = self.logDir
        if let logDir { try FileManager.default.createDirectory(atPath: logDir, withIntermediateDirectories: true) }

        let toRun = pod
        let task = Task {
            try await PodRunner(runtime: runtime).run(toRun) { container in
                guard let logDir else { return dup(STDOUT_FILENO) }
                let fd = open(logDir + "/" + container + ".log", O_CREAT | O_WRONLY | O_APPEND | O_CLOEXEC, 0o644)
                guard fd >= 0 else { throw SystemError("open", logDir + "/" + container + ".log") }
                return fd
            }
        }
        let sources = [SIGINT, SIGTERM].map { sig -> DispatchSourceSignal in
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig)
            source.setEventHandler { task.cancel() }
            source.resume()
            return source
        }
        defer { sources.forEach { $0.cancel() } }
        let result = try await task.value
        let names = (pod.spec.initContainers ?? []).map(\.name) + pod.spec.containers.map(\.name)
        for name in names {
            guard let exit = result.exits[name] else { continue }
            FileHandle.standardError.write(Data("container \(name): exit code \(exit.exitCode) (\(exit.reason))\n".utf8))
        }
        FileHandle.standardError.write(Data("pod \(pod.metadata.name ?? ""): \(result.phase)\n".utf8))
        if result.phase != "Succeeded" { throw ExitCode(1) }
    }
}
