import ArgumentParser
import Foundation
import Images
import Logging
import Registry
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

extension ImagesCommand {
    struct Pull: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Pull an image from a registry into the local store (like `crictl pull`).",
            discussion: """
            REF is written as in a pod: nginx (docker.io/library/nginx:latest), user/app:1, \
            registry.example.com:5000/team/app@sha256:…. Mirrors, credentials and TLS settings come \
            from --registry-config (k3s' registries.yaml format, see docs/images.md); --creds gives \
            credentials for this pull. Layers download in parallel and are unpacked as they arrive; \
            layers already in the store are reused. On a terminal the layers' progress is shown.
            """)

        @OptionGroup var options: RuntimeOptions

        @Argument(help: "The image reference.") var reference: String

        @Option(help: "Credentials for the registry, USER:PASSWORD (like crictl pull --creds).")
        var creds: String?

        @OptionGroup var registry: RegistryOptions

        @Flag(name: [.customShort("q"), .long], help: "No progress display, even on a terminal.")
        var quiet = false

        func run() async throws {
            let parsed: ImageReference
            do {
                parsed = try ImageReference(parsing: reference)
            } catch {
                throw CLIError("\(error)")
            }
            var given: RegistryCredential?
            if let creds {
                guard let colon = creds.firstIndex(of: ":"), colon != creds.startIndex else {
                    throw CLIError("--creds: expected USER:PASSWORD")
                }
                given = RegistryCredential(username: String(creds[..<colon]), password: String(creds[creds.index(after: colon)...]))
            }
            let credential = given
            let config = try registry.load()
            // Warnings only: the result and errors are the command's output.
            var logger = Logger(label: "swiftlet.registry")
            logger.logLevel = .warning
            let puller = RegistryPuller(store: try options.imageStore(), config: config, maxConcurrentDownloads: registry.maxConcurrentDownloads,
                                        logger: logger)
            let display = PullDisplay(terminal: !quiet && isatty(STDOUT_FILENO) == 1)
            let started = Date()
            let result: Result<PulledImage, any Error>
            do {
                result = .success(try await display.showing {
                    try await puller.pull(parsed, credential: credential, progress: { display.update($0) })
                })
            } catch {
                result = .failure(error)
            }
            await puller.shutdown()
            switch result {
            case .success(let pulled):
                let seconds = String(format: "%.2f", Date().timeIntervalSince(started))
                print("pulled \(parsed.normalized) \(pulled.repoDigest.split(separator: "@").last ?? "")")
                print("image ID \(pulled.image.id), \(pulled.image.diffIDs.count) layers, \(pulled.downloadedBytes) bytes downloaded in \(seconds)s from \(pulled.endpoint)")
            case .failure(let error as RegistryError):
                throw CLIError(error.message)
            case .failure(let error):
                throw error
            }
        }
    }
}

/// The layers' progress on a terminal, redrawn in place ten times a second (docker pull's
/// display, in small); elsewhere nothing until the result.
final class PullDisplay: Sendable {
    private struct Layer {
        var digest: Digest
        var size: Int64
        var received: Int64 = 0
        var state = "waiting"
    }

    private struct State {
        var header: String?
        var layers: [Layer] = []
        var linesDrawn = 0
    }

    let terminal: Bool
    private let state = Mutex(State())

    init(terminal: Bool) {
        self.terminal = terminal
    }

    /// Runs `work`, redrawing the display while it runs (and once more at the end).
    func showing<T: Sendable>(_ work: @Sendable () async throws -> T) async throws -> T {
        guard terminal else { return try await work() }
        let painter = Task {
            while !Task.isCancelled {
                draw()
                try? await Task.sleep(for: .milliseconds(100))
            }
        }
        defer {
            painter.cancel()
            draw()
        }
        return try await work()
    }

    func update(_ event: PullProgress) {
        state.withLock { state in
            switch event {
            case .resolved(let endpoint, let digest, let layers):
                state.header = "\(digest) from \(endpoint)"
                state.layers = layers.map { Layer(digest: $0.digest, size: $0.size) }
            case .downloading(let layer, let received, _):
                Self.edit(&state, layer) { $0.received = received; $0.state = "downloading" }
            case .downloaded(let layer, let cached):
                Self.edit(&state, layer) { $0.received = $0.size; $0.state = cached ? "already present" : "downloaded" }
            case .unpacking(let layer):
                Self.edit(&state, layer) { if $0.state != "already present" { $0.state = "unpacking" } }
            case .unpacked(let layer):
                Self.edit(&state, layer) { if $0.state != "already present" { $0.state = "done" } }
            }
        }
    }

    private static func edit(_ state: inout State, _ digest: Digest, _ change: (inout Layer) -> Void) {
        for index in state.layers.indices where state.layers[index].digest == digest { change(&state.layers[index]) }
    }

    private func draw() {
        let text: String = state.withLock { state in
            var lines: [String] = []
            if let header = state.header { lines.append(header) }
            for layer in state.layers {
                let total = max(layer.size, 1)
                let width = 30
                let filled = Int(Double(width) * Double(layer.received) / Double(total))
                let bar = String(repeating: "=", count: min(filled, width)) + String(repeating: " ", count: max(width - filled, 0))
                let amounts = "\(ByteCountFormatter.string(fromByteCount: layer.received, countStyle: .binary)) / "
                    + ByteCountFormatter.string(fromByteCount: layer.size, countStyle: .binary)
                lines.append("\(layer.digest.hex.prefix(12))  [\(bar)]  \(amounts)  \(layer.state)")
            }
            // Up over what was drawn before, each line cleared and rewritten.
            var out = state.linesDrawn > 0 ? "\u{1B}[\(state.linesDrawn)A" : ""
            for line in lines { out += "\u{1B}[2K" + line + "\n" }
            state.linesDrawn = lines.count
            return out
        }
        FileHandle.standardOutput.write(Data(text.utf8))
    }
}
