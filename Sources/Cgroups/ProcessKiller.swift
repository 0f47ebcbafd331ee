#if canImport(Glibc)
import Glibc
#endif

/// The SIGKILL loop both managers fall back to, and the wait for a group to empty.
///
/// Without an atomic kill (`cgroup.kill`) or a freezer, a process can fork between listing
/// and signalling; looping until the listing is empty catches the children (runc's
/// `signalAllProcesses` does the same for this case).
struct ProcessKiller: Sendable {
    /// Sends SIGKILL to each pid; a process that is already gone is fine.
    static func kill(_ pids: [Int32]) throws(CgroupError) {
        for pid in pids where pid > 0 {
            if Glibc.kill(pid, SIGKILL) != 0 && errno != ESRCH {
                throw .signal(pid: pid, errno: errno)
            }
        }
    }

    /// Kills what `list` returns until it returns nothing or `deadline` passes, then reports
    /// the survivors.
    static func killUntilEmpty(
        group: String,
        deadline: MonotonicDeadline,
        list: () throws(CgroupError) -> [Int32]
    ) throws(CgroupError) {
        while true {
            let pids = try list()
            if pids.isEmpty { return }
            if deadline.hasPassed { throw .processesRemain(group: group, pids: pids) }
            try kill(pids)
            MonotonicDeadline.sleep(milliseconds: 5)
        }
    }

    /// Waits until `list` returns nothing; throws with the survivors after `deadline`.
    static func waitUntilEmpty(
        group: String,
        deadline: MonotonicDeadline,
        list: () throws(CgroupError) -> [Int32]
    ) throws(CgroupError) {
        while true {
            let pids = try list()
            if pids.isEmpty { return }
            if deadline.hasPassed { throw .processesRemain(group: group, pids: pids) }
            MonotonicDeadline.sleep(milliseconds: 5)
        }
    }
}
