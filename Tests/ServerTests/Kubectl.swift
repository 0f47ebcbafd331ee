@testable import APIRegistry
@testable import APIServer
import Foundation
import TestSupport

/// Real kubectl against a test server: a kubeconfig pointing at it over plain HTTP and a
/// fresh discovery cache, both removed with the temporary directory.
struct Kubectl: Sendable {
    /// The kubectl binaries the tests use (TestSupport's `KubectlBinaries`).
    static let defaultBinary = KubectlBinaries.defaultBinary
    static let binary127 = KubectlBinaries.binary127
    static var isInstalled: Bool { KubectlBinaries.isInstalled }
    static func binary120() async throws -> String { try await KubectlBinaries.binary120() }

    let binary: String
    let kubeconfig: String
    let cacheDirectory: String

    struct Output: Sendable {
        let status: Int32
        let stdout: String
        let stderr: String
    }

    init(binary: String = Kubectl.defaultBinary, port: Int, directory: String) throws {
        self.binary = binary
        self.kubeconfig = directory + "/kubeconfig-\(UUID().uuidString)"
        self.cacheDirectory = directory + "/kube-cache-\(UUID().uuidString)"
        let config = """
            apiVersion: v1
            kind: Config
            clusters:
            - name: test
              cluster:
                server: http://127.0.0.1:\(port)
            contexts:
            - name: test
              context:
                cluster: test
                user: test
            current-context: test
            users:
            - name: test
              user: {}
            """
        try config.write(toFile: kubeconfig, atomically: true, encoding: .utf8)
    }

    /// kubectl with an existing kubeconfig (HTTPS, tokens).
    init(binary: String = Kubectl.defaultBinary, kubeconfig: String, cacheDirectory: String) {
        self.binary = binary
        self.kubeconfig = kubeconfig
        self.cacheDirectory = cacheDirectory
    }

    private func process(_ arguments: [String]) -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["--kubeconfig", kubeconfig, "--cache-dir", cacheDirectory] + arguments
        var environment = ProcessInfo.processInfo.environment
        environment["KUBECONFIG"] = kubeconfig
        process.environment = environment
        return process
    }

    /// Runs kubectl to completion, with `input` on stdin.
    func callAsFunction(_ arguments: String..., input: String? = nil) async throws -> Output {
        try await run(arguments, input: input)
    }

    func run(_ arguments: [String], input: String? = nil) async throws -> Output {
        let process = process(arguments)
        return try await blocking {
            let stdout = Pipe(), stderr = Pipe(), stdin = Pipe()
            process.standardOutput = stdout
            process.standardError = stderr
            process.standardInput = stdin
            try process.run()
            if let input { stdin.fileHandleForWriting.write(Data(input.utf8)) }
            try? stdin.fileHandleForWriting.close()
            // stderr is read on its own thread so neither pipe can fill up and stall kubectl.
            let errorData = LockedData()
            let reader = Thread { errorData.set(stderr.fileHandleForReading.readDataToEndOfFile()) }
            reader.start()
            let outData = stdout.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            while !errorData.isSet { usleep(1000) }
            return Output(status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                          stderr: String(decoding: errorData.value, as: UTF8.self))
        }
    }

    /// Starts kubectl in the background (`get -w`); `stop()` ends it and returns its output.
    func start(_ arguments: String...) throws -> Background {
        let process = process(arguments)
        let stdout = Pipe(), stderr = Pipe()
        process.standardOutput = stdout
        process.standardError = stderr
        try process.run()
        return Background(process: process, stdout: stdout, stderr: stderr)
    }

    final class Background: @unchecked Sendable {
        let process: Process
        let stdout: Pipe
        let stderr: Pipe

        init(process: Process, stdout: Pipe, stderr: Pipe) {
            self.process = process
            self.stdout = stdout
            self.stderr = stderr
        }

        deinit {
            if process.isRunning { process.terminate() }
        }

        /// Interrupts kubectl and collects what it printed.
        func stop() async throws -> Output {
            let process = self.process, stdout = self.stdout, stderr = self.stderr
            return try await blocking {
                if process.isRunning { process.interrupt() }
                let out = stdout.fileHandleForReading.readDataToEndOfFile()
                let err = stderr.fileHandleForReading.readDataToEndOfFile()
                process.waitUntilExit()
                return Output(status: process.terminationStatus, stdout: String(decoding: out, as: UTF8.self),
                              stderr: String(decoding: err, as: UTF8.self))
            }
        }
    }
}

/// Data handed from a reader thread.
final class LockedData: @unchecked Sendable {
    private let lock = NSLock()
    private var data: Data?

    func set(_ data: Data) { lock.withLock { self.data = data } }
    var isSet: Bool { lock.withLock { data != nil } }
    var value: Data { lock.withLock { data ?? Data() } }
}

/// Splits table output into rows of whitespace-separated cells.
func tableRows(_ text: String) -> [[String]] {
    text.split(separator: "\n").map { $0.split(whereSeparator: { $0 == " " }).map(String.init) }
}
