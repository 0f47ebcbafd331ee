import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A fresh directory removed when the test ends, pass or fail.
package struct TemporaryDirectory: ~Copyable {
    package let path: String

    package init() throws {
        let path = NSTemporaryDirectory() + "swiftlet-server-test-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        self.path = path
    }

    deinit {
        // A store closing on its own thread may still write its -wal/-shm files while we
        // remove the directory: try again until it is gone (at most about a second).
        for _ in 0..<50 {
            try? FileManager.default.removeItem(atPath: path)
            if !FileManager.default.fileExists(atPath: path) { return }
            usleep(20_000)
        }
    }
}
