import Foundation
import Runtime
import Synchronization

/// The kubectl versions the tests drive swiftlet with: the version dispatcher installed on the
/// build machines (1.32), Google's 1.27, and Debian's 1.20 fetched on demand.
public enum KubectlBinaries {
    /// The version dispatcher installed on the build machines.
    public static let defaultBinary = "/usr/bin/kubectl"
    /// An older client, from the Google Cloud SDK.
    public static let binary127 = "/usr/lib/google-cloud-sdk/bin/kubectl.1.27"

    public static var isInstalled: Bool { FileManager.default.isExecutableFile(atPath: defaultBinary) }

    /// Debian's kubectl 1.20 (package kubernetes-client): $KUBECTL_1_20, or unpacked from the
    /// Debian package into .build/kubectl-1.20 (`apt-get download` + `dpkg -x`; installing it
    /// would replace the kubectl dispatcher). Throws, saying what failed, when it cannot be had.
    /// Fetched on a thread of its own (apt-get may take a while; a cooperative thread must not
    /// wait for it), one fetch at a time.
    public static func binary120() async throws -> String {
        let result: Result<String, any Error> = await BlockingCall.run(stackSize: 512 * 1024) {
            fetchLock.withLock { _ in Result { try fetch120() } }
        }
        return try result.get()
    }

    private static let fetchLock = Mutex(())

    private static func fetch120() throws -> String {
        if let path = ProcessInfo.processInfo.environment["KUBECTL_1_20"] { return path }
        let directory = Fixtures.repoRoot + "/.build/kubectl-1.20"
        let binary = directory + "/usr/bin/kubectl"
        if FileManager.default.isExecutableFile(atPath: binary) { return binary }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let script = "cd '\(directory)' && apt-get download -q kubernetes-client && dpkg -x kubernetes-client_*.deb . && rm -f kubernetes-client_*.deb"
        let (status, output) = try TestProcess.runAllowingFailure(["/bin/sh", "-c", script])
        guard status == 0, FileManager.default.isExecutableFile(atPath: binary) else {
            throw FixtureError(message: "cannot get Debian's kubectl 1.20 (kubernetes-client): \(output)")
        }
        return binary
    }
}
