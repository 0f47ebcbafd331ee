import Foundation
import Images
import KubeAPI

/// Facts about the pod's placement that downward-API env vars can refer to.
public struct PodRuntimeInfo: Sendable, Equatable {
    public var nodeName: String
    public var hostIP: String?
    public var podIP: String?
    public var hostname: String
    /// The Service variables of the container being started (`ServiceEnvironment`).
    public var serviceVariables: [ServiceVariable]
    /// The ConfigMaps and Secrets its env and envFrom refer to, as the agent read them.
    public var configObjects: PodConfigObjects

    public init(nodeName: String, hostIP: String? = nil, podIP: String? = nil, hostname: String,
                serviceVariables: [ServiceVariable] = [], configObjects: PodConfigObjects = .none) {
        self.nodeName = nodeName
        self.configObjects = configObjects
        self.hostIP = hostIP
        self.podIP = podIP
        self.hostname = hostname
        self.serviceVariables = serviceVariables
    }
}

/// The container's environment: the image's Env, HOSTNAME (as containerd sets it), then the
/// container's `envFrom` (ConfigMaps and Secrets, each key with the prefix), then its `env` in order, each value `$(VAR)`-expanded against the entries before it and
/// the Service variables, then the Service variables the container did not set itself
/// (kubelet's makeEnvironmentVariables). Later entries replace earlier ones in place.
public enum EnvironmentBuilder {
    static let defaultPath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

    public static func build(pod: Pod, container: Container, image: ImageConfig, info: PodRuntimeInfo) throws -> [String] {
        var order: [String] = []
        var values: [String: String] = [:]
        func set(_ key: String, _ value: String) {
            if values[key] == nil { order.append(key) }
            values[key] = value
        }
        var imageEnv = image.env ?? []
        if !imageEnv.contains(where: { $0.hasPrefix("PATH=") }) { imageEnv.insert(defaultPath, at: 0) }
        for entry in imageEnv {
            let parts = entry.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            set(String(parts[0]), parts.count > 1 ? String(parts[1]) : "")
        }
        set("HOSTNAME", info.hostname)
        // Only the container's own variables and the Service variables are visible to $(VAR)
        // expansion, as in kubelet.
        let services = Dictionary(info.serviceVariables.map { ($0.name, $0.value) }, uniquingKeysWith: { _, last in last })
        var declared: [String: String] = [:]
        for (name, value) in try fromSources(pod: pod, container: container, objects: info.configObjects).variables {
            declared[name] = value
            set(name, value)
        }
        for variable in container.env ?? [] {
            let value: String?
            if let source = variable.valueFrom {
                value = try resolve(source, name: variable.name, pod: pod, container: container, info: info)
            } else {
                value = VariableExpansion.expand(variable.value ?? "") { declared[$0] ?? services[$0] }
            }
            guard let value else { continue }
            declared[variable.name] = value
            set(variable.name, value)
        }
        for variable in info.serviceVariables where declared[variable.name] == nil {
            set(variable.name, variable.value)
        }
        return order.map { "\($0)=\(values[$0] ?? "")" }
    }

    /// The container's own variables, for expanding command and args.
    public static func declared(in environment: [String]) -> [String: String] {
        var result: [String: String] = [:]
        for entry in environment {
            let parts = entry.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            result[String(parts[0])] = parts.count > 1 ? String(parts[1]) : ""
        }
        return result
    }

    static func resolve(_ source: EnvVarSource, name: String, pod: Pod, container: Container,
                        info: PodRuntimeInfo) throws -> String? {
        if let field = source.fieldRef {
            return try fieldValue(field.fieldPath, pod: pod, info: info, variable: name)
        }
        if let resource = source.resourceFieldRef {
            return try resourceValue(resource, pod: pod, container: container, variable: name)
        }
        if let ref = source.configMapKeyRef {
            return try key(ref.key, of: .configMap, name: ref.name ?? "", optional: ref.optional ?? false, pod: pod,
                           objects: info.configObjects, variable: name)
        }
        if let ref = source.secretKeyRef {
            return try key(ref.key, of: .secret, name: ref.name ?? "", optional: ref.optional ?? false, pod: pod,
                           objects: info.configObjects, variable: name)
        }
        throw RuntimeError.invalidContainer(container.name, "env \(name): valueFrom has no source")
    }

    /// Checks the container's references to ConfigMaps and Secrets against `objects` without
    /// building the environment: throws `RuntimeError.containerConfig` with kubelet's message
    /// for a missing object or key; returns the envFrom keys skipped as invalid names.
    public static func checkReferences(pod: Pod, container: Container, objects: PodConfigObjects) throws
        -> [(source: String, keys: [String])] {
        for variable in container.env ?? [] {
            if let ref = variable.valueFrom?.configMapKeyRef {
                _ = try key(ref.key, of: .configMap, name: ref.name ?? "", optional: ref.optional ?? false, pod: pod,
                            objects: objects, variable: variable.name)
            }
            if let ref = variable.valueFrom?.secretKeyRef {
                _ = try key(ref.key, of: .secret, name: ref.name ?? "", optional: ref.optional ?? false, pod: pod,
                            objects: objects, variable: variable.name)
            }
        }
        return try fromSources(pod: pod, container: container, objects: objects).invalid
    }

