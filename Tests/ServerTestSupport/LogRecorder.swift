import Logging
import Synchronization

/// Keeps the messages logged through it, for tests that check what was logged.
package final class LogRecorder: Sendable {
    package init() {}

    private let messages = Mutex<[String]>([])

    package var recorded: [String] { messages.withLock { $0 } }

    package var logger: Logger {
        Logger(label: "test") { _ in Handler(recorder: self) }
    }

    struct Handler: LogHandler {
        let recorder: LogRecorder
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            recorder.messages.withLock { $0.append("\(event.level): \(event.message)") }
        }
    }
}
