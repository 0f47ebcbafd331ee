import Foundation
import Glibc
import TestSupport
import Testing
@testable import Runtime

/// `AtomicFile`: whole files by rename, with the mode asked for whatever the umask, and no
/// temporary left behind when a write fails. (The tests leave the process's umask alone: other
/// tests create files at the same time.)
@Suite struct AtomicFileTests {
    func mode(_ path: String) -> mode_t {
        var info = stat()
        return stat(path, &info) == 0 ? info.st_mode & 0o7777 : 0
    }

    @Test func replacesTheFileWholeWithTheModeAskedFor() throws {
        let root = try TestRoot()
        let path = root.path + "/state/status.json"
        try AtomicFile.write(Data("first".utf8), to: path, creatingDirectory: true)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "first")
        #expect(mode(path) == 0o644)
        try AtomicFile.write("second, longer than the first", to: path, mode: 0o600)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "second, longer than the first")
        #expect(mode(path) == 0o600)
        let entries = try FileManager.default.contentsOfDirectory(atPath: root.path + "/state")
        #expect(entries == ["status.json"], "no temporary left: \(entries)")
    }

    @Test func aFailedWriteLeavesTheOldFileAndNoTemporary() throws {
        let root = try TestRoot()
        let path = root.path + "/file"
        try AtomicFile.write("kept", to: path)
        // A directory in the way of the rename: the write fails, the target is untouched.
        let blocked = root.path + "/dir"
        try FileManager.default.createDirectory(atPath: blocked + "/inside", withIntermediateDirectories: true)
        #expect(throws: SystemError.self) { try AtomicFile.write("new", to: blocked) }
        #expect(throws: SystemError.self) { try AtomicFile.write("x", to: root.path + "/missing/file") }
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "kept")
        #expect(try FileManager.default.contentsOfDirectory(atPath: root.path).sorted() == ["dir", "file"])
    }

    @Test func createEmptyMakesOneAndLeavesAnExistingFileAlone() throws {
        let root = try TestRoot()
        let path = root.path + "/termination-log"
        // 0o666 is more than the usual umask (022) lets open(2) give: set with fchmod.
        try AtomicFile.createEmpty(path, mode: 0o666)
        #expect(mode(path) == 0o666)
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)).isEmpty)
        try AtomicFile.write("written by the container", to: path, mode: 0o666)
        try AtomicFile.createEmpty(path, mode: 0o600)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "written by the container")
        #expect(mode(path) == 0o666)
        #expect(throws: SystemError.self) { try AtomicFile.createEmpty(root.path + "/missing/file", mode: 0o644) }
    }
}
