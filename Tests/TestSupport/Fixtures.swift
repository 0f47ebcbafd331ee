import Foundation
import Images
import Runtime

/// The test images, built once per machine by rootfs-fixtures/build.sh into .build/test-fixtures
/// and imported into one store shared by the tests of this process.
public enum Fixtures {
    public static let repoRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        while url.path != "/" {
            url.deleteLastPathComponent()
            if FileManager.default.fileExists(atPath: url.path + "/Package.swift") { return url.path }
        }
        fatalError("Package.swift not found above \(#filePath)")
    }()

    public static let directory = repoRoot + "/.build/test-fixtures"

    /// The build directory holding `swiftlet` and `swiftlet-monitor`: the test runner's.
    public static let binDirectory: String = {
        let runner = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var dir = runner.deletingLastPathComponent()
        if dir.path.hasSuffix(".xctest") { dir = dir.deletingLastPathComponent() }
        return dir.path
    }()

    /// Built fixtures; fails loudly when the script fails (e.g. busybox-static missing).
    public static let built: Result<String, Error> = {
        PoolWatchdog.ensureStarted()
        let start = Date()
        defer { PoolWatchdog.checkBlocking("Fixtures.built", since: start) }
        do {
            let (status, output) = try TestProcess.runAllowingFailure(["/bin/sh", repoRoot + "/rootfs-fixtures/build.sh", directory])
            guard status == 0 else {
                return .failure(FixtureError(message: "rootfs-fixtures/build.sh failed: " + output))
            }
            return .success(directory)
        } catch {
            return .failure(error)
        }
    }()

    /// One image store with busybox and the configured image, for all runtime tests.
    public static let store: Result<ImageStore, Error> = {
        let start = Date()
        defer { PoolWatchdog.checkBlocking("Fixtures.store", since: start) }
        do {
            let dir = try built.get()
            let store = try ImageStore(root: repoRoot + "/.build/test-images")
            _ = try store.importImage(from: dir + "/busybox")
            _ = try store.importImage(from: dir + "/configured")
            return .success(store)
        } catch {
            return .failure(error)
        }
    }()
}

extension Fixtures {
    /// `built`, first evaluated on a thread of its own: the build script takes seconds, and a
    /// test (or every test waiting on the same lazy value) must not hold a cooperative thread
    /// meanwhile.
    public static func builtDirectory() async throws -> String {
        try await BlockingCall.run(stackSize: 512 * 1024) { built }.get()
    }

    /// `store`, first evaluated on a thread of its own (it builds and imports the images).
    public static func imageStore() async throws -> ImageStore {
        try await BlockingCall.run(stackSize: 512 * 1024) { store }.get()
    }
}

public struct FixtureError: Error, CustomStringConvertible {
    public let message: String
    public init(message: String) { self.message = message }
    public var description: String { message }
}
