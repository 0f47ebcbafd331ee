import Glibc
import Runtime
import Testing
@testable import Agent

/// glibc's heap for real: freed blocks in the middle of an arena stay resident until the
/// scavenger trims, and are gone from memory (mincore) after it did.
@Suite("Memory scavenger")
struct MemoryScavengerTests {
    static let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))

    /// Pages of [start, start+length) that are resident.
    static func residentPages(_ start: UnsafeMutableRawPointer, _ length: Int) -> Int {
        let base = UnsafeMutableRawPointer(bitPattern: Int(bitPattern: start) & ~(pageSize - 1))!
        let span = length + (Int(bitPattern: start) - Int(bitPattern: base))
        var vector = [UInt8](repeating: 0, count: (span + pageSize - 1) / pageSize)
        #expect(mincore(base, span, &vector) == 0, "mincore: \(String(cString: strerror(errno)))")
        return vector.filter { $0 & 1 == 1 }.count
    }

    @Test func freedHeapInsideTheArenaIsGivenBack() {
        // 64 KiB blocks stay inside the arena (under glibc's 128 KiB mmap threshold); every other
        // one is freed, so the free space is in holes the arena's top cannot give back.
        let size = 64 << 10
        var blocks: [UnsafeMutableRawPointer] = []
        for _ in 0..<400 {
            guard let block = malloc(size) else { Issue.record("malloc failed"); return }
            memset(block, 0x5a, size)
            blocks.append(block)
        }
        defer { for (index, block) in blocks.enumerated() where index % 2 == 1 { free(block) } }
        var freed: [UnsafeMutableRawPointer] = []
        for (index, block) in blocks.enumerated() where index % 2 == 0 {
            free(block)
            freed.append(block)
        }
        // The middle of a freed block: its first and last pages hold the allocator's own headers.
        func interior(_ block: UnsafeMutableRawPointer) -> Int {
            Self.residentPages(block + 2 * Self.pageSize, size - 4 * Self.pageSize)
        }
        let before = freed.map(interior).reduce(0, +)
        #expect(MemoryScavenger.freeHeapBytes() >= freed.count * size / 2)
        #expect(!MemoryScavenger(threshold: Int.max).scavenge(), "trimmed below its threshold")
        #expect(MemoryScavenger(threshold: 1 << 20).scavenge())
        let after = freed.map(interior).reduce(0, +)
        // Other tests of this process may take some of the holes meanwhile; most stay released.
        #expect(before > 0)
        #expect(after < before / 2, "resident pages in freed blocks: \(before) before the trim, \(after) after")
    }

    /// With the arena limit set, threads that allocate at the same time share the arenas that
    /// exist instead of adding their own (glibc's default allows 8 per core). The test process
    /// has its arenas already; without the limit 8 fresh threads allocating together would add
    /// some (up to 16 on 2 cores).
    @Test func threadsShareArenasOnceLimited() async {
        // Limited to what exists; read again after, in case a parallel test's thread added one.
        MemoryScavenger.limitArenas(to: MemoryScavenger.arenaCount())
        let existing = MemoryScavenger.arenaCount()
        #expect(existing >= 1)
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<8 {
                group.addTask {
                    await BlockingCall.run {
                        // Held while the others allocate, so each thread wants an arena at once.
                        let block = malloc(1 << 16)
                        usleep(50_000)
                        free(block)
                    }
                }
            }
        }
        #expect(MemoryScavenger.arenaCount() <= max(existing, 2))
    }
}
