import Foundation
import Testing
@testable import Cgroups

/// Errors name the file and errno and say what to do next.
struct CgroupErrorTests {
    @Test func writeErrorsNameFileValueErrnoAndHint() {
        let subtree = CgroupError.write(path: "/sys/fs/cgroup/swiftlet/cgroup.subtree_control", value: "+cpu", errno: EBUSY)
        #expect(subtree.description == "write /sys/fs/cgroup/swiftlet/cgroup.subtree_control (\"+cpu\"): EBUSY (Device or resource busy): the group has processes of its own, and cgroup v2 allows controllers only for groups whose processes are in leaf groups")

        let quota = CgroupError.write(path: "/sys/fs/cgroup/cpu/swiftlet/pod1/app/cpu.cfs_quota_us", value: "200000", errno: EINVAL)
        #expect(quota.description.hasSuffix("EINVAL (Invalid argument): on cgroup v1 a child's CPU quota cannot exceed its parent's"))

        let permission = CgroupError.write(path: "/sys/fs/cgroup/memory/x/memory.limit_in_bytes", value: "1", errno: EACCES)
        #expect(permission.description.contains("EACCES (Permission denied): run swiftlet as root"))

        let device = CgroupError.write(path: "/sys/fs/cgroup/devices/pod/app/devices.allow", value: "a", errno: EPERM)
        #expect(device.description.contains("create the parent group with allowAllDevices"))

        let gone = CgroupError.write(path: "/sys/fs/cgroup/memory/pod/cgroup.procs", value: "77", errno: ESRCH)
        #expect(gone.description.hasSuffix("ESRCH (No such process): the process does not exist (it already exited?)"))
    }

    @Test func otherErrorsAreReadable() {
        #expect(CgroupError.invalidGroup("../x", reason: "it contains \"..\"").description
            == "invalid cgroup path \"../x\": it contains \"..\" (expected a relative path such as swiftlet/pod<uid>/<container>)")
        #expect(CgroupError.processesRemain(group: "pod", pids: [3, 4]).description.hasPrefix("cgroup pod still has processes 3,4 after SIGKILL"))
        #expect(CgroupError.limitBelowUsage(path: "/m/memory.limit_in_bytes", limit: 100, usage: nil).description
            == "write /m/memory.limit_in_bytes (\"100\"): EBUSY (the memory limit 100 bytes is below what the group already uses (more) and the kernel could not reclaim enough; raise the limit or stop the processes first)")
        #expect(CgroupError.errnoText(9999).hasPrefix("errno 9999 ("))
    }

    @Test(arguments: [
        ("swiftlet/pod1/app", ["swiftlet", "pod1", "app"]),
        ("pod/", ["pod"]),
        ("kubepods-burstable.slice", ["kubepods-burstable.slice"]),
    ])
    func validGroupPaths(group: String, components: [String]) throws {
        #expect(try CgroupPath(group).components == components)
    }
}
