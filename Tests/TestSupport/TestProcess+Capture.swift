import Foundation
import Runtime

extension TestProcess {
    /// Runs `argv` to completion on a thread of its own with `input` on stdin: its status and
    /// its stdout and stderr apart.
    public static func runCapturing(_ argv: [String], input: [UInt8]? = nil,
                                    environment: [String: String] = [:]) async -> (status: Int32, stdout: String, stderr: String) {
        await BlockingCall.run(stackSize: 512 * 1024) {
            do {
                let result = try TestChild.launch(argv, environment: environment, stdin: input.map { .bytes($0) } ?? .null,
                                                  stdout: .capture, stderr: .capture).finish()
                return (result.status, String(decoding: result.stdout, as: UTF8.self), String(decoding: result.stderr, as: UTF8.self))
            } catch {
                return (-1, "", "cannot start \(argv.first ?? ""): \(error)")
            }
        }
    }
}
