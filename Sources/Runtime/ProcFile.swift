import Glibc

/// Reads kernel-generated files (`/proc/self/mounts`, `/proc/stat`, `/proc/<pid>/stat`) whole.
///
/// procfs reports a size of 0 for these files, and Foundation's `String(contentsOfFile:)`
/// then returns only the first read's worth (about 4 KiB here): a mount table of a busy node
/// came back cut short, so mounts past the cut looked absent. This reads until end of file.
public enum ProcFile {
    /// The whole file as text, or nil when it cannot be opened or read.
    public static func read(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16384)
        while true {
            let count = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                return nil
            }
            if count == 0 { break }
            bytes.append(contentsOf: chunk[0..<count])
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
