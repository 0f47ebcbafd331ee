import Foundation
import Glibc
import KubeAPI

/// The uid, gid and groups a container runs as: `runAsUser`/`runAsGroup` (container, then pod)
/// over the image's `User` ("name", "uid", "uid:gid", "name:group"), names looked up in the
/// image's own /etc/passwd and /etc/group as containerd does, plus the pod's
/// supplementalGroups and fsGroup. The supplementary groups always hold the primary group
/// (containerd's ensureAdditionalGids, the fix for CVE-2023-25173: without it a process that
/// drops its gid, such as a setgid binary, keeps no membership in it, and "deny this group"
/// permissions stop applying).
public struct ResolvedUser: Sendable, Equatable {
    public var uid: UInt32
    public var gid: UInt32
    public var groups: [UInt32]
    public var home: String?
}

public struct UserResolver: Sendable {
    /// The image's files, read from the top layer down (whiteouts respected).
    let layers: [String]

    public init(layers: [String]) {
        self.layers = layers
    }

    public func resolve(pod: Pod, container: Container, imageUser: String?) throws -> ResolvedUser {
        let podContext = pod.spec.securityContext
        let context = container.securityContext
        let passwd = parse(file("etc/passwd"))
        let groupFile = parse(file("etc/group"))

        var uid: UInt32 = 0
        var gid: UInt32?
        var userName: String?
        if let runAsUser = context?.runAsUser ?? podContext?.runAsUser {
            uid = UInt32(truncatingIfNeeded: runAsUser)
            userName = passwd.first { $0.count > 2 && UInt32($0[2]) == uid }?.first
        } else if let spec = imageUser, !spec.isEmpty {
            let parts = spec.split(separator: ":", maxSplits: 1).map(String.init)
            if let numeric = UInt32(parts[0]) {
                uid = numeric
                userName = passwd.first { $0.count > 2 && UInt32($0[2]) == numeric }?.first
            } else if let entry = passwd.first(where: { $0.first == parts[0] && $0.count > 3 }), let found = UInt32(entry[2]) {
                uid = found
                userName = parts[0]
                gid = UInt32(entry[3])
            } else {
                throw RuntimeError.invalidContainer(container.name, "unable to find user \(parts[0]): no matching entries in passwd file")
            }
            if parts.count > 1 {
                if let numeric = UInt32(parts[1]) {
                    gid = numeric
                } else if let entry = groupFile.first(where: { $0.first == parts[1] && $0.count > 2 }), let found = UInt32(entry[2]) {
                    gid = found
                } else {
                    throw RuntimeError.invalidContainer(container.name, "unable to find group \(parts[1]): no matching entries in group file")
                }
            }
        }
        if let runAsGroup = context?.runAsGroup ?? podContext?.runAsGroup {
            gid = UInt32(truncatingIfNeeded: runAsGroup)
        }
        let entry = passwd.first { $0.count > 3 && UInt32($0[2]) == uid }
        let primary = gid ?? entry.flatMap { UInt32($0[3]) } ?? 0

        // kubelet's runAsNonRoot check (kuberuntime_container_linux.go verifyRunAsNonRoot).
        if context?.runAsNonRoot ?? podContext?.runAsNonRoot ?? false {
            if uid == 0 {
                throw RuntimeError.runAsNonRoot(container.name, "container has runAsNonRoot and image will run as root (pod: \"\(pod.metadata.name ?? "")_\(pod.metadata.namespace ?? "default")(\(pod.metadata.uid ?? ""))\", container: \(container.name))")
            }
        }

        var groups: [UInt32] = [primary]
        if let name = userName ?? entry?.first {
            for group in groupFile where group.count > 3 {
                let members = group[3].split(separator: ",").map(String.init)
                if members.contains(name), let id = UInt32(group[2]), !groups.contains(id) { groups.append(id) }
            }
        }
        for extra in (podContext?.supplementalGroups ?? []) + [podContext?.fsGroup].compactMap({ $0 }) {
            let id = UInt32(truncatingIfNeeded: extra)
            if !groups.contains(id) { groups.append(id) }
        }
        return ResolvedUser(uid: uid, gid: primary, groups: groups, home: entry.flatMap { $0.count > 5 ? $0[5] : nil })
    }

    /// Reads a file of the image from the top layer down; a whiteout (0:0 char device) or a
    /// missing file everywhere means there is none.
    func file(_ relative: String) -> String {
        for layer in layers.reversed() {
            var st = stat()
            let path = layer + "/" + relative
            guard lstat(path, &st) == 0 else { continue }
            if st.st_mode & S_IFMT == S_IFCHR && st.st_rdev == 0 { return "" }
            guard st.st_mode & S_IFMT == S_IFREG else { return "" }
            return (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        }
        return ""
    }

    func parse(_ text: String) -> [[String]] {
        text.split(separator: "\n").filter { !$0.hasPrefix("#") }
            .map { $0.split(separator: ":", omittingEmptySubsequences: false).map(String.init) }
    }
}
