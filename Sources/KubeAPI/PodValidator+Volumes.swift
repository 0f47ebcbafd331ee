/// Volume checks: `ValidateVolumes`, `validateVolumeSource`, `ValidateVolumeMounts`,
/// `ValidateVolumeDevices` and the path rules they use.
extension PodValidator {
    private static let hostPathTypes = ["", "BlockDevice", "CharDevice", "Directory", "DirectoryOrCreate", "File",
                                        "FileOrCreate", "Socket"]
    private static let fileModeError = "must be a number between 0 and 0777 (octal), both inclusive"

    /// Validates the volumes; returns the valid ones by name (mounts may only use those).
    mutating func validateVolumes(_ volumes: [Volume], path: String) -> [String: Volume] {
        var valid: [String: Volume] = [:]
        var names: Set<String> = []
        for (index, volume) in volumes.enumerated() {
            let volumePath = path + "[\(index)]"
            var problems = PodValidator()
            problems.validateVolumeSource(volume, path: volumePath)
            if volume.name.isEmpty {
                problems.add(.required(volumePath + ".name"))
            } else {
                problems.check(NameRules.dns1123Label(volume.name), volumePath + ".name", volume.name)
            }
            if names.contains(volume.name) {
                problems.add(.duplicate(volumePath + ".name", volume.name))
            }
            if problems.errors.isEmpty {
                names.insert(volume.name)
                valid[volume.name] = volume
            } else {
                add(problems.errors)
            }
        }
        return valid
    }

    /// Exactly one source; the second and later ones are "Forbidden".
    private mutating func validateVolumeSource(_ volume: Volume, path: String) {
        var count = 0
        func claim(_ present: Bool, _ name: String) -> Bool {
            guard present else { return false }
            if count > 0 {
                add(.forbidden(path + "." + name, "may not specify more than 1 volume type"))
                return false
            }
            count += 1
            return true
        }
        // Upstream's order of sources (and its "downwarAPI" typo).
        if let emptyDir = volume.emptyDir {
            count += 1
            if let limit = emptyDir.sizeLimit, limit.isNegative {
                add(.forbidden(path + ".emptyDir.sizeLimit", "SizeLimit field must be a valid resource quantity"))
            }
        }
        if claim(volume.hostPath != nil, "hostPath"), let hostPath = volume.hostPath {
            validateHostPath(hostPath, path: path + ".hostPath")
        }
        if claim(volume.secret != nil, "secret"), let secret = volume.secret {
            if (secret.secretName ?? "").isEmpty {
                add(.required(path + ".secret.secretName"))
            }
            validateProjection(mode: secret.defaultMode, items: secret.items, path: path + ".secret")
        }
        _ = claim(volume.nfs != nil, "nfs")
        if claim(volume.persistentVolumeClaim != nil, "persistentVolumeClaim"),
           let pvc = volume.persistentVolumeClaim, pvc.claimName.isEmpty {
            add(.required(path + ".persistentVolumeClaim.claimName"))
        }
        _ = claim(volume.downwardAPI != nil, "downwarAPI")
        if claim(volume.configMap != nil, "configMap"), let configMap = volume.configMap {
            if (configMap.name ?? "").isEmpty {
                add(.required(path + ".configMap.name"))
            }
            validateProjection(mode: configMap.defaultMode, items: configMap.items, path: path + ".configMap")
        }
        _ = claim(volume.projected != nil, "projected")
        _ = claim(volume.csi != nil, "csi")
        _ = claim(volume.ephemeral != nil, "ephemeral")
        _ = claim(volume.image != nil, "image")
        if count == 0 {
            add(.required(path, "must specify a volume type"))
        }
    }

    private mutating func validateHostPath(_ source: HostPathVolumeSource, path: String) {
        guard !source.path.isEmpty else {
            add(.required(path + ".path"))
            return
        }
        validateNoBacksteps(source.path, path: path + ".path")
        if let type = source.type, !Self.hostPathTypes.contains(type) {
            add(.notSupported(path + ".type", type, Self.hostPathTypes))
        }
    }

    /// `defaultMode` and `items` of ConfigMap and Secret volumes (`validateKeyToPath`).
    private mutating func validateProjection(mode: Int32?, items: [KeyToPath]?, path: String) {
        if let mode, mode < 0 || mode > 0o777 {
            add(.invalid(path + ".defaultMode", mode, Self.fileModeError))
        }
        for (index, item) in (items ?? []).enumerated() {
            let itemPath = path + ".items[\(index)]"
            if item.key.isEmpty { add(.required(itemPath + ".key")) }
            if item.path.isEmpty { add(.required(itemPath + ".path")) }
            validateLocalNonReservedPath(item.path, path: itemPath + ".path")
            if let mode = item.mode, mode < 0 || mode > 0o777 {
                add(.invalid(itemPath + ".mode", mode, Self.fileModeError))
            }
        }
    }

