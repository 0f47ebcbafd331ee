import Foundation
import Glibc

/// Reads a container's CRI log file as kubelet's log reader does (pkg/kubelet/kuberuntime/logs):
/// tail, since, timestamps and a byte limit, and with `follow` keeps reading as the file grows
/// until told to stop or cancelled.
public struct ContainerLogReader: Sendable {
    /// What a follower does at the end of the file.
    public enum FollowStep: Sendable, Equatable {
        /// Wait for more lines in the same file.
        case wait
        /// The container started again: finish this file, then read this one from its start.
        case next(String)
        /// The container will not log again (or its pod is gone): finish this file and stop.
        case stop
    }

    public let options: LogOptions
    /// How often a follower looks for new lines.
    public var pollInterval: Duration = .milliseconds(200)
    /// How often a follower asks `step` whether the container moved on or ended.
    public var stepInterval: Duration = .seconds(1)

    public init(options: LogOptions) {
        self.options = options
    }

    /// Writes the log of `path` through `write`, one call per batch of lines. A missing file
    /// reads as empty (the container has not written yet). With `follow`, `step` is asked at
    /// the end of the file what to do next.
    public func read(path initialPath: String,
                     step: (_ currentPath: String) async -> FollowStep = { _ in .stop },
                     write: (String) async throws -> Void) async throws {
        var file = CRILogFile(path: initialPath)
        defer { file.close() }
        if let tail = options.tailLines { file.offset = file.tailOffset(lines: tail) }
        var parser = CRILogParser()
        var remaining = options.limitBytes ?? Int.max
        var sinceStep = ContinuousClock.now

        // Reads what the file has now; false once the byte limit is reached.
        func drain() async throws -> Bool {
            while let bytes = file.readChunk() {
                if try await emit(parser.feed(bytes)) == false { return false }
            }
            return true
        }
        func emit(_ lines: [CRILogLine]) async throws -> Bool {
            var output = ""
            for line in lines {
                if let since = options.sinceNanoseconds, let at = line.nanoseconds, at < since { continue }
                output += options.timestamps ? line.goTimestamp + " " + line.text : line.text
            }
            guard !output.isEmpty else { return true }
            if output.utf8.count >= remaining {
                // kubelet's LogWriter writes what fits and stops.
                try await write(String(decoding: output.utf8.prefix(remaining), as: UTF8.self))
                remaining = 0
                return false
            }
            remaining -= output.utf8.count
            try await write(output)
            return true
        }

        guard try await drain() else { return }
        guard options.follow else {
            if let last = parser.flush() { _ = try await emit([last]) }
            return
        }
        while true {
            try await Task.sleep(for: pollInterval)
            guard try await drain() else { return }
            guard ContinuousClock.now - sinceStep >= stepInterval else { continue }
            sinceStep = ContinuousClock.now
            switch await step(file.path) {
            case .wait:
                continue
            case .stop:
                guard try await drain() else { return }
                if let last = parser.flush() { _ = try await emit([last]) }
                return
            case .next(let path):
                guard try await drain() else { return }
                if let last = parser.flush() { guard try await emit([last]) else { return } }
                file.close()
                file = CRILogFile(path: path)
                parser = CRILogParser()
            }
        }
    }
}
