import Foundation
import Images
import NIOCore
import NIOHTTP1

/// Downloads one blob into the store: streamed to a temporary file by a writer thread that
/// hashes as it writes, resumed with `Range` requests when the connection drops (up to
/// `maxAttempts` requests in all), committed only when size and digest match.
///
/// A server that answers a range request with the whole blob (200) is handled by starting
/// the file over; one that sends more bytes than the descriptor says is cut off at once.
struct BlobDownload: Sendable {
    let repository: RegistryRepository
    let digest: Digest
    let size: Int64
    let transaction: ImagePullTransaction
    /// Called with the bytes received so far (for progress displays).
    let progress: @Sendable (Int64) -> Void
    var maxAttempts = 5
    var retryDelay = Duration.milliseconds(200)

    func run() async throws {
        let writer = try transaction.writer(for: digest, size: size)
        let pipe = ChunkPipe()
        // The consumer: write and hash on a thread of its own, commit at the end.
        let consumer = Task {
            await Self.consume(pipe, writer: writer)
        }
        do {
            try await produce(pipe)
            pipe.finish()
        } catch {
            pipe.abort(error)
            _ = await consumer.value
            throw error
        }
        if let error = await consumer.value {
            if let error = error as? ImageError {
                switch error {
                case .digestMismatch, .sizeMismatch:
                    throw RegistryError(.invalidContent, "failed commit on blob \(digest) from \(repository.endpoint): \(error)")
                default:
                    break
                }
            }
            throw RegistryError(.invalidContent, "writing blob \(digest) failed: \(error)")
        }
    }

    /// Runs the consumer on its own thread; returns its error, nil when the blob was committed.
    private static func consume(_ pipe: ChunkPipe, writer: BlobWriter) async -> (any Error)? {
        await withCheckedContinuation { (continuation: CheckedContinuation<(any Error)?, Never>) in
            let thread = Thread {
                var failure: (any Error)?
                do {
                    while let item = pipe.next() {
                        switch item {
                        case .data(let buffer):
                            try buffer.withUnsafeReadableBytes { try writer.append($0) }
                        case .reset:
                            try writer.reset()
                        }
                    }
                    if let aborted = pipe.aborted { throw aborted }
                    try writer.commit()
                } catch {
                    failure = error
                    pipe.stopConsumer(error)
                    // Drain until the producer finishes, so it is never left waiting.
                    while pipe.next() != nil {}
                }
                continuation.resume(returning: failure)
            }
            thread.stackSize = 256 * 1024
            thread.start()
        }
    }

    /// Fetches the bytes, resuming after failures where the stream broke.
    private func produce(_ pipe: ChunkPipe) async throws {
        var received: Int64 = 0
        var lastError: (any Error)?
        for attempt in 0..<maxAttempts {
            if attempt > 0 {
                try await Task.sleep(for: retryDelay * (1 << min(attempt - 1, 4)))
            }
            let response: RegistryResponse
            do {
                response = try await repository.blob(digest, offset: received)
            } catch let error as RegistryError where error.kind == .unavailable || error.kind == .server {
                lastError = error
                continue
            }
            if received > 0 {
                // A 206 must continue exactly where we are; anything else starts over.
                let continues = response.status == .partialContent
                    && Self.rangeStart(response.headers.first(name: "Content-Range")) == received
                if !continues {
                    try await pipe.push(.reset)
                    received = 0
                    if response.status == .partialContent {
                        // A range we did not ask for: ask for the whole blob again.
                        await response.discard()
                        lastError = RegistryError(.server, "blob \(digest): the registry answered a range request with another range")
                        continue
                    }
                }
            }
            do {
                for try await buffer in response.body {
                    guard received + Int64(buffer.readableBytes) <= size else {
                        throw RegistryError(.invalidContent, "blob \(digest) from \(repository.endpoint) is larger than its descriptor's \(size) bytes")
                    }
                    received += Int64(buffer.readableBytes)
                    try await pipe.push(.data(buffer))
                    progress(received)
                }
            } catch let error as RegistryError {
                throw error
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                if Task.isCancelled { throw CancellationError() }
                if error is ImageError { throw error }
                // The connection broke mid-blob: resume from `received`.
                lastError = RegistryTransport.transportError(error, method: "GET", url: response.url)
                continue
            }
            if received == size { return }
            // The body ended early without an error (a proxy closing the stream): resume too.
            lastError = RegistryError(.unavailable, "blob \(digest) from \(repository.endpoint): the connection closed after \(received) of \(size) bytes")
        }
        throw (lastError as? RegistryError).map { $0.wrapped("failed to copy blob \(digest) after \(maxAttempts) attempts") }
            ?? lastError ?? RegistryError(.unavailable, "blob \(digest): no attempt made")
    }

    /// The first byte of `bytes START-END/TOTAL`, or nil.
    static func rangeStart(_ header: String?) -> Int64? {
        guard let header, header.hasPrefix("bytes ") else { return nil }
        let range = header.dropFirst(6)
        guard let dash = range.firstIndex(of: "-") else { return nil }
        return Int64(range[..<dash])
    }
}
