import Foundation
import Glibc
import KubeAPI

/// Volumes of a pod on the node: emptyDir directories (tmpfs for `medium: Memory`) under the
/// pod directory, hostPath checks by `type`, configMap, secret, downwardAPI and projected
/// volumes written by the atomic writer (Secrets on tmpfs), persistentVolumeClaim volumes on the
/// node directory of their bound volume (`ClaimVolume`), and the bind mounts each container
/// gets. Static pods (no API server) cannot use configMap, secret or persistentVolumeClaim sources.
public enum VolumeManager {
    /// Creates what the pod's volumes need on the host. Idempotent.
    public static func prepare(pod: Pod, layout: PodLayout, objects: PodConfigObjects = .none) throws {
        for volume in pod.spec.volumes ?? [] {
            if PodConfigReferences.isAPIVolume(volume) {
                try writeAPIVolume(volume, pod: pod, layout: layout, objects: objects)
                continue
            }
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
            } else if let claim = volume.persistentVolumeClaim {
                guard let resolved = objects.claimVolumes[volume.name] else {
                    throw RuntimeError.volume(volume.name, objects.fromAPIServer
                        ? "persistentvolumeclaim \"\(claim.claimName)\" is not resolved yet"
                        : "persistentVolumeClaim volumes need an API server")
                }
                try prepareClaim(resolved, volume: volume.name)
            } else {
                throw RuntimeError.unsupported("volume \"\(volume.name)\": only emptyDir, hostPath, persistentVolumeClaim, configMap, secret, downwardAPI and projected volumes are supported")
            }
        }
    }

    /// Rewrites the pod's configMap, secret, downwardAPI and projected volumes from `objects`
    /// (kubelet's periodic remount of these volumes): the names of those that changed, and the
    /// errors of those that could not be written. A volume whose source went missing keeps its
    /// last content, as in kubelet.
    public static func update(pod: Pod, layout: PodLayout, objects: PodConfigObjects) -> (changed: [String], errors: [RuntimeError]) {
        var changed: [String] = []
        var errors: [RuntimeError] = []
        for volume in pod.spec.volumes ?? [] where PodConfigReferences.isAPIVolume(volume) {
            do {
                if try writeAPIVolume(volume, pod: pod, layout: layout, objects: objects) { changed.append(volume.name) }
            } catch let error as RuntimeError {
                errors.append(error)
            } catch {
                errors.append(.volume(volume.name, "\(error)"))
            }
        }
        return (changed, errors)
    }

    /// Where an API volume lives in the pod directory (kubelet's plugin directory names).
    public static func apiVolumePath(_ volume: Volume, layout: PodLayout) -> String {
        let plugin = volume.configMap != nil ? "configmap" : volume.secret != nil ? "secret"
            : volume.downwardAPI != nil ? "downward-api" : "projected"
        return layout.directory + "/volumes/kubernetes.io~" + plugin + "/" + volume.name
    }

    @discardableResult
    static func writeAPIVolume(_ volume: Volume, pod: Pod, layout: PodLayout, objects: PodConfigObjects) throws -> Bool {
        let payload: [String: FileProjection]
        do {
            payload = try VolumePayloads.payload(for: volume, pod: pod, objects: objects)
        } catch let error as ConfigSourceError {
            throw RuntimeError.volume(volume.name, error.message)
        }
        let path = apiVolumePath(volume, layout: layout)
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        chmod(path, 0o755)
        // Secrets never touch the node's disk: the volume is a tmpfs of its own (kubelet wraps
        // secret and projected volumes in a memory-backed emptyDir).
        if VolumePayloads.needsMemory(volume) && !isMountPoint(path) {
            guard mount("tmpfs", path, "tmpfs", UInt(MS_NOSUID | MS_NODEV | MS_NOEXEC), "mode=0755") == 0 else {
                throw SystemError("mount tmpfs", path)
            }
        }
        let group = pod.spec.securityContext?.fsGroup.flatMap { gid_t(exactly: $0) }
        if let group, chown(path, uid_t.max, group) != 0 { throw SystemError("chown", path) }
        do {
            return try AtomicWriter(target: path, group: group).write(payload)
        } catch let error as AtomicWriter.InvalidPath {
            throw RuntimeError.volume(volume.name, error.description)
        }
    }

    /// Undoes `prepare`: unmounts memory-backed emptyDirs. The pod directory itself is removed
    /// by the caller.
    public static func release(pod: Pod, layout: PodLayout) {
        for volume in pod.spec.volumes ?? [] where volume.emptyDir?.medium == "Memory" {
            _ = umount2(layout.emptyDir(volume.name), Int32(MNT_DETACH))
        }
        for volume in pod.spec.volumes ?? [] where PodConfigReferences.isAPIVolume(volume) && VolumePayloads.needsMemory(volume) {
            _ = umount2(apiVolumePath(volume, layout: layout), Int32(MNT_DETACH))
        }
    }

    /// A claim's volume on the node: a hostPath's type check, or a local volume's directory,
    /// which must exist unless the local-path provisioner made the volume.
    static func prepareClaim(_ claim: ClaimVolume, volume: String) throws {
        if let type = claim.hostPathType {
            try checkHostPath(claim.path, type: type)
            return
        }
        if claim.createDirectory, !FileManager.default.fileExists(atPath: claim.path) {
            try FileManager.default.createDirectory(atPath: claim.path, withIntermediateDirectories: true)
            // The provisioner's setup script: `mkdir -m 0777 -p`, whatever the umask.
            chmod(claim.path, 0o777)
        }
        guard FileManager.default.fileExists(atPath: claim.path) else {
            // kubelet's local volume plugin (pkg/volume/local).
            throw RuntimeError.volume(volume, "MountVolume.NewMounter initialization failed for volume \"\(claim.volumeName)\" : path \"\(claim.path)\" does not exist")
        }
    }

    /// The bind mounts for one container's volumeMounts, in order; `claims` are the pod's
    /// resolved persistentVolumeClaim volumes.
    public static func mounts(pod: Pod, container: Container, layout: PodLayout,
                              claims: [String: ClaimVolume] = [:]) throws -> [MountSpec] {
        var mounts: [MountSpec] = []
        for mount in container.volumeMounts ?? [] {
            guard let volume = pod.spec.volumes?.first(where: { $0.name == mount.name }) else {
                throw RuntimeError.invalidContainer(container.name, "volumeMounts: volume \"\(mount.name)\" not found")
            }
            let base: String
            // kubelet mounts API volumes read-only whatever the mount says (ReadOnlyAPIDataVolumes).
            let apiVolume = PodConfigReferences.isAPIVolume(volume)
            if volume.emptyDir != nil {
                base = layout.emptyDir(volume.name)
            } else if apiVolume {
                base = apiVolumePath(volume, layout: layout)
            } else if let hostPath = volume.hostPath {
                base = hostPath.path
            } else if volume.persistentVolumeClaim != nil, let claim = claims[volume.name] {
                base = claim.path
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
            let claimReadOnly = volume.persistentVolumeClaim.map { $0.readOnly == true || claims[volume.name]?.readOnly == true } ?? false
            mounts.append(.bind(source, to: mount.mountPath, readonly: apiVolume || claimReadOnly || (mount.readOnly ?? false),
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
                try AtomicFile.createEmpty(path, mode: 0o644)
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

    /// Whether a tmpfs of ours is mounted on `path`: it lies on another device than its parent
    /// directory. (Not a search of /proc/self/mounts: that file is read in pieces, and mounts
    /// other pods' starts make meanwhile can make the read skip the line, which would stack a
    /// second tmpfs over the volume.)
    static func isMountPoint(_ path: String) -> Bool {
        var own = stat()
        var parent = stat()
        guard stat(path, &own) == 0, stat((path as NSString).deletingLastPathComponent, &parent) == 0 else { return false }
        return own.st_dev != parent.st_dev
    }
}
