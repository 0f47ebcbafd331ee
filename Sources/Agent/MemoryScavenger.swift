import CShims

/// Hands the heap's free memory back to the kernel after bursts of work, as Go's runtime
/// scavenger does for kubelet.
///
/// glibc keeps memory freed in the middle of its arenas mapped (only the top of the main arena is
/// trimmed on free), in every arena a thread ever used: 100 pods started at once left the agent
/// 20-35 MiB of freed heap it kept for good, half its memory (docs/benchmarks.md "Agent memory").
/// `malloc_trim(0)` gives the free pages of every arena back (madvise); it runs only when at least
/// `threshold` bytes are free, so an idle agent pays one `mallinfo2` walk of the free lists per
/// period.
struct MemoryScavenger {
    var period: Duration = .seconds(10)
    var threshold = 4 << 20

    func run() async {
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

    /// Bytes free inside glibc's arenas (`mallinfo2().fordblks`).
    static func freeHeapBytes() -> Int {
        Int(sl_heap_free_bytes())
    }
}
