import Agent
import ArgumentParser
import Foundation
import Glibc

struct LogsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "logs",
        abstract: "Print a container's logs (like `kubectl logs`)."
    )

    @OptionGroup var options: RuntimeOptions

    @Argument(help: "Pod name (as `swiftlet pods` shows it) or uid.") var pod: String

    @Option(name: .shortAndLong, help: "Container name; needed when the pod has several.") var container: String?

    @Flag(name: .shortAndLong, help: "Keep printing new lines as they are written.") var follow = false

    @Flag(name: .shortAndLong, help: "The logs of the previous start of the container.") var previous = false

    @Option(help: "Namespace of the pod.") var namespace: String?

    @Option(help: "Root directory of container logs.") var logDir = "/var/log/pods"

    func run() async throws {
        let store = StatusStore(directory: options.dataDir + "/pod-status")
        let matches = store.entries().filter {
            ($0.pod.metadata.name == pod || $0.pod.metadata.uid == pod)
                && (namespace == nil || $0.pod.metadata.namespace == namespace)
        }
        guard let entry = matches.first else { throw CLIError("pods \"\(pod)\" not found") }
        let logs = PodLogs(logRoot: logDir)
        var path: String
        do { path = try logs.file(pod: entry.pod, container: container, previous: previous) } catch { throw CLIError("\(error)") }
        guard let handle = FileHandle(forReadingAtPath: path) else { throw CLIError("cannot open \(path)") }
        var pending = Substring("")
        while true {
            let data = handle.readDataToEndOfFile()
            if !data.isEmpty {
                let (lines, rest) = PodLogs.messages(pending + String(decoding: data, as: UTF8.self))
                FileHandle.standardOutput.write(Data(lines.utf8))
                pending = rest
            }
            guard follow else { break }
            // A restart starts a new file: follow it as kubectl does.
            if let newer = try? logs.file(pod: entry.pod, container: container, previous: false), newer != path {
                path = newer
                guard let next = FileHandle(forReadingAtPath: path) else { break }
                try? handle.close()
                return try await followFrom(next, logs: logs, entry: entry)
            }
            try await Task.sleep(for: .milliseconds(200))
        }
    }

    private func followFrom(_ handle: FileHandle, logs: PodLogs, entry: StatusStore.Entry) async throws {
        var pending = Substring("")
        while true {
            let data = handle.readDataToEndOfFile()
            if !data.isEmpty {
                let (lines, rest) = PodLogs.messages(pending + String(decoding: data, as: UTF8.self))
                FileHandle.standardOutput.write(Data(lines.utf8))
                pending = rest
            }
            try await Task.sleep(for: .milliseconds(200))
        }
    }
}
