import APITestSupport
import Foundation
import Glibc
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
        try Self.writeKubeconfig(kubeconfig, server: "http://127.0.0.1:\(port)")
    }

    /// Writes a kubeconfig for `server` at `path`: trusting `caPEM` when given, presenting
    /// `token` when given (no credentials otherwise).
    package static func writeKubeconfig(_ path: String, server: String, caPEM: String? = nil, token: String? = nil) throws {
        let ca = caPEM.map { "\n    certificate-authority-data: \(Data($0.utf8).base64EncodedString())" } ?? ""
        let user = token.map { "\n    token: \($0)" } ?? " {}"
        let config = """
            apiVersion: v1
            kind: Config
            clusters:
            - name: test
              cluster:
                server: \(server)\(ca)
            contexts:
            - name: test
              context:
                cluster: test
                user: test
            current-context: test
            users:
            - name: test
              user:\(user)
            """
        try config.write(toFile: path, atomically: true, encoding: .utf8)
    }

    /// kubectl with an existing kubeconfig (HTTPS, tokens).
    package init(binary: String = Kubectl.defaultBinary, kubeconfig: String, cacheDirectory: String) {
        self.binary = binary
        self.kubeconfig = kubeconfig
        self.cacheDirectory = cacheDirectory
    }

    private func argv(_ arguments: [String]) -> [String] {
        [binary, "--kubeconfig", kubeconfig, "--cache-dir", cacheDirectory] + arguments
    }

    /// Runs kubectl to completion, with `input` on stdin.
    package func callAsFunction(_ arguments: String..., input: String? = nil) async throws -> Output {
        try await run(arguments, input: input)
    }

    package func run(_ arguments: [String], input: String? = nil) async throws -> Output {
        let argv = argv(arguments), environment = ["KUBECONFIG": kubeconfig]
        return try await blocking {
            let result = try TestChild.launch(argv, environment: environment, stdin: input.map { .bytes(Array($0.utf8)) } ?? .null,
                                              stdout: .capture, stderr: .capture).finish()
            return Output(status: result.status, stdout: String(decoding: result.stdout, as: UTF8.self),
                          stderr: String(decoding: result.stderr, as: UTF8.self))
        }
    }

    /// Starts kubectl in the background (`get -w`); `stop()` ends it and returns its output.
    /// Its output goes to files, so a long watch can never fill a pipe and stall.
    package func start(_ arguments: String...) throws -> Background {
        let base = cacheDirectory + "/background-\(UInt64.random(in: 0...UInt64.max))"
        let child = try TestChild.launch(argv(arguments), environment: ["KUBECONFIG": kubeconfig],
                                         stdout: .file(base + ".out"), stderr: .file(base + ".err"))
        return Background(child: child, base: base)
    }

    package final class Background: @unchecked Sendable {
        private let child: TestChild
        private let base: String
        private var status: Int32?

        init(child: TestChild, base: String) {
            self.child = child
            self.base = base
        }

        package var pid: pid_t { child.pid }

        /// Whether kubectl is still running (reaps it once it has ended).
        package var isRunning: Bool {
            guard status == nil else { return false }
            var raw: Int32 = 0
            guard waitpid(child.pid, &raw, WNOHANG) == child.pid else { return true }
            status = TestChild.decode(raw)
            return false
        }

        deinit {
            if status == nil {
                kill(child.pid, SIGKILL)
                _ = child.wait()
            }
            unlink(base + ".out")
            unlink(base + ".err")
        }

        /// What kubectl has printed so far (Go writes stdout unbuffered): tests wait on it for
        /// a watch's rows or a follower's lines instead of sleeping and hoping.
        package var stdoutSoFar: String {
            (try? String(contentsOfFile: base + ".out", encoding: .utf8)) ?? ""
        }

        /// Interrupts kubectl and collects what it printed.
        package func stop() async throws -> Output {
            let child = self.child
            var status: Int32
            if let known = self.status {
                status = known
            } else {
                status = try await blocking {
                    kill(child.pid, SIGINT)
                    return child.wait()
                }
            }
            self.status = status
            let out = (try? String(contentsOfFile: base + ".out", encoding: .utf8)) ?? ""
            let err = (try? String(contentsOfFile: base + ".err", encoding: .utf8)) ?? ""
            return Output(status: status, stdout: out, stderr: err)
        }
    }
}

/// Splits table output into rows of whitespace-separated cells.
package func tableRows(_ text: String) -> [[String]] {
    text.split(separator: "\n").map { $0.split(whereSeparator: { $0 == " " }).map(String.init) }
}
