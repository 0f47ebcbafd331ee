import APIMachinery
import APIRegistry
import KubeAPI

/// The discovery documents kubectl reads before anything else: `/version`, `/api`,
/// `/apis`, `/apis/<group>` and the resource lists of each group/version. Plain (not
/// aggregated) discovery: every kubectl version falls back to it.
struct Discovery: Sendable {
    let registry: ResourceRegistry
    let gitVersion: String

    /// `/version`, with major and minor taken from the Kubernetes version implemented.
    var version: JSONValue {
        let numbers = gitVersion.dropFirst(gitVersion.hasPrefix("v") ? 1 : 0).split(separator: ".")
        let major = numbers.first.map(String.init) ?? "1"
        let minor = numbers.count > 1 ? String(numbers[1].prefix { $0.isNumber }) : "0"
        #if arch(arm64)
        let architecture = "arm64"
        #else
        let architecture = "amd64"
        #endif
        return .object([
            "major": .string(major), "minor": .string(minor), "gitVersion": .string(gitVersion),
            "gitCommit": .string(""), "gitTreeState": .string("clean"), "buildDate": .string("1970-01-01T00:00:00Z"),
            "goVersion": .string("swift"), "compiler": .string("swift"), "platform": .string("linux/\(architecture)"),
        ])
    }

    /// `/api`.
    func coreVersions(serverAddress: String) -> JSONValue {
        .object([
            "kind": .string("APIVersions"),
            "versions": .array([.string("v1")]),
            "serverAddressByClientCIDRs": .array([.object(["clientCIDR": .string("0.0.0.0/0"), "serverAddress": .string(serverAddress)])]),
        ])
    }

    /// `/apis`.
    var groupList: JSONValue {
        let groups = registry.groupVersions.filter { !$0.group.isEmpty }.map(\.group)
        var seen: Set<String> = []
        let unique = groups.filter { seen.insert($0).inserted }
        return .object([
            "kind": .string("APIGroupList"), "apiVersion": .string("v1"),
            "groups": .array(unique.compactMap(group)),
        ])
    }

    /// `/apis/<group>`.
    func group(_ name: String) -> JSONValue? {
        let versions = registry.groupVersions.filter { $0.group == name }.map(\.version)
        guard let preferred = versions.first else { return nil }
        func entry(_ version: String) -> JSONValue {
            .object(["groupVersion": .string("\(name)/\(version)"), "version": .string(version)])
        }
        return .object([
            "kind": .string("APIGroup"), "apiVersion": .string("v1"), "name": .string(name),
            "versions": .array(versions.map(entry)), "preferredVersion": entry(preferred),
        ])
    }

    /// `/api/v1` or `/apis/<group>/<version>`.
    func resourceList(group: String, version: String) -> JSONValue? {
        let resources = registry.resources.filter { $0.group == group && $0.version == version }
        guard !resources.isEmpty else { return nil }
        var entries: [JSONValue] = []
        for resource in resources {
            var verbs = resource.verbs
            if resource.group.isEmpty, resource.name == "namespaces" {
                verbs.removeAll { $0 == "deletecollection" }
            }
            var entry: [String: JSONValue] = [
                "name": .string(resource.name), "singularName": .string(resource.singularName),
                "namespaced": .bool(resource.namespaced), "kind": .string(resource.kind),
                "verbs": .array(verbs.map { .string($0) }),
            ]
            if !resource.shortNames.isEmpty { entry["shortNames"] = .array(resource.shortNames.map { .string($0) }) }
            if !resource.categories.isEmpty { entry["categories"] = .array(resource.categories.map { .string($0) }) }
            entries.append(.object(entry))
            for subresource in resource.subresources {
                var sub: [String: JSONValue] = [
                    "name": .string("\(resource.name)/\(subresource)"), "singularName": .string(""),
                    "namespaced": .bool(resource.namespaced), "kind": .string(resource.kind),
                    "verbs": .array((["binding", "token", "eviction"].contains(subresource) ? ["create"] : ["get", "patch", "update"]).map { .string($0) }),
                ]
                if subresource == "token" {
                    // TokenRequest (pkg/registry/core/serviceaccount/storage/token.go GroupVersionKind).
                    sub["group"] = .string("authentication.k8s.io")
                    sub["version"] = .string("v1")
                    sub["kind"] = .string("TokenRequest")
                }
                if subresource == "binding" {
                    sub["kind"] = .string("Binding")
                }
                if subresource == "eviction" {
                    // kubectl drain evicts only when /api/v1 lists pods/eviction with its group and
                    // version (k8s.io/kubectl pkg/drain CheckEvictionSupport); otherwise it deletes.
                    sub["group"] = .string("policy")
                    sub["version"] = .string("v1")
                    sub["kind"] = .string("Eviction")
                }
                if subresource == "scale" {
                    sub["group"] = .string("autoscaling")
                    sub["version"] = .string("v1")
                    sub["kind"] = .string("Scale")
                }
                entries.append(.object(sub))
            }
        }
        return .object([
            "kind": .string("APIResourceList"), "apiVersion": .string("v1"),
            "groupVersion": .string(group.isEmpty ? version : "\(group)/\(version)"),
            "resources": .array(entries),
        ])
    }
}
