import Foundation
import Storage

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

/// Whether the store settles: its revision stays the same for `quiet` seconds at some point
/// within `seconds`. For "the controllers' own writes do not make them write again": a
/// controller that keeps rewriting never settles, while one that is only late under load (a
/// queued sync still to run) settles after it, so the check does not depend on timing luck.
package func storeSettles(_ storage: any Storage, quiet: Double = 1, within seconds: Double = 30) async throws -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    var revision = try await storage.currentRevision()
    var since = Date()
    while Date() < deadline {
        try await Task.sleep(for: .milliseconds(100))
        let now = try await storage.currentRevision()
        if now != revision {
            revision = now
            since = Date()
        } else if Date().timeIntervalSince(since) >= quiet {
            return true
        }
    }
    return false
}