    /// One key of a ConfigMap or Secret, with kubelet's makeEnvironmentVariables messages;
    /// nil (the variable is left out) when the reference is optional and the object or key missing.
    static func key(_ key: String, of kind: VolumePayloads.Kind, name: String, optional: Bool, pod: Pod,
                    objects: PodConfigObjects, variable: String) throws -> String? {
        let namespace = pod.metadata.namespace ?? "default"
        guard objects.fromAPIServer else {
            if optional { return nil }
            throw RuntimeError.containerConfig("env \(variable): \(kind.resource) \"\(name)\" cannot be used by a static pod (it comes from a manifest file, not from the API server)")
        }
        guard let object = kind == .configMap ? objects.configMaps[name] : objects.secrets[name] else {
            if optional { return nil }
            throw RuntimeError.containerConfig("\(kind.resource) \"\(name)\" not found")
        }
        guard let data = object.data[key] else {
            if optional { return nil }
            throw RuntimeError.containerConfig("couldn't find key \(key) in \(kind == .configMap ? "ConfigMap" : "Secret") \(namespace)/\(name)")
        }
        return String(decoding: data, as: UTF8.self)
    }

    /// The variables of the container's `envFrom` in order (a later source's key replaces an
    /// earlier one's), and the keys skipped as invalid variable names per source, for kubelet's
    /// InvalidEnvironmentVariableNames event.
    public static func fromSources(pod: Pod, container: Container, objects: PodConfigObjects) throws
        -> (variables: [(String, String)], invalid: [(source: String, keys: [String])]) {
        var variables: [(String, String)] = []
        var invalid: [(source: String, keys: [String])] = []
        let namespace = pod.metadata.namespace ?? "default"
        for source in container.envFrom ?? [] {
            let kind: VolumePayloads.Kind = source.configMapRef != nil ? .configMap : .secret
            let name = source.configMapRef?.name ?? source.secretRef?.name ?? ""
            let optional = source.configMapRef?.optional ?? source.secretRef?.optional ?? false
            guard objects.fromAPIServer else {
                if optional { continue }
                throw RuntimeError.containerConfig("envFrom: \(kind.resource) \"\(name)\" cannot be used by a static pod (it comes from a manifest file, not from the API server)")
            }
            guard let object = kind == .configMap ? objects.configMaps[name] : objects.secrets[name] else {
                if optional { continue }
                throw RuntimeError.containerConfig("\(kind.resource) \"\(name)\" not found")
            }
            var skipped: [String] = []
            for key in object.data.keys.sorted() {
                let variable = (source.prefix ?? "") + key
                guard isValidName(variable) else {
                    skipped.append(key)
                    continue
                }
                variables.removeAll { $0.0 == variable }
                variables.append((variable, String(decoding: object.data[key] ?? Data(), as: UTF8.self)))
            }
            if !skipped.isEmpty {
                invalid.append(("\(kind == .configMap ? "configMap" : "secret") \(namespace)/\(name)", skipped))
            }
        }
        return (variables, invalid)
    }

    /// kubelet's check of envFrom names (IsRelaxedEnvVarName, on by default since 1.32):
    /// non-empty printable ASCII without '='.
    static func isValidName(_ name: String) -> Bool {
        !name.isEmpty && !name.unicodeScalars.contains { $0.value < 0x20 || $0.value > 0x7E || $0 == "=" }
    }

    static func fieldValue(_ path: String, pod: Pod, info: PodRuntimeInfo, variable: String) throws -> String {
        let meta = pod.metadata
        switch path {
        case "metadata.name": return meta.name ?? ""
        case "metadata.namespace": return meta.namespace ?? "default"
        case "metadata.uid": return meta.uid ?? ""
        case "spec.nodeName": return info.nodeName
        case "spec.serviceAccountName": return pod.spec.serviceAccountName ?? "default"
        case "status.hostIP", "status.hostIPs": return info.hostIP ?? ""
        case "status.podIP", "status.podIPs": return info.podIP ?? ""
        default:
            for (prefix, map) in [("metadata.labels", meta.labels), ("metadata.annotations", meta.annotations)] {
                if path.hasPrefix(prefix + "['"), path.hasSuffix("']") {
                    let key = String(path.dropFirst(prefix.count + 2).dropLast(2))
                    return map?[key] ?? ""
                }
            }
            throw RuntimeError.unsupported("env \(variable): unsupported fieldRef fieldPath \"\(path)\"")
        }
    }

    /// limits.cpu / requests.cpu / limits.memory / requests.memory with a divisor, rounded up
    /// as kubelet's ExtractContainerResourceValue; an unset limit reports the node's capacity.
    static func resourceValue(_ ref: ResourceFieldSelector, pod: Pod, container: Container, variable: String) throws -> String {
        let target = ref.containerName.flatMap { name in
            (pod.spec.containers + (pod.spec.initContainers ?? [])).first { $0.name == name }
        } ?? container
        let parts = ref.resource.split(separator: ".", maxSplits: 1).map(String.init)
        guard parts.count == 2, ["limits", "requests"].contains(parts[0]), ["cpu", "memory", "ephemeral-storage"].contains(parts[1]) else {
            throw RuntimeError.unsupported("env \(variable): unsupported resourceFieldRef resource \"\(ref.resource)\"")
        }
        let set = parts[0] == "limits" ? target.resources?.limits : target.resources?.requests
        let isCPU = parts[1] == "cpu"
        var amountMilli: Int64
        if let quantity = set?[parts[1]] {
            amountMilli = isCPU ? quantity.milliValue : quantity.value * 1000
        } else if parts[0] == "limits" {
            amountMilli = isCPU ? Int64(ProcessInfo.processInfo.activeProcessorCount) * 1000
                : Int64(ProcessInfo.processInfo.physicalMemory) * 1000
        } else {
            amountMilli = 0
        }
        // The default divisor is "1": one core for CPU, one byte for memory.
        let divisorMilli = ref.divisor.map { $0.milliValue > 0 ? $0.milliValue : 1000 } ?? 1000
        let value = (amountMilli + divisorMilli - 1) / divisorMilli
        return String(isCPU ? max(value, amountMilli > 0 ? 1 : 0) : value)
    }
}
