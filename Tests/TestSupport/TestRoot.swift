import Runtime
import Foundation
import Glibc

/// A scratch directory for one test, removed (with anything mounted inside unmounted) at the end.
public final class TestRoot {
    public let path: String

    public init(_ name: String = #function) throws {
        PoolWatchdog.ensureStarted()
        let safe = name.filter { $0.isLetter || $0.isNumber }.prefix(30)
        path = "/tmp/swiftlet-test-\(safe)-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { cleanUp() }

    /// Unmounts everything below the directory and removes it. Safe to call more than once.
    public func cleanUp() {
        // Unmount anything a failed test left under our path, deepest first.
        // Unmount until nothing of ours is mounted: stacked mounts need one call each, and under
        // parallel test runs a single pass has been seen to leave some behind.
        for _ in 0..<10 {
            let mounts = ProcFile.read("/proc/self/mounts") ?? ""
            let points = mounts.split(separator: "\n").compactMap { $0.split(separator: " ").dropFirst().first.map(String.init) }
                .filter { $0.hasPrefix(path + "/") }.sorted { $0.count > $1.count }
            if points.isEmpty { break }
            for point in points { _ = umount2(point, Int32(MNT_DETACH)) }
        }
        try? FileManager.default.removeItem(atPath: path)
    }

    /// A directory rootfs holding busybox and links for the applets tests use.
    public func busyboxRootfs(_ name: String = "rootfs") throws -> String {
        let root = path + "/" + name
        let fm = FileManager.default
        for dir in ["bin", "etc", "tmp", "proc", "sys", "dev", "root"] {
            try fm.createDirectory(atPath: root + "/" + dir, withIntermediateDirectories: true)
        }
        try fm.copyItem(atPath: "/bin/busybox", toPath: root + "/bin/busybox")
        for applet in ["sh", "cat", "echo", "hostname", "ls", "grep", "sleep", "id", "ps", "wget", "httpd",
                       "mount", "unshare", "touch", "head", "tr", "true", "false", "env", "pwd", "stat", "nc", "kill"] {
            try fm.createSymbolicLink(atPath: root + "/bin/" + applet, withDestinationPath: "busybox")
        }
        try "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n"
            .write(toFile: root + "/etc/passwd", atomically: true, encoding: .utf8)
        return root
    }
}

