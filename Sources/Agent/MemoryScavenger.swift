import CShims
import Foundation

/// Hands the heap's free memory back to the kernel after bursts of work, as Go's runtime
/// scavenger does for kubelet.
///
/// glibc keeps memory freed in the middle of its arenas mapped (only the top of the main arena is
/// trimmed on free), in every arena a thread ever used: 100 pods started at once left the agent
/// 20-35 MiB of freed heap it kept for good, half its memory (docs/benchmarks.md "Agent memory").
/// `malloc_trim(0)` gives the free pages of every arena back (madvise); it runs only when at least
/// `threshold` bytes are free, so an agent that never had a burst pays one `mallinfo2` walk of the
/// free lists per period. The count includes free memory already given back, so after the first
/// burst it trims every period: a walk of the free lists and one madvise per free run of pages,
/// well under a millisecond on the agent's few MiB of heap. 1 MiB, not more: twenty pods started
/// and stopped one after the other left 2.5 MiB free and resident in two arenas, which a 4 MiB
/// threshold kept for good (docs/benchmarks.md, "The binary's code laid out for the agent").
public struct MemoryScavenger {
    var period: Duration = .seconds(10)
    var threshold = 1 << 20

    func run() async {
        Self.limitArenas()
        while !Task.isCancelled {
            try? await Task.sleep(for: period)
            scavenge()
        }
    }

    /// Trims when enough is free; returns whether it did.
    @discardableResult
    func scavenge() -> Bool {
        guard Self.freeHeapBytes() >= threshold else { return false }
        _ = sl_heap_trim()
        return true
    }

    /// One glibc arena per core at most, instead of glibc's 8 per core. Every thread that
    /// mallocs gets an arena of its own until the limit, and container starts run on threads of
    /// their own (BlockingCall): with 100 pods started the agent had 16 arenas, each keeping its
    /// partly used pages. Measured with 100 pods on 2 cores: RSS 48.5 MiB with 16 arenas, 46.0
    /// with 2, the same 13.6 MB in use. Threads beyond the limit share arenas (glibc picks the
    /// least contended); on a node agent that is a little lock contention for less memory.
    /// The commands call it first thing: arenas made before it stay (a fresh agent had 6).
    public static func limitArenas(to arenas: Int = ProcessInfo.processInfo.activeProcessorCount) {
        _ = sl_heap_limit_arenas(Int32(max(arenas, 2)))
    }

    /// Arenas the heap has now.
    static func arenaCount() -> Int {
        Int(sl_heap_arena_count())
    }

    /// Bytes free inside glibc's arenas (`mallinfo2().fordblks`).
    static func freeHeapBytes() -> Int {
        Int(sl_heap_free_bytes())
    }
}
