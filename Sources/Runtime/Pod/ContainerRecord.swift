import Foundation
import Glibc

/// What the agent needs to find a container again after a restart, kept in `state.json` of the
/// container's directory. Pids are checked against their start time (field 22 of
/// /proc/<pid>/stat) so a reused pid is never mistaken for the container.
struct ContainerRecord: Codable, Equatable {
    var name: String
    var attempt: Int
    var containerPid: Int32
    var containerStartTime: UInt64
    var monitorPid: Int32
    var monitorStartTime: UInt64
    var startedAt: Double
    var cgroup: String
    var image: String
    var imageID: String

    static let fileName = "state.json"
    static let exitFileName = "exit"

    func write(to directory: String) throws {
        try AtomicFile.write(try JSONEncoder().encode(self), to: directory + "/" + Self.fileName)
    }

    static func read(from directory: String) -> ContainerRecord? {
        guard let data = FileManager.default.contents(atPath: directory + "/" + fileName) else { return nil }
        return try? JSONDecoder().decode(ContainerRecord.self, from: data)
    }
}

enum ProcessIdentity {
    /// The start time of `pid` in clock ticks since boot, or nil when there is no such process.
    static func startTime(_ pid: Int32) -> UInt64? {
        guard let text = ProcFile.read("/proc/\(pid)/stat"),
              let close = text.lastIndex(of: ")") else { return nil }
        // Fields after the command name (which may contain spaces): state is field 3, starttime 22.
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count > 19 else { return nil }
        return UInt64(fields[19])
    }
}

/// The monitor's exit file: "<exit code> <signal> <finished unix ns>".
struct ExitFile: Equatable {
    var exitCode: Int32
    var signal: Int32
    var finishedAt: Date

    static func read(_ path: String) -> ExitFile? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        let parts = text.split(whereSeparator: { $0 == " " || $0 == "\n" })
        guard parts.count >= 3, let code = Int32(parts[0]), let sig = Int32(parts[1]), let ns = Int64(parts[2]) else { return nil }
        return ExitFile(exitCode: code, signal: sig, finishedAt: Date(timeIntervalSince1970: Double(ns) / 1e9))
    }
}
