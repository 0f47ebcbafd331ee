import CShims
import Foundation
import Glibc
import Images
import Synchronization

/// Compiled seccomp programs, kept so a profile is compiled once per capability set instead of
/// once per container start: libseccomp takes about 10 ms to generate RuntimeDefault's BPF for
/// x86_64, x86 and x32. Kept in memory for the agent's lifetime and, when given a directory,
/// on disk for one-shot commands (`swiftlet run`).
///
/// The key covers everything the program depends on: the profile's rules, the capability set,
/// the architecture, the running kernel (rules gated on `minKernel`) and the libseccomp
/// version (which syscall names it can resolve).
public final class SeccompCache: Sendable {
    private let directory: String?
    private let memory = Mutex<[String: [UInt8]]>([:])
    /// The last programs by profile and capabilities, compared as values: the key's text is
    /// the profile described by reflection and hashed, 6% of the agent's CPU while 500 pods
    /// started; a node runs a handful of distinct profiles.
    private let recent = Mutex<[(profile: SeccompProfile, capabilities: Set<String>, bytes: [UInt8])]>([])
    private static let recentLimit = 16

    public init(directory: String?) {
        self.directory = directory
    }

    public func filter(for profile: SeccompProfile, capabilities: Set<String>) throws -> [UInt8] {
        if let hit = recent.withLock({ $0.first { $0.profile == profile && $0.capabilities == capabilities }?.bytes }) {
            return hit
        }
        let bytes = try keyedFilter(for: profile, capabilities: capabilities)
        recent.withLock { recent in
            recent.append((profile, capabilities, bytes))
            if recent.count > Self.recentLimit { recent.removeFirst() }
        }
        return bytes
    }

    private func keyedFilter(for profile: SeccompProfile, capabilities: Set<String>) throws -> [UInt8] {
        let key = Self.key(profile, capabilities)
        if let hit = memory.withLock({ $0[key] }) { return hit }
        if let directory, let data = FileManager.default.contents(atPath: directory + "/" + key + ".bpf"),
           !data.isEmpty, data.count % 8 == 0 {
            let bytes = [UInt8](data)
            memory.withLock { $0[key] = bytes }
            return bytes
        }
        let bytes = try profile.compile(capabilities: capabilities)
        memory.withLock { $0[key] = bytes }
        // Best effort: a cache that cannot be written only costs the next start a compile.
        if let directory { try? AtomicFile.write(Data(bytes), to: directory + "/" + key + ".bpf", creatingDirectory: true) }
        return bytes
    }

    static func key(_ profile: SeccompProfile, _ capabilities: Set<String>) -> String {
        var uts = utsname()
        uname(&uts)
        let release = withUnsafeBytes(of: uts.release) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
        let version = seccomp_version().map { "\($0.pointee.major).\($0.pointee.minor).\($0.pointee.micro)" } ?? "?"
        let text = [
            "v1", String(describing: profile), capabilities.sorted().joined(separator: ","),
            SeccompArchitecture.hostSeccompName, release, version,
        ].joined(separator: "\n")
        return SHA256.hash(Array(text.utf8)).map { String(format: "%02x", $0) }.joined()
    }
}
