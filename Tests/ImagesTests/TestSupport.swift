import Foundation
import Runtime
import Testing
import TestSupport
@testable import Images

/// Shared helpers: temporary directories that are always removed, running tools, fixtures.
enum TestSupport {
    /// The repository root, found from this file's path (Tests/ImagesTests/TestSupport.swift).
    static let repositoryRoot: String = {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().path
    }()

    /// Runs `body` with a fresh empty directory that is deleted afterwards, even on failure.
    static func withTemporaryDirectory<T>(_ body: (String) async throws -> T) async throws -> T {
        let path = FileManager.default.temporaryDirectory
            .appendingPathComponent("swiftlet-images-test-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        defer { try? FileTree.removeTree(atPath: path) }
        return try await body(path)
    }

    /// Runs a program, returns its stdout; throws with stderr when it exits non-zero. The wait
    /// happens on a thread of its own: a test waiting for a child on one of Swift's cooperative
    /// threads (two on a two-core machine) stalls every other test of the process.
    @discardableResult
    static func run(_ executable: String, _ arguments: [String], in directory: String? = nil) async throws -> String {
        let result: Result<String, any Error> = await BlockingCall.run(stackSize: 512 * 1024) {
            Result { try runBlocking(executable, arguments, in: directory) }
        }
        return try result.get()
    }

    private static func runBlocking(_ executable: String, _ arguments: [String], in directory: String?) throws -> String {
        let result = try TestChild.launch([executable] + arguments, directory: directory, stdout: .capture, stderr: .capture).finish()
        guard result.status == 0 else {
            throw CommandFailed(command: ([executable] + arguments).joined(separator: " "),
                                status: result.status, stderr: String(decoding: result.stderr, as: UTF8.self))
        }
        return String(decoding: result.stdout, as: UTF8.self)
    }

    struct CommandFailed: Error, CustomStringConvertible {
        var command: String
        var status: Int32
        var stderr: String
        var description: String { "\(command) exited with \(status): \(stderr)" }
    }

    /// The rootfs fixtures (rootfs-fixtures/build.sh), built once per process and shared:
    /// tests read them and write only into their own directories. (Building them per test, on
    /// the cooperative pool, held both of its threads for most of a minute in a full run.)
    static func fixtures() async throws -> String {
        try await Fixtures.builtDirectory()
    }

    static var isRoot: Bool { geteuid() == 0 }

    static func write(_ text: String, to path: String) throws {
        try FileManager.default.createDirectory(
            atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
    }

    static func read(_ path: String) throws -> String {
        try String(contentsOfFile: path, encoding: .utf8)
    }

    /// lstat's file type and permission bits, or nil when nothing is there.
    static func lstatMode(_ path: String) -> mode_t? {
        var st = stat()
        return lstat(path, &st) == 0 ? st.st_mode : nil
    }
}
