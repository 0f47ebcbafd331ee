import APIMachinery
import KubeAPI

/// The ServiceAccount admission plugin for new pods, as kube-apiserver runs it
/// (plugin/pkg/admission/serviceaccount/admission.go `Admit`):
/// - a pod names `default` unless it names an account (`serviceAccountName`, or the
///   deprecated `serviceAccount`);
/// - the account must exist, else the pod is refused (403) with upstream's message
///   `error looking up service account NS/NAME: serviceaccount "NAME" not found`; for `default`
///   the lookup is retried for about a second, as upstream does while the serviceaccounts
///   controller may still be making it;
/// - unless `automountServiceAccountToken` is false (the pod's field wins over the
///   account's), the `kube-api-access-XXXXX` projected volume (a bound token of 3607 s, the
///   `kube-root-ca.crt` ConfigMap's `ca.crt`, the namespace from the downward API) is added
///   and mounted read-only at /var/run/secrets/kubernetes.io/serviceaccount in every init
///   and regular container that has no mount there yet (`mountServiceAccountToken`);
/// - a pod without imagePullSecrets gets its account's.
/// Mirror pods are left alone: they name no API object (NodeRestriction refuses those that do).
enum ServiceAccountAdmission {
    static let mountPath = "/var/run/secrets/kubernetes.io/serviceaccount"
    static let volumePrefix = "kube-api-access-"
    static let rootCAConfigMap = "kube-root-ca.crt"
    /// serviceaccount.WarnOnlyBoundTokenExpirationSeconds.
    static let tokenSeconds: Int64 = 3607
    /// The alphabet of apimachinery's `utilrand.String` (no vowels, no confusable digits).
    static let nameAlphabet = Array("bcdfghjklmnpqrstvwxz2456789")

    static func admit(_ pod: inout KubeObject, namespace: String, accounts: ResourceStore) async throws(APIError) {
        if pod.annotations["kubernetes.io/config.mirror"] != nil { return }
        var spec = pod.fields["spec"]?.objectValue ?? [:]
        let named = spec["serviceAccountName"]?.stringValue ?? ""
        let legacy = spec["serviceAccount"]?.stringValue ?? ""
        let name = !named.isEmpty ? named : (!legacy.isEmpty ? legacy : "default")
        spec["serviceAccountName"] = .string(name)
        guard let account = try await lookup(namespace: namespace, name: name, accounts: accounts) else {
            throw APIError.forbidden(GroupResource(group: "", resource: "pods"), name: pod.name ?? "",
                                     "error looking up service account \(namespace)/\(name): serviceaccount \(ObjectValidation.quote(name)) not found")
        }
        let automount = spec["automountServiceAccountToken"]?.boolValue ?? account.fields["automountServiceAccountToken"]?.boolValue ?? true
        if automount {
            mountToken(&spec)
        }
        if (spec["imagePullSecrets"]?.arrayValue ?? []).isEmpty, let secrets = account.fields["imagePullSecrets"]?.arrayValue, !secrets.isEmpty {
            spec["imagePullSecrets"] = .array(secrets.compactMap { $0["name"].map { .object(["name": $0]) } })
        }
        pod.fields["spec"] = .object(spec)
    }

    private static func lookup(namespace: String, name: String, accounts: ResourceStore) async throws(APIError) -> KubeObject? {
        let attempts = name == "default" ? 10 : 1
        for attempt in 0..<attempts {
            if attempt > 0 { try? await Task.sleep(for: .milliseconds(Int.random(in: 100...200))) }
            if let found = try await accounts.find(namespace: namespace, name: name) { return found }
        }
        return nil
    }

    /// `mountServiceAccountToken`: reuses a `kube-api-access-` volume the pod already has, and
    /// adds the volume only when some container got the mount.
    static func mountToken(_ spec: inout [String: JSONValue]) {
        var volumes = spec["volumes"]?.arrayValue ?? []
        let existing = volumes.first { ($0["name"]?.stringValue ?? "").hasPrefix(volumePrefix) }?["name"]?.stringValue
        let names = Set(volumes.compactMap { $0["name"]?.stringValue })
        var volumeName = existing ?? ""
        while volumeName.isEmpty || (existing == nil && names.contains(volumeName)) {
            volumeName = volumePrefix + String((0..<5).map { _ in nameAlphabet.randomElement() ?? "x" })
        }
        let mount: JSONValue = .object(["name": .string(volumeName), "readOnly": .bool(true), "mountPath": .string(mountPath)])
        var needsVolume = false
        for key in ["initContainers", "containers"] {
            guard var containers = spec[key]?.arrayValue else { continue }
            for index in containers.indices {
                guard case .object(var container) = containers[index] else { continue }
                var mounts = container["volumeMounts"]?.arrayValue ?? []
                if mounts.contains(where: { $0["mountPath"]?.stringValue == mountPath }) { continue }
                mounts.append(mount)
                container["volumeMounts"] = .array(mounts)
                containers[index] = .object(container)
                needsVolume = true
            }
            spec[key] = .array(containers)
        }
        if existing == nil, needsVolume {
            volumes.append(.object(["name": .string(volumeName), "projected": tokenVolumeSource]))
            spec["volumes"] = .array(volumes)
        }
    }

    /// upstream `TokenVolumeSource()`, with the default mode set explicitly (0644) as it is.
    static let tokenVolumeSource: JSONValue = .object([
        "defaultMode": .int(420),
        "sources": .array([
            .object(["serviceAccountToken": .object(["expirationSeconds": .int(tokenSeconds), "path": .string("token")])]),
            .object(["configMap": .object([
                "name": .string(rootCAConfigMap),
                "items": .array([.object(["key": .string("ca.crt"), "path": .string("ca.crt")])]),
            ])]),
            .object(["downwardAPI": .object([
                "items": .array([.object([
                    "path": .string("namespace"),
                    "fieldRef": .object(["apiVersion": .string("v1"), "fieldPath": .string("metadata.namespace")]),
                ])]),
            ])]),
        ]),
    ])
}
