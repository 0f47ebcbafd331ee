import Testing
@testable import Cgroups

struct CgroupParentTests {
    let service = ["INVOCATION_ID": "0f3c4e5a6b7c8d9e0f1a2b3c4d5e6f70"]

    @Test func aServiceInASliceGetsKubepodsBesideItsGroup() {
        #expect(CgroupParent.defaultParent(selfCgroup: "0::/swiftlet.slice/swiftlet-agent.service\n", environment: service)
                == "swiftlet.slice/kubepods")
        #expect(CgroupParent.defaultParent(selfCgroup: "0::/system.slice/my.service\n", environment: service) == "system.slice/kubepods")
        // A service directly in the root slice.
        #expect(CgroupParent.defaultParent(selfCgroup: "0::/my.service\n", environment: service) == "kubepods")
        // Hybrid: the unified line; legacy v1: systemd's named hierarchy.
        #expect(CgroupParent.defaultParent(selfCgroup: "12:memory:/swiftlet.slice/s.service\n1:name=systemd:/swiftlet.slice/s.service\n0::/swiftlet.slice/s.service\n",
                                           environment: service) == "swiftlet.slice/kubepods")
        #expect(CgroupParent.defaultParent(selfCgroup: "4:memory:/a.slice/s.service\n1:name=systemd:/a.slice/s.service\n",
                                           environment: service) == "a.slice/kubepods")
    }

    @Test func outsideAServiceItIsSwiftletAtTheRoot() {
        // A login shell: a scope, not a service; no INVOCATION_ID.
        #expect(CgroupParent.defaultParent(selfCgroup: "0::/user.slice/user-0.slice/session-3.scope\n", environment: [:]) == "swiftlet")
        #expect(CgroupParent.defaultParent(selfCgroup: "0::/user.slice/user-0.slice/session-3.scope\n", environment: service) == "swiftlet")
        // A service's INVOCATION_ID inherited by something that moved out of the unit.
        #expect(CgroupParent.defaultParent(selfCgroup: "0::/\n", environment: service) == "swiftlet")
        // A service below something that is not a slice (a delegated subtree of another manager).
        #expect(CgroupParent.defaultParent(selfCgroup: "0::/system.slice/docker-1.scope/x.service\n", environment: service) == "swiftlet")
        #expect(CgroupParent.defaultParent(selfCgroup: "", environment: service) == "swiftlet")
        #expect(CgroupParent.defaultParent(selfCgroup: "garbage", environment: service) == "swiftlet")
    }
}
