import APITestSupport
import Foundation
import TestSupport

/// Real kubectl against a test server: a kubeconfig pointing at it over plain HTTP and a
/// fresh discovery cache, both removed with the temporary directory.
package struct Kubectl: Sendable {
    /// The kubectl binaries the tests use (TestSupport's `KubectlBinaries`).
    package static let defaultBinary = KubectlBinaries.defaultBinary
    package static let binary127 = KubectlBinaries.binary127
    package static var isInstalled: Bool { KubectlBinaries.isInstalled }
    package static func binary120() async throws -> String { try await KubectlBinaries.binary120() }

    package let binary: String
    package let kubeconfig: String
    package let cacheDirectory: String

    package struct Output: Sendable {
        package let status: Int32
        package let stdout: String
        package let stderr: String
    }

    package init(binary: String = Kubectl.defaultBinary, port: Int, directory: String) throws {
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
    package init(binary: String = Kubectl.defaultBinary, kubeconfig: String, cacheDirectory: String) {
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
    package func callAsFunction(_ arguments: String..., input: String? = nil) async throws -> Output {
        try await run(arguments, input: input)
    }

    package func run(_ arguments: [String], input: String? = nil) async throws -> Output {
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
    package func start(_ arguments: String...) throws -> Background {
        let process = process(arguments)
        let stdout = Pipe(), stderr = Pipe()
        process.standardOutput = stdout
        process.standardError = stderr
        try process.run()
        return Background(process: process, stdout: stdout, stderr: stderr)
    }

    package final class Background: @unchecked Sendable {
        package let process: Process
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
        package func stop() async throws -> Output {
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
package final class LockedData: @unchecked Sendable {
    private let lock = NSLock()
    private var data: Data?

    package func set(_ data: Data) { lock.withLock { self.data = data } }
    package var isSet: Bool { lock.withLock { data != nil } }
    package var value: Data { lock.withLock { data ?? Data() } }
}

/// Splits table output into rows of whitespace-separated cells.
package func tableRows(_ text: String) -> [[String]] {
    text.split(separator: "\n").map { $0.split(whereSeparator: { $0 == " " }).map(String.init) }
}
