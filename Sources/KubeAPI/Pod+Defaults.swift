extension Pod {
    /// The pod with Kubernetes' defaults filled in, as the API server (and the kubelet for
    /// static pods) applies them before validation: `SetDefaults_Pod`, `SetDefaults_PodSpec`,
    /// `SetDefaults_Container`, `SetDefaults_Probe`, ... in pkg/apis/core/v1/defaults.go,
    /// plus the namespace "default" that a request without one would get.
    /// Fields already set are never changed (resource quantities are only rounded up to
    /// milli-units, as upstream does).
    public func withDefaults() -> Pod {
        var pod = self
        if (pod.metadata.namespace ?? "").isEmpty {
            pod.metadata.namespace = "default"
        }
        pod.spec = pod.spec.withDefaults()
        return pod
    }
}

extension PodSpec {
    func withDefaults() -> PodSpec {
        var spec = self
        if (spec.dnsPolicy ?? "").isEmpty { spec.dnsPolicy = "ClusterFirst" }
        if (spec.restartPolicy ?? "").isEmpty { spec.restartPolicy = "Always" }
        if spec.securityContext == nil { spec.securityContext = PodSecurityContext() }
        if spec.terminationGracePeriodSeconds == nil { spec.terminationGracePeriodSeconds = 30 }
        if (spec.schedulerName ?? "").isEmpty { spec.schedulerName = "default-scheduler" }
        if spec.enableServiceLinks == nil { spec.enableServiceLinks = true }
        let hostNetwork = spec.hostNetwork == true
        spec.containers = spec.containers.map { $0.withDefaults(hostNetwork: hostNetwork) }
        spec.initContainers = spec.initContainers?.map { $0.withDefaults(hostNetwork: hostNetwork) }
        // The generated defaulters give an EphemeralContainerCommon the Container defaults.
        spec.ephemeralContainers = spec.ephemeralContainers?.map { ephemeral in
            var ephemeral = ephemeral
            ephemeral.container = ephemeral.container.withDefaults(hostNetwork: hostNetwork)
            return ephemeral
        }
        spec.volumes = spec.volumes?.map { $0.withDefaults() }
        spec.overhead = spec.overhead.map(Self.roundedUp)
        return spec
    }

    /// `SetDefaults_ResourceList`: quantities are rounded up to milli-units.
    static func roundedUp(_ list: [String: Quantity]) -> [String: Quantity] {
        list.mapValues { $0.roundedUp(toScale: -3) }
    }
}

extension Container {
    func withDefaults(hostNetwork: Bool) -> Container {
        var container = self
        if (container.imagePullPolicy ?? "").isEmpty {
            container.imagePullPolicy = Container.imageTag(container.image ?? "") == "latest" ? "Always" : "IfNotPresent"
        }
        if (container.terminationMessagePath ?? "").isEmpty { container.terminationMessagePath = "/dev/termination-log" }
        if (container.terminationMessagePolicy ?? "").isEmpty { container.terminationMessagePolicy = "File" }
        container.ports = container.ports?.map { port in
            var port = port
            if (port.protocol ?? "").isEmpty { port.protocol = "TCP" }
            // With host networking every container port is a host port.
            if hostNetwork, (port.hostPort ?? 0) == 0 { port.hostPort = port.containerPort }
            return port
        }
        container.env = container.env?.map { variable in
            var variable = variable
            if var fieldRef = variable.valueFrom?.fieldRef, (fieldRef.apiVersion ?? "").isEmpty {
                fieldRef.apiVersion = "v1"
                variable.valueFrom?.fieldRef = fieldRef
            }
            return variable
        }
        if var resources = container.resources {
            resources.limits = resources.limits.map(PodSpec.roundedUp)
            resources.requests = resources.requests.map(PodSpec.roundedUp)
            // A limit without a request requests the limit (per resource).
            if let limits = resources.limits {
                var requests = resources.requests ?? [:]
                for (name, limit) in limits where requests[name] == nil {
                    requests[name] = limit
                }
                resources.requests = requests
            }
            container.resources = resources
        }
        container.livenessProbe = container.livenessProbe?.withDefaults()
        container.readinessProbe = container.readinessProbe?.withDefaults()
        container.startupProbe = container.startupProbe?.withDefaults()
        if var lifecycle = container.lifecycle {
            let postStart = lifecycle.postStart?.httpGet?.withDefaults()
            let preStop = lifecycle.preStop?.httpGet?.withDefaults()
            lifecycle.postStart?.httpGet = postStart
            lifecycle.preStop?.httpGet = preStop
            container.lifecycle = lifecycle
        }
        return container
    }

    /// The tag of an image reference, "latest" when there is neither tag nor digest
    /// (`parsers.ParseImageName`), empty when there is only a digest.
    static func imageTag(_ image: String) -> String {
        guard !image.isEmpty else { return "" }
        var name = Substring(image)
        var hasDigest = false
        if let at = name.firstIndex(of: "@") {
            name = name[..<at]
            hasDigest = true
        }
        let lastComponent = name.split(separator: "/", omittingEmptySubsequences: false).last ?? name
        if let colon = lastComponent.lastIndex(of: ":") {
            return String(lastComponent[lastComponent.index(after: colon)...])
        }
        return hasDigest ? "" : "latest"
    }
}

extension Probe {
    /// `SetDefaults_Probe` and `SetDefaults_HTTPGetAction`.
    func withDefaults() -> Probe {
        var probe = self
        if (probe.timeoutSeconds ?? 0) == 0 { probe.timeoutSeconds = 1 }
        if (probe.periodSeconds ?? 0) == 0 { probe.periodSeconds = 10 }
        if (probe.successThreshold ?? 0) == 0 { probe.successThreshold = 1 }
        if (probe.failureThreshold ?? 0) == 0 { probe.failureThreshold = 3 }
        probe.httpGet = probe.httpGet?.withDefaults()
        return probe
    }
}

extension HTTPGetAction {
    func withDefaults() -> HTTPGetAction {
        var action = self
        if (action.path ?? "").isEmpty { action.path = "/" }
        if (action.scheme ?? "").isEmpty { action.scheme = "HTTP" }
        return action
    }
}

extension Volume {
    /// `SetDefaults_Volume` and the per-source defaults (0644 file modes, hostPath type "").
    func withDefaults() -> Volume {
        var volume = self
        let sources: [Any?] = [hostPath, emptyDir, configMap, secret, persistentVolumeClaim, downwardAPI, projected,
                               ephemeral, csi, nfs, image]
        if sources.allSatisfy({ $0 == nil }) {
            volume.emptyDir = EmptyDirVolumeSource()
        }
        if volume.hostPath != nil, volume.hostPath?.type == nil { volume.hostPath?.type = "" }
        if volume.secret != nil, volume.secret?.defaultMode == nil { volume.secret?.defaultMode = 0o644 }
        if volume.configMap != nil, volume.configMap?.defaultMode == nil { volume.configMap?.defaultMode = 0o644 }
        volume.downwardAPI = Volume.withDefaultMode(volume.downwardAPI)
        volume.projected = Volume.withDefaultMode(volume.projected)
        return volume
    }

    private static func withDefaultMode(_ source: JSONValue?) -> JSONValue? {
        guard case .object(var members)? = source, members["defaultMode"] == nil else { return source }
        members["defaultMode"] = .int(0o644)
        return .object(members)
    }
}
