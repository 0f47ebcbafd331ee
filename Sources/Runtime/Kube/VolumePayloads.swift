import Foundation
import KubeAPI

/// The files of configMap, secret, downwardAPI and projected volumes (kubelet's MakePayload in
/// pkg/volume/configmap, secret, downwardapi and projected), with kubelet's error messages.
public enum VolumePayloads {
    /// The payload of an API volume; throws `ConfigSourceError` when a non-optional object or
    /// key is missing, or the source cannot be used on this node.
    public static func payload(for volume: Volume, pod: Pod, objects: PodConfigObjects) throws -> [String: FileProjection] {
        if let source = volume.configMap {
            return try keys(kind: .configMap, name: source.name ?? "", items: source.items, optional: source.optional ?? false,
                            defaultMode: source.defaultMode, objects: objects)
        }
        if let source = volume.secret {
            return try keys(kind: .secret, name: source.secretName ?? "", items: source.items, optional: source.optional ?? false,
                            defaultMode: source.defaultMode, objects: objects)
        }
        if volume.downwardAPI != nil {
            let source = try decode { try volume.decodedDownwardAPI() }
            return try downward(source?.items ?? [], defaultMode: source?.defaultMode, pod: pod)
        }
        if volume.projected != nil {
            let source = try decode { try volume.decodedProjected() }
            var payload: [String: FileProjection] = [:]
            let defaultMode = source?.defaultMode
            for (index, projection) in (source?.sources ?? []).enumerated() {
                var part: [String: FileProjection]
                if let configMap = projection.configMap {
                    part = try keys(kind: .configMap, name: configMap.name ?? "", items: configMap.items,
                                    optional: configMap.optional ?? false, defaultMode: defaultMode, objects: objects)
                } else if let secret = projection.secret {
                    part = try keys(kind: .secret, name: secret.name ?? "", items: secret.items,
                                    optional: secret.optional ?? false, defaultMode: defaultMode, objects: objects)
                } else if let downwardAPI = projection.downwardAPI {
                    part = try downward(downwardAPI.items ?? [], defaultMode: defaultMode, pod: pod)
                } else if let token = projection.serviceAccountToken {
                    guard objects.fromAPIServer else {
                        throw ConfigSourceError("projected source \(index): a serviceAccountToken needs an API server; pods that run without one (static pods) cannot use it")
                    }
                    guard let value = objects.serviceAccountTokens[PodConfigObjects.tokenKey(volume: volume.name, source: index)] else {
                        throw ConfigSourceError("failed to fetch token: no token for projected source \(index) yet")
                    }
                    part = [token.path: FileProjection(data: Data(value.utf8), mode: try mode(defaultMode ?? 0o644, what: "defaultMode"))]
                } else if projection.clusterTrustBundle != nil {
                    throw ConfigSourceError("projected source \(index): clusterTrustBundle is not supported by this node")
                } else if projection.podCertificate != nil {
                    throw ConfigSourceError("projected source \(index): podCertificate is not supported by this node")
                } else {
                    throw ConfigSourceError("projected source \(index) names no source")
                }
                // A later source's file replaces an earlier one's of the same path, as in kubelet's collectData.
                payload.merge(part) { _, new in new }
            }
            return payload
        }
        throw ConfigSourceError("volume \"\(volume.name)\" is not a configMap, secret, downwardAPI or projected volume")
    }

    /// Whether the volume holds secret material and must stay off disk (tmpfs): secret volumes and
    /// projected volumes with a secret or token source (kubelet wraps both in a memory emptyDir).
    public static func needsMemory(_ volume: Volume) -> Bool {
        if volume.secret != nil { return true }
        guard let projected = try? volume.decodedProjected() else { return volume.projected != nil }
        return (projected.sources ?? []).contains { $0.secret != nil || $0.serviceAccountToken != nil }
    }

    enum Kind {
        case configMap, secret
        /// kubelet's not-found message uses the singular resource name: `configmap "x" not found`.
        var resource: String { self == .configMap ? "configmap" : "secret" }
        var keyMessage: String { self == .configMap ? "configmap references non-existent config key" : "references non-existent secret key" }
    }