    mutating func validateVolumeMounts(_ container: Container, volumes: [String: Volume], path: String) {
        let devices = Dictionary((container.volumeDevices ?? []).map { ($0.name, $0.devicePath) }, uniquingKeysWith: { _, last in last })
        var mountPaths: Set<String> = []
        for (index, mount) in (container.volumeMounts ?? []).enumerated() {
            let mountPath = path + "[\(index)]"
            if mount.name.isEmpty {
                add(.required(mountPath + ".name"))
            }
            if volumes[mount.name] == nil {
                add(.notFound(mountPath + ".name", mount.name))
            }
            if mount.mountPath.isEmpty {
                add(.required(mountPath + ".mountPath"))
            }
            if !mountPaths.insert(mount.mountPath).inserted {
                add(.invalid(mountPath + ".mountPath", mount.mountPath, "must be unique"))
            }
            if devices[mount.name] != nil {
                add(.invalid(mountPath + ".name", mount.name, "must not already exist in volumeDevices"))
            }
            if devices.values.contains(mount.mountPath) {
                add(.invalid(mountPath + ".mountPath", mount.mountPath, "must not already exist as a path in volumeDevices"))
            }
            if volumes[mount.name]?.image != nil {
                if let subPath = mount.subPath, !subPath.isEmpty {
                    add(.invalid(mountPath + ".subPath", subPath, "not allowed in image volume sources"))
                }
                if let expression = mount.subPathExpr, !expression.isEmpty {
                    add(.invalid(mountPath + ".subPathExpr", expression, "not allowed in image volume sources"))
                }
            }
            // Upstream reports sub-path problems on the list path (no index).
            if let subPath = mount.subPath, !subPath.isEmpty {
                validateLocalDescendingPath(subPath, path: path + ".subPath")
            }
            if let expression = mount.subPathExpr, !expression.isEmpty {
                if let subPath = mount.subPath, !subPath.isEmpty {
                    add(.invalid(mountPath + ".subPathExpr", expression, "subPathExpr and subPath are mutually exclusive"))
                }
                validateLocalDescendingPath(expression, path: path + ".subPathExpr")
            }
            if let propagation = mount.mountPropagation {
                let supported = ["Bidirectional", "HostToContainer", "None"]
                if !supported.contains(propagation) {
                    add(.notSupported(path + ".mountPropagation", propagation, supported))
                }
                if propagation == "Bidirectional", container.securityContext?.privileged != true {
                    add(.forbidden(path + ".mountPropagation", "Bidirectional mount propagation is available only to privileged containers"))
                }
            }
            if let recursive = mount.recursiveReadOnly {
                switch recursive {
                case "Disabled":
                    break
                case "Enabled", "IfPossible":
                    if mount.readOnly != true {
                        add(.forbidden(path + ".recursiveReadOnly", "may only be specified when readOnly is true"))
                    }
                    if let propagation = mount.mountPropagation, propagation != "None" {
                        add(.forbidden(path + ".recursiveReadOnly", "may only be specified when mountPropagation is None or not specified"))
                    }
                default:
                    add(.notSupported(path + ".recursiveReadOnly", recursive, ["Disabled", "Enabled", "IfPossible"]))
                }
            }
        }
    }

    mutating func validateVolumeDevices(_ container: Container, volumes: [String: Volume], path: String) {
        let mounts = Dictionary((container.volumeMounts ?? []).map { ($0.name, $0.mountPath) }, uniquingKeysWith: { _, last in last })
        var devicePaths: Set<String> = []
        var deviceNames: Set<String> = []
        for (index, device) in (container.volumeDevices ?? []).enumerated() {
            let devicePath = path + "[\(index)]"
            let volume = volumes[device.name]
            if device.name.isEmpty { add(.required(devicePath + ".name")) }
            if deviceNames.contains(device.name) {
                add(.invalid(devicePath + ".name", device.name, "must be unique"))
            }
            if let volume, volume.persistentVolumeClaim == nil, volume.ephemeral == nil {
                add(.invalid(devicePath + ".name", device.name,
                             "can only use volume source type of PersistentVolumeClaim or Ephemeral for block mode"))
            }
            if volume == nil { add(.notFound(devicePath + ".name", device.name)) }
            if device.devicePath.isEmpty { add(.required(devicePath + ".devicePath")) }
            if devicePaths.contains(device.devicePath) {
                add(.invalid(devicePath + ".devicePath", device.devicePath, "must be unique"))
            }
            if !device.devicePath.isEmpty, device.devicePath.split(separator: "/").contains("..") {
                add(.invalid(devicePath + ".devicePath", device.devicePath, "can not contain backsteps ('..')"))
            } else {
                devicePaths.insert(device.devicePath)
            }
            if mounts[device.name] != nil {
                add(.invalid(devicePath + ".name", device.name, "must not already exist in volumeMounts"))
            }
            if mounts.values.contains(device.devicePath) {
                add(.invalid(devicePath + ".devicePath", device.devicePath, "must not already exist as a path in volumeMounts"))
            }
            if !device.name.isEmpty { deviceNames.insert(device.name) }
        }
    }

    // MARK: Path rules

    /// `validatePathNoBacksteps`.
    mutating func validateNoBacksteps(_ target: String, path: String) {
        if target.split(separator: "/", omittingEmptySubsequences: false).contains("..") {
            add(.invalid(path, target, "must not contain '..'"))
        }
    }

    /// `validateLocalDescendingPath`: relative, without "..".
    mutating func validateLocalDescendingPath(_ target: String, path: String) {
        if target.hasPrefix("/") {
            add(.invalid(path, target, "must be a relative path"))
        }
        validateNoBacksteps(target, path: path)
    }

    /// `ValidateLocalNonReservedPath`: also must not start with "..".
    mutating func validateLocalNonReservedPath(_ target: String, path: String) {
        validateLocalDescendingPath(target, path: path)
        if target.hasPrefix(".."), !target.hasPrefix("../") {
            add(.invalid(path, target, "must not start with '..'"))
        }
    }
}
