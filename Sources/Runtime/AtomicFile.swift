import Foundation
import Glibc

/// Files written whole: to a temporary name beside the target, then renamed over it, so a
/// reader (or an agent restarted after a crash) never sees half a file.
public enum AtomicFile {
    public static func write(_ data: Data, to path: String, creatingDirectory: Bool = false) throws {
        if creatingDirectory {
            try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent,
                                                    withIntermediateDirectories: true)
        }
        // Unique per writer, so two writers of one file never share a temporary.
        let temporary = path + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        guard FileManager.default.createFile(atPath: temporary, contents: data) else { throw SystemError("create", temporary) }
        guard rename(temporary, path) == 0 else {
            let error = SystemError("rename", path)
            unlink(temporary)
            throw error
        }
    }
}
