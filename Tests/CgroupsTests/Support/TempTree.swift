import Foundation
import Testing

/// A temp directory standing in for `/sys/fs/cgroup` (or one hierarchy of it) in unit tests.
/// Call `remove()` in a `defer`.
struct TempTree {
    let path: String

    init() throws {
        var template = Array("/tmp/swiftlet-cgroups-test-XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        path = String(cString: try #require(made))
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }

    func url(_ relative: String) -> String {
        relative.isEmpty ? path : path + "/" + relative
    }

    func mkdir(_ relative: String) throws {
        try FileManager.default.createDirectory(atPath: url(relative), withIntermediateDirectories: true)
    }

    func write(_ relative: String, _ contents: String) throws {
        try contents.write(toFile: url(relative), atomically: false, encoding: .utf8)
    }

    func read(_ relative: String) throws -> String {
        try String(contentsOfFile: url(relative), encoding: .utf8)
    }

    func exists(_ relative: String) -> Bool {
        FileManager.default.fileExists(atPath: url(relative))
    }

    /// Creates a directory with the given files (name → contents), the way the kernel
    /// populates a new cgroup with its control files.
    func group(_ relative: String, files: [String: String]) throws {
        try mkdir(relative)
        for (name, contents) in files {
            try write(relative + "/" + name, contents)
        }
    }
}
