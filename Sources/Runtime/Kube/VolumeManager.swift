import Foundation
import Glibc
import KubeAPI

/// Volumes of a pod on the node: emptyDir directories (tmpfs for `medium: Memory`) under the
/// pod directory, hostPath checks by `type`, and the bind mounts each container gets.
/// Sources that need an API server (configMap, secret, projected, PVC) are refused clearly.
public enum VolumeManager {
    /// Creates what the pod's volumes need on the host. Idempotent.
    public static func prepare(pod: Pod, layout: PodLayout) throws {
        for volume in pod.spec.volumes ?? [] {
            if let emptyDir = volume.emptyDir {
                let path = layout.emptyDir(volume.name)
                try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
                // kubelet makes emptyDir world-writable so non-root containers can use it.
                chmod(path, 0o777)
                if emptyDir.medium == "Memory" && !isMountPoint(path) {
                    var options = "mode=0777"
                    if let limit = emptyDir.sizeLimit, limit.value > 0 { options += ",size=\(limit.value)" }
                    guard mount("tmpfs", path, "tmpfs", UInt(MS_NOSUID | MS_NODEV), options) == 0 else {
                        throw SystemError("mount tmpfs", path)
                    }
                }
            } else if let hostPath = volume.hostPath {
                try checkHostPath(hostPath.path, type: hostPath.type ?? "")
            } else {
                throw RuntimeError.unsupported("volume \"\(volume.name)\": only emptyDir and hostPath volumes are supported by pods that run without an API server")
            }
        }
    }

    /// Undoes `prepare`: unmounts memory-backed emptyDirs. The pod directory itself is removed
    /// by the caller.
    public static func release(pod: Pod, layout: PodLayout) {
        for volume in pod.spec.volumes ?? [] where volume.emptyDir?.medium == "Memory" {
            _ = umount2(layout.emptyDir(volume.name), Int32(MNT_DETACH))
        }
    }

    /// The bind mounts for one container's volumeMounts, in order.
    public static func mounts(pod: Pod, container: Container, layout: PodLayout) throws -> [MountSpec] {
        var mounts: [MountSpec] = []
        for mount in container.volumeMounts ?? [] {
            guard let volume = pod.spec.volumes?.first(where: { $0.name == mount.name }) else {
                throw RuntimeError.invalidContainer(container.name, "volumeMounts: volume \"\(mount.name)\" not found")
            }
            let base: String
            if volume.emptyDir != nil {
                base = layout.emptyDir(volume.name)
            } else if let hostPath = volume.hostPath {
                base = hostPath.path
            } else {
                throw RuntimeError.unsupported("volume \"\(volume.name)\" is not supported")
            }
            var source = base
            if let subPath = mount.subPath, !subPath.isEmpty {
                let parts = subPath.split(separator: "/")
                if subPath.hasPrefix("/") || parts.contains("..") {
                    throw RuntimeError.invalidContainer(container.name, "subPath \"\(subPath)\" must be a relative path without '..'")
                }
                source = base + "/" + parts.joined(separator: "/")
                if volume.emptyDir != nil && !FileManager.default.fileExists(atPath: source) {
                    try FileManager.default.createDirectory(atPath: source, withIntermediateDirectories: true)
                }
                // A symlink inside the volume must not lead the mount out of it.
                let realBase = URL(fileURLWithPath: base).resolvingSymlinksInPath().path
                let realSource = URL(fileURLWithPath: source).resolvingSymlinksInPath().path
                guard realSource == realBase || realSource.hasPrefix(realBase + "/") else {
                    throw RuntimeError.invalidContainer(container.name, "subPath \"\(subPath)\" resolves outside volume \"\(volume.name)\"")
                }
                source = realSource
            }
            var isDirectory: ObjCBool = false
            let exists = FileManager.default.fileExists(atPath: source, isDirectory: &isDirectory)
            mounts.append(.bind(source, to: mount.mountPath, readonly: mount.readOnly ?? false,
                                file: exists && !isDirectory.boolValue))
        }
        return mounts
    }

    /// kubelet's hostPath type checks (pkg/volume/hostpath/host_path.go), same messages.
    static func checkHostPath(_ path: String, type: String) throws {
        var st = stat()
        let exists = stat(path, &st) == 0
        let format = st.st_mode & S_IFMT
        switch type {
        case "":
            return
        case "DirectoryOrCreate":
            if !exists {
                try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true,
                                                        attributes: [.posixPermissions: 0o755])
            } else if format != S_IFDIR {
                throw RuntimeError.hostPath(path, "hostPath type check failed: \(path) is not a directory")
            }
        case "Directory":
            guard exists else { throw RuntimeError.hostPath(path, "hostPath type check failed: \(path) is not a directory") }
            guard format == S_IFDIR else { throw RuntimeError.hostPath(path, "hostPath type check failed: \(path) is not a directory") }
        case "FileOrCreate":
            if !exists {
                let parent = (path as NSString).deletingLastPathComponent
                try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
                guard FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o644]) else {
                    throw SystemError("create", path)
                }
            } else if format != S_IFREG {
                throw RuntimeError.hostPath(path, "hostPath type check failed: \(path) is not a file")
            }
        case "File":
            guard exists, format == S_IFREG else { throw RuntimeError.hostPath(path, "hostPath type check failed: \(path) is not a file") }
        case "Socket":
            guard exists, format == S_IFSOCK else { throw RuntimeError.hostPath(path, "hostPath type check failed: \(path) is not a socket file") }
        case "CharDevice":
            guard exists, format == S_IFCHR else { throw RuntimeError.hostPath(path, "hostPath type check failed: \(path) is not a character device") }
        case "BlockDevice":
            guard exists, format == S_IFBLK else { throw RuntimeError.hostPath(path, "hostPath type check failed: \(path) is not a block device") }
        default:
            throw RuntimeError.hostPath(path, "unsupported hostPath type \"\(type)\"")
        }
    }

    static func isMountPoint(_ path: String) -> Bool {
        guard let mounts = ProcFile.read("/proc/self/mounts") else { return false }
        return mounts.split(separator: "\n").contains { $0.split(separator: " ").dropFirst().first.map(String.init) == path }
    }
}
