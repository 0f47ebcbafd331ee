import Agent
import ArgumentParser
import Foundation
import KubeAPI

struct PodsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pods",
        abstract: "List the agent's pods and their status (like `kubectl get pods -o wide`)."
    )

    @OptionGroup var options: RuntimeOptions

    func run() throws {
        let store = StatusStore(directory: options.dataDir + "/pod-status")
        var rows = [["NAMESPACE", "NAME", "READY", "STATUS", "RESTARTS", "AGE", "IP", "UID"]]
        for entry in store.entries() {
            let status = entry.status
            let statuses = status?.containerStatuses ?? []
            let ready = statuses.filter(\.ready).count
            let restarts = statuses.map { Int($0.restartCount) }.reduce(0, +)
            rows.append([
                entry.pod.metadata.namespace ?? "default", entry.pod.metadata.name ?? "",
                "\(ready)/\(entry.pod.spec.containers.count)", PodDisplay.status(entry.pod, status), "\(restarts)",
                PodDisplay.age(status?.startTime?.date), status?.podIP ?? "<none>", entry.pod.metadata.uid ?? "",
            ])
        }
        printTable(rows)
        let errors = (try? String(contentsOfFile: options.dataDir + "/manifest-errors", encoding: .utf8)) ?? ""
        if !errors.isEmpty {
            FileHandle.standardError.write(Data("\nmanifests that could not be used:\n\(errors)".utf8))
        }
    }
}

/// The STATUS and AGE columns as kubectl prints them (printers/internalversion printPod).
enum PodDisplay {
    static func status(_ pod: Pod, _ status: PodStatus?) -> String {
        guard let status else { return "Pending" }
        var reason = status.reason ?? status.phase ?? "Unknown"
        let inits = status.initContainerStatuses ?? []
        for (index, container) in inits.enumerated() {
            if let terminated = container.state?.terminated, terminated.exitCode == 0 { continue }
            if let terminated = container.state?.terminated {
                reason = "Init:" + (terminated.reason ?? "ExitCode:\(terminated.exitCode)")
            } else if let waiting = container.state?.waiting?.reason, waiting != "PodInitializing" {
                reason = "Init:" + waiting
            } else {
                reason = "Init:\(index)/\(inits.count)"
            }
            return reason
        }
        for container in (status.containerStatuses ?? []).reversed() {
            if let waiting = container.state?.waiting?.reason, !waiting.isEmpty {
                reason = waiting
            } else if let terminated = container.state?.terminated {
                reason = terminated.reason ?? (terminated.signal.map { "Signal:\($0)" } ?? "ExitCode:\(terminated.exitCode)")
            }
        }
        return reason
    }

    static func age(_ date: Date?) -> String {
        guard let date else { return "<unknown>" }
        let seconds = Int(Date().timeIntervalSince(date))
        if seconds < 120 { return "\(max(seconds, 0))s" }
        if seconds < 3600 { return "\(seconds / 60)m" }
        if seconds < 86400 * 2 { return "\(seconds / 3600)h" }
        return "\(seconds / 86400)d"
    }
}
