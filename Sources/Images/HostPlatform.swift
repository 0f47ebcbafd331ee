#if canImport(Glibc)
import Glibc
#endif

/// The OCI platform of this machine (`linux/amd64`), used to pick a manifest from an index.
/// Architecture names follow Go's GOARCH, as image-spec does.
package struct HostPlatform: Sendable, Equatable {
    package var os: String
    package var architecture: String

    package init(os: String, architecture: String) {
        self.os = os
        self.architecture = architecture
    }

    package static let current: HostPlatform = {
        var info = utsname()
        uname(&info)
        let machine = withUnsafePointer(to: &info.machine) {
            String(cString: UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self))
        }
        return HostPlatform(os: "linux", architecture: goArchitecture(machine))
    }()

    package static func goArchitecture(_ machine: String) -> String {
        switch machine {
        case "x86_64": return "amd64"
        case "aarch64", "arm64": return "arm64"
        case "armv7l", "armv6l": return "arm"
        case "i386", "i686": return "386"
        default: return machine  // ppc64le, s390x, riscv64 are spelled the same
        }
    }

    package var description: String { "\(os)/\(architecture)" }

    /// Whether a manifest for `platform` runs here (variants are not distinguished).
    package func matches(_ platform: OCIPlatform) -> Bool {
        platform.os == os && platform.architecture == architecture
    }
}
