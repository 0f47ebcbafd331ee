import Storage
import Testing

/// Collects `count` events from a watch, failing after 30 seconds (generous: a loaded
/// machine's disk, a VM test writing, has held writers for half a minute).
package func collect(_ count: Int, from watch: StorageWatch) async throws -> [StorageEvent] {
    try await withThrowingTaskGroup(of: [StorageEvent]?.self) { group in
        group.addTask {
            var events: [StorageEvent] = []
            for try await event in watch.events {
                events.append(event)
                if events.count == count { break }
            }
            return events
        }
        group.addTask {
            try await Task.sleep(for: .seconds(30))
            return nil
        }
        let first = try await group.next() ?? nil
        group.cancelAll()
        watch.cancel()
        return try #require(first, "timed out waiting for \(count) watch events")
    }
}
