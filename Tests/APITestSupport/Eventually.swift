import Foundation

/// Polls `condition` until it holds or `seconds` pass; the last value is returned so a test's
/// `#expect` shows what was seen. The default leaves room for a loaded machine: the VM test's
/// disk writes have held every writer of this process for half a minute (it returns at once
/// when the condition holds, so a passing test does not wait for it).
package func eventually<T: Sendable>(within seconds: Double = 30, _ probe: @Sendable () async throws -> T,
                             until condition: @Sendable (T) -> Bool) async throws -> T {
    let deadline = Date().addingTimeInterval(seconds)
    var value = try await probe()
    while !condition(value), Date() < deadline {
        try await Task.sleep(for: .milliseconds(50))
        value = try await probe()
    }
    return value
}
