import Foundation
import Glibc

/// Files written whole: to a temporary name beside the target, then renamed over it, so a
/// reader (or an agent restarted after a crash) never sees half a file.
///
/// Plain open/write/rename, without fsync: Foundation's atomic writes (`Data.write(options:
/// .atomic)`, `FileManager.createFile`, `String.write(atomically:)`) fsync the file, which on
/// ext4 waits for a journal commit (milliseconds), and the agent writes several such files per
/// pod start (its status, the container's record, /etc/hosts, hostname, resolv.conf). A profile
/// of 100 pods starting showed the Swift pool's threads blocked in those fsyncs more than in
/// anything else. These files are the agent's own state, rebuilt from the runtime and the API
/// after a crash, and kubelet (its pod status and checkpoint files) and CNI's host-local IPAM
/// write theirs the same way; ext4 flushes a file's data before a rename replaces another
/// (auto_da_alloc), so a replaced file is not left empty by a power loss.
public enum AtomicFile {
    public static func write(_ data: Data, to path: String, creatingDirectory: Bool = false, mode: mode_t = 0o644) throws {
        if creatingDirectory {
            try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent,
                                                    withIntermediateDirectories: true)
        }
        // Unique per writer, so two writers of one file never share a temporary.
        let temporary = path + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let fd = Glibc.open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard fd >= 0 else { throw SystemError("create", temporary) }
        do {
            defer { close(fd) }
            try data.withUnsafeBytes { try writeAll(fd, $0, path: temporary) }
            // The mode exactly, whatever the umask took from it.
            guard fchmod(fd, mode) == 0 else { throw SystemError("chmod", temporary) }
        } catch {
            unlink(temporary)
            throw error
        }
        guard rename(temporary, path) == 0 else {
            let error = SystemError("rename", path)
            unlink(temporary)
            throw error
        }
    }

    /// All of `buffer` to `fd`, again after EINTR and short writes.
    static func writeAll(_ fd: Int32, _ buffer: UnsafeRawBufferPointer, path: String) throws {
        guard let base = buffer.baseAddress else { return }
        var offset = 0
        while offset < buffer.count {
            let written = Glibc.write(fd, base + offset, buffer.count - offset)
            if written < 0 {
                if errno == EINTR { continue }
                throw SystemError("write", path)
            }
            offset += written
        }
    }

    public static func write(_ text: String, to path: String, mode: mode_t = 0o644) throws {
        try write(Data(text.utf8), to: path, mode: mode)
    }

    /// Creates an empty file with exactly `mode` when none exists (an existing one is left as
    /// it is): `FileManager.createFile` would write it atomically, with an fsync.
    public static func createEmpty(_ path: String, mode: mode_t) throws {
        let fd = Glibc.open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        if fd < 0 {
            if errno == EEXIST { return }
            throw SystemError("create", path)
        }
        defer { close(fd) }
        guard fchmod(fd, mode) == 0 else { throw SystemError("chmod", path) }
    }
}
