import CShims
import Foundation
import Glibc
import Images
import Synchronization

/// Compiled seccomp programs, kept so a profile is compiled once per capability set instead of
/// once per container start: libseccomp takes about 10 ms to generate RuntimeDefault's BPF for
/// x86_64, x86 and x32. Kept in memory (the last 16 distinct profiles and capability sets) and,
/// when given a directory, on disk for one-shot commands (`swiftlet run`).
///
/// The disk key covers everything the program depends on: the profile's rules, the capability set,
/// the architecture, the running kernel (rules gated on `minKernel`) and the libseccomp
/// version (which syscall names it can resolve).
public final class SeccompCache: Sendable {
    private let directory: String?
    /// The programs compiled or read so far, found by comparing profile and capabilities as
    /// values: the disk key is the profile described by reflection and hashed, which at every
    /// container start was 6% of the agent's CPU while 500 pods started. A node runs a handful
    /// of distinct profiles; the oldest of more than `memoryLimit` is dropped.
    private let memory = Mutex<[(profile: SeccompProfile, capabilities: Set<String>, bytes: [UInt8])]>([])
    private static let memoryLimit = 16

    public init(directory: String?) {
        self.directory = directory
    }

    public func filter(for profile: SeccompProfile, capabilities: Set<String>) throws -> [UInt8] {
        func remembered(in memory: [(profile: SeccompProfile, capabilities: Set<String>, bytes: [UInt8])]) -> [UInt8]? {
            memory.first { $0.profile == profile && $0.capabilities == capabilities }?.bytes
        }
        if let hit = memory.withLock({ remembered(in: $0) }) {
            return hit
        }
        let bytes = try stored(profile, capabilities) ?? compiled(profile, capabilities)
        return memory.withLock { memory in
            // Pods starting together compile the same profile at once: keep one copy (a heap
            // profile found the 16 entries of the cache all the same 10 KB program).
            if let hit = remembered(in: memory) { return hit }
            memory.append((profile, capabilities, bytes))
            if memory.count > Self.memoryLimit { memory.removeFirst() }
            return bytes
        }
    }

    /// The program from the cache directory, when there is one and its file is whole.
    private func stored(_ profile: SeccompProfile, _ capabilities: Set<String>) -> [UInt8]? {
        guard let directory,
              let data = FileManager.default.contents(atPath: directory + "/" + Self.key(profile, capabilities) + ".bpf"),
              !data.isEmpty, data.count % 8 == 0 else { return nil }
        return [UInt8](data)
    }

    private func compiled(_ profile: SeccompProfile, _ capabilities: Set<String>) throws -> [UInt8] {
        let bytes = try profile.compile(capabilities: capabilities)
        // Best effort: a cache that cannot be written only costs the next start a compile.
        if let directory {
            try? AtomicFile.write(Data(bytes), to: directory + "/" + Self.key(profile, capabilities) + ".bpf", creatingDirectory: true)
        }
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