    static func keys(kind: Kind, name: String, items: [KeyToPath]?, optional: Bool, defaultMode: Int32?,
                     objects: PodConfigObjects) throws -> [String: FileProjection] {
        guard objects.fromAPIServer else {
            throw ConfigSourceError("\(kind.resource) \"\(name)\": static pods cannot use \(kind == .configMap ? "ConfigMaps" : "Secrets") (they come from a manifest file, not from the API server)")
        }
        let found = kind == .configMap ? objects.configMaps[name] : objects.secrets[name]
        guard let object = found else {
            if optional { return [:] }
            throw ConfigSourceError("\(kind.resource) \"\(name)\" not found")
        }
        let fallback = try mode(defaultMode ?? 0o644, what: "defaultMode")
        var payload: [String: FileProjection] = [:]
        guard let items, !items.isEmpty else {
            for (key, data) in object.data { payload[key] = FileProjection(data: data, mode: fallback) }
            return payload
        }
        for item in items {
            guard let data = object.data[item.key] else {
                if optional { continue }
                throw ConfigSourceError("\(kind.keyMessage): \(item.key)")
            }
            payload[item.path] = FileProjection(data: data, mode: try item.mode.map { try mode($0, what: "mode of \(item.path)") } ?? fallback)
        }
        return payload
    }

    /// kubelet's downwardapi CollectData: each item's value; labels and annotations as
    /// `key="value"` lines (fieldpath.FormatMap), sorted by key.
    static func downward(_ items: [DownwardAPIVolumeFile], defaultMode: Int32?, pod: Pod) throws -> [String: FileProjection] {
        let fallback = try mode(defaultMode ?? 0o644, what: "defaultMode")
        var payload: [String: FileProjection] = [:]
        for item in items {
            let value: String
            if let field = item.fieldRef {
                switch field.fieldPath {
                case "metadata.labels": value = formatMap(pod.metadata.labels ?? [:])
                case "metadata.annotations": value = formatMap(pod.metadata.annotations ?? [:])
                default:
                    do {
                        value = try EnvironmentBuilder.fieldValue(field.fieldPath, pod: pod,
                                                                  info: PodRuntimeInfo(nodeName: pod.spec.nodeName ?? "", hostname: ""),
                                                                  variable: item.path)
                    } catch {
                        throw ConfigSourceError("downwardAPI item \"\(item.path)\": unsupported fieldPath \"\(field.fieldPath)\"")
                    }
                }
            } else if let resource = item.resourceFieldRef {
                let containers = pod.spec.containers + (pod.spec.initContainers ?? [])
                guard let container = containers.first(where: { $0.name == resource.containerName }) ?? (resource.containerName == nil ? containers.first : nil) else {
                    throw ConfigSourceError("downwardAPI item \"\(item.path)\": container \"\(resource.containerName ?? "")\" not found")
                }
                do {
                    value = try EnvironmentBuilder.resourceValue(resource, pod: pod, container: container, variable: item.path)
                } catch {
                    throw ConfigSourceError("downwardAPI item \"\(item.path)\": unsupported resource \"\(resource.resource)\"")
                }
            } else {
                throw ConfigSourceError("downwardAPI item \"\(item.path)\" has neither fieldRef nor resourceFieldRef")
            }
            payload[item.path] = FileProjection(data: Data(value.utf8), mode: try item.mode.map { try mode($0, what: "mode of \(item.path)") } ?? fallback)
        }
        return payload
    }

    static func formatMap(_ map: [String: String]) -> String {
        map.keys.sorted().map { "\($0)=\(GoQuote.quote(map[$0] ?? ""))" }.joined(separator: "\n")
    }

    static func mode(_ value: Int32, what: String) throws -> UInt16 {
        guard (0...0o777).contains(value) else {
            throw ConfigSourceError("\(what) \(value) must be a number between 0 and 0777 (octal)")
        }
        return UInt16(value)
    }

    private static func decode<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch {
            throw ConfigSourceError("cannot read the volume source: \(error)")
        }
    }
}
