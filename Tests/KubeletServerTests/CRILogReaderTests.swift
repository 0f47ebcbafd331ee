import Agent
import Foundation
import Testing
import TestSupport

/// The CRI log parser and reader the kubelet API and `swiftlet logs` share.
@Suite
struct CRILogReaderTests {
    @Test func partialRecordsJoinAcrossChunks() {
        var parser = CRILogParser()
        let text = "2026-11-22T10:00:00.100000000Z stdout P he\n2026-11-22T10:00:00.200000000Z stdout P ll\n2026-11-22T10:00:00.3Z stdout F o\n2026-11-22T10:00:01Z stderr F "
        let bytes = Array(text.utf8)
        var lines: [CRILogLine] = []
        for chunk in stride(from: 0, to: bytes.count, by: 7).map({ bytes[$0..<min($0 + 7, bytes.count)] }) {
            lines += parser.feed(chunk)
        }
        lines += parser.feed(Array("\n".utf8))
        #expect(lines.map(\.text) == ["hello\n", "\n"])
        #expect(lines.map(\.stream) == ["stdout", "stderr"])
        #expect(lines[0].goTimestamp == "2026-11-22T10:00:00.1Z")
        #expect(lines[1].goTimestamp == "2026-11-22T10:00:01Z")
    }

    @Test func timestampsParseToNanoseconds() {
        #expect(CRILogParser.nanoseconds("1970-01-01T00:00:01.000000002Z") == 1_000_000_002)
        #expect(CRILogParser.nanoseconds("1970-01-01T01:00:00.5+01:00") == 500_000_000)
        #expect(CRILogParser.nanoseconds("1970-01-01T00:00:00Z") == 0)
        #expect(CRILogParser.nanoseconds("yesterday") == nil)
        #expect(CRILogParser.nanoseconds("1970-01-01T00:00:00") == nil)
    }

    @Test func tailCountsLinesNotRecordsInLargeFiles() async throws {
        let root = try TestRoot()
        defer { root.cleanUp() }
        // 20,000 lines, every third one split in two records: several 64 KiB chunks.
        var text = ""
        for index in 0..<20_000 {
            if index % 3 == 0 {
                text += "2026-11-22T10:00:00.000000000Z stdout P line-\n2026-11-22T10:00:00.000000000Z stdout F \(index)\n"
            } else {
                text += "2026-11-22T10:00:00.000000000Z stdout F line-\(index)\n"
            }
        }
        text += "2026-11-22T10:00:00.000000000Z stdout F unfinished" // no newline: not a line yet
        let path = root.path + "/0.log"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        let collected = Collected()
        try await ContainerLogReader(options: LogOptions(tailLines: 4)).read(path: path) { collected.append($0) }
        #expect(collected.text == "line-19996\nline-19997\nline-19998\nline-19999\n")
        let all = Collected()
        try await ContainerLogReader(options: LogOptions(tailLines: 100_000)).read(path: path) { all.append($0) }
        #expect(all.text.split(separator: "\n").count == 20_000)
    }

    final class Collected: @unchecked Sendable {
        private let lock = NSLock()
        private var parts: [String] = []
        func append(_ text: String) { lock.withLock { parts.append(text) } }
        var text: String { lock.withLock { parts.joined() } }
    }
}
