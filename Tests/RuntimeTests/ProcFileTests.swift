import Foundation
import Runtime
import Testing

@Suite struct ProcFileTests {
    /// procfs files report size 0; Foundation's String(contentsOfFile:) stopped after the first
    /// 4 KiB of them, which hid mounts from the tests' cleanup. The whole file must come back.
    @Test func readsProcFilesLongerThanOneReadWhole() throws {
        let maps = try #require(ProcFile.read("/proc/self/maps"))
        #expect(maps.utf8.count > 16384, "this process maps more than 16 KiB of lines")
        // The last line of the maps is the vsyscall page (x86_64) or the stack: past any cut.
        let lastLine = try #require(maps.split(separator: "\n").last)
        #expect(lastLine.contains("[vsyscall]") || lastLine.contains("[stack]") || lastLine.contains("[vdso]"), "\(lastLine)")
        #expect(ProcFile.read("/proc/self/no-such-file") == nil)
    }
}
