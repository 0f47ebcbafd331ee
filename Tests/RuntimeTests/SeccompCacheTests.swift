import TestSupport
import Foundation
import Testing
@testable import Runtime

@Suite("Seccomp program cache", .ownThreads)  // compiles with libseccomp: CPU seconds off the cooperative pool
struct SeccompCacheTests {
    @Test func cachedProgramEqualsCompiledAndSurvivesOnDisk() throws {
        let root = try TestRoot()
        let caps = Set(Capabilities.defaultNames)
        let expected = try SeccompProfile.runtimeDefault.compile(capabilities: caps)
        let first = SeccompCache(directory: root.path)
        #expect(try first.filter(for: .runtimeDefault, capabilities: caps) == expected)
        let files = try FileManager.default.contentsOfDirectory(atPath: root.path).filter { $0.hasSuffix(".bpf") }
        #expect(files.count == 1)
        // A new process (a new cache) reads the program from disk.
        let second = SeccompCache(directory: root.path)
        #expect(try second.filter(for: .runtimeDefault, capabilities: caps) == expected)
        // Another capability set is another program and another file.
        let withAdmin = try second.filter(for: .runtimeDefault, capabilities: caps.union(["CAP_SYS_ADMIN"]))
        #expect(withAdmin != expected)
        #expect(try FileManager.default.contentsOfDirectory(atPath: root.path).filter { $0.hasSuffix(".bpf") }.count == 2)
    }

    @Test func damagedCacheFileIsIgnored() throws {
        let root = try TestRoot()
        let caps = Set(Capabilities.defaultNames)
        let expected = try SeccompProfile.runtimeDefault.compile(capabilities: caps)
        let key = SeccompCache.key(.runtimeDefault, caps)
        try Data([1, 2, 3]).write(to: URL(fileURLWithPath: root.path + "/" + key + ".bpf"))
        #expect(try SeccompCache(directory: root.path).filter(for: .runtimeDefault, capabilities: caps) == expected)
    }

    /// Programs are found again by comparing profiles as values (no key text per start): a
    /// profile that differs in one rule is another program, and the first is still served.
    @Test func aProfileThatDiffersInOneRuleIsAnotherProgram() throws {
        let caps = Set(Capabilities.defaultNames)
        var trimmed = SeccompProfile.runtimeDefault
        trimmed.rules.removeLast()
        let cache = SeccompCache(directory: nil)
        let full = try cache.filter(for: .runtimeDefault, capabilities: caps)
        let other = try cache.filter(for: trimmed, capabilities: caps)
        #expect(other == (try trimmed.compile(capabilities: caps)))
        #expect(other != full)
        #expect(try cache.filter(for: .runtimeDefault, capabilities: caps) == full)
        #expect(try cache.filter(for: trimmed, capabilities: caps) == other)
    }
}
