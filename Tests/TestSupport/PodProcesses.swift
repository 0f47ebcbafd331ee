import Cgroups
import Foundation
import Glibc

/// Forced cleanup of what an agent left running: every container and monitor recorded in its
/// state, then everything in its cgroup parent, which is removed.
public enum PodProcesses {
    /// - Parameters:
    ///   - dataDirectory: the agent's `--data-dir` (containers are recorded in `pods/**/state.json`).
    ///   - cgroupParent: the agent's `--cgroup-parent`.
    public static func killAll(dataDirectory: String, cgroupParent: String) {
        let fm = FileManager.default
        let pods = dataDirectory + "/pods"
        if let enumerator = fm.enumerator(atPath: pods) {
            for case let path as String in enumerator where path.hasSuffix("state.json") {
                guard let contents = fm.contents(atPath: pods + "/" + path),
                      let object = try? JSONSerialization.jsonObject(with: contents) as? [String: Any] else { continue }
                for key in ["containerPid", "monitorPid"] {
                    if let pid = (object[key] as? NSNumber)?.int32Value, pid > 1 { kill(pid, SIGKILL) }
                }
            }
        }
        if let cgroups = try? Cgroups.detect() {
            try? cgroups.killAll(cgroupParent)
            usleep(200_000)
            try? cgroups.destroy(cgroupParent)
        }
    }
}
