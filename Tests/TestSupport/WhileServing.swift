import Foundation

/// Runs a server for the duration of `body`: `run` serves until its task is cancelled and
/// reports the port it listens on through the closure it is given (`APIServer.run`,
/// `KubeletServer.run`). `body` gets that port; the server is stopped before this returns,
/// and a server that fails to start is the result (or "`name` did not start" when it says
/// nothing).
package func whileServing<T: Sendable>(_ name: String,
                                       run: @escaping @Sendable (@escaping @Sendable (Int) async -> Void) async throws -> Void,
                                       _ body: (Int) async throws -> T) async -> Result<T, any Error> {
    let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
    return await withTaskGroup(of: Result<T, any Error>?.self) { group in
        group.addTask {
            do {
                try await run { port in continuation.yield(port) }
            } catch {
                continuation.finish()
                return .failure(error)
            }
            return nil
        }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else {
            group.cancelAll()
            return (await group.next() ?? nil) ?? .failure(FixtureError(message: "\(name) did not start"))
        }
        let outcome: Result<T, any Error>
        do {
            outcome = .success(try await body(port))
        } catch {
            outcome = .failure(error)
        }
        group.cancelAll()
        return outcome
    }
}
