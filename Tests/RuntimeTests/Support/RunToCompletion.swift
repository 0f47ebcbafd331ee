import Foundation
import Glibc
import TestSupport
@testable import Runtime

/// Runs a spawn spec to completion, capturing stdout+stderr.
func runToCompletion(_ spec: SpawnSpec, in root: TestRoot) async throws -> (ExitStatus, String) {
    let outPath = root.path + "/out-\(UUID().uuidString.prefix(6))"
    let fd = open(outPath, O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, 0o644)
    precondition(fd >= 0)
    var spec = spec
    spec.stdout = fd
    spec.stderr = fd
    let process: SpawnedProcess
    do {
        process = try Spawner.spawn(spec)
    } catch {
        close(fd)
        throw error
    }
    close(fd)
    let status = await process.wait()
    process.closeHandle()
    let output = (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? ""
    return (status, output)
}
