import Cgroups
import Foundation
import Glibc
import KubeAPI
import Testing
@testable import Runtime

/// The mount list for /sys/fs/cgroup and the user a container runs as, without root.
struct ContainerMountsTests {
    let flags = UInt(MS_NOSUID | MS_NOEXEC | MS_NODEV)

    @Test func v1IsATmpfsOfTheContainersOwnGroupsMadeReadOnlyLast() {
        let view = CgroupContainerView.v1(
            hierarchies: [.init(name: "cpu,cpuacct", source: "/sys/fs/cgroup/cpu,cpuacct/k/pod1/c_0"),
                          .init(name: "memory", source: "/sys/fs/cgroup/memory/k/pod1/c_0")],
            links: [.init(name: "cpu", target: "cpu,cpuacct"), .init(name: "cpuacct", target: "cpu,cpuacct")])
        let mounts = ContainerDefaults.cgroupMounts(view, privileged: false)
        #expect(mounts == [
            .filesystem("tmpfs", at: "/sys/fs/cgroup", flags: flags, data: "mode=755"),
            .bind("/sys/fs/cgroup/cpu,cpuacct/k/pod1/c_0", to: "/sys/fs/cgroup/cpu,cpuacct", readonly: true, flags: flags),
            .bind("/sys/fs/cgroup/memory/k/pod1/c_0", to: "/sys/fs/cgroup/memory", readonly: true, flags: flags),
            MountSpec(kind: .symlink, source: "cpu,cpuacct", target: "/sys/fs/cgroup/cpu"),
            MountSpec(kind: .symlink, source: "cpu,cpuacct", target: "/sys/fs/cgroup/cpuacct"),
            // Only once the binds and links have their mount points in it.
            MountSpec(kind: .remount, target: "/sys/fs/cgroup", flags: flags, readonly: true),
        ])
        // Privileged: the same, writable, and the tmpfs stays writable.
        let privileged = ContainerDefaults.cgroupMounts(view, privileged: true)
        #expect(privileged.count == 5)
        #expect(privileged.allSatisfy { !$0.readonly && $0.kind != .remount })
    }

    @Test func v2IsCgroup2MadeReadOnlyOnThisMountOnly() {
        var expected = MountSpec.filesystem("cgroup2", source: "cgroup", at: "/sys/fs/cgroup", flags: flags)
        expected.readonly = true
        #expect(ContainerDefaults.cgroupMounts(.v2, privileged: false) == [expected])
        expected.readonly = false
        #expect(ContainerDefaults.cgroupMounts(.v2, privileged: true) == [expected])
        // MS_RDONLY on cgroup2 itself could reach the host's superblock: never in the flags.
        #expect(ContainerDefaults.cgroupMounts(.v2, privileged: false)[0].flags & UInt(MS_RDONLY) == 0)
    }

    /// An image layer holding /etc/passwd and /etc/group.
    func layer(passwd: String, group: String) throws -> String {
        let dir = "/tmp/swiftlet-users-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir + "/etc", withIntermediateDirectories: true)
        try passwd.write(toFile: dir + "/etc/passwd", atomically: true, encoding: .utf8)
        try group.write(toFile: dir + "/etc/group", atomically: true, encoding: .utf8)
        return dir
    }

    func pod(_ yaml: String) throws -> Pod {
        try Manifest.decodePod(yaml: yaml).withDefaults()
    }

    @Test func primaryGroupIsAlwaysASupplementaryGroupOnce() throws {
        let dir = try layer(passwd: "root:x:0:0:root:/root:/bin/sh\nweb:x:33:33:web:/var/www:/bin/sh\nhomeless:x:70:70::",
                            group: "root:x:0:\nweb:x:33:\ndisk:x:6:web\nshared:x:44:web,other\n")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let resolver = UserResolver(layers: [dir])
        let plain = try pod("{apiVersion: v1, kind: Pod, metadata: {name: p}, spec: {containers: [{name: c, image: i}]}}")
        // The image's user by name: primary first, then its /etc/group memberships.
        let web = try resolver.resolve(pod: plain, container: plain.spec.containers[0], imageUser: "web")
        #expect(web == ResolvedUser(uid: 33, gid: 33, groups: [33, 6, 44], home: "/var/www"))
        // Root without memberships still lists gid 0 (CVE-2023-25173's case).
        let root = try resolver.resolve(pod: plain, container: plain.spec.containers[0], imageUser: nil)
        #expect(root.groups == [0])
        // runAsGroup replaces the primary; pod groups (fsGroup too) join once, none repeated.
        let extra = try pod("""
            {apiVersion: v1, kind: Pod, metadata: {name: p}, spec: {
              securityContext: {runAsUser: 33, runAsGroup: 44, supplementalGroups: [44, 6, 900], fsGroup: 900},
              containers: [{name: c, image: i}]}}
            """)
        let mixed = try resolver.resolve(pod: extra, container: extra.spec.containers[0], imageUser: nil)
        #expect(mixed == ResolvedUser(uid: 33, gid: 44, groups: [44, 6, 900], home: "/var/www"))
        // A uid without an entry: gid 0, no home (the runtime then uses "/"); an empty home too.
        let unknown = try pod("{apiVersion: v1, kind: Pod, metadata: {name: p}, spec: {securityContext: {runAsUser: 4242}, containers: [{name: c, image: i}]}}")
        #expect(try resolver.resolve(pod: unknown, container: unknown.spec.containers[0], imageUser: nil)
            == ResolvedUser(uid: 4242, gid: 0, groups: [0], home: nil))
        #expect(try resolver.resolve(pod: plain, container: plain.spec.containers[0], imageUser: "homeless").home == "")
    }
}
