/// Container checks: `validateContainers`, `validateInitContainers`,
/// `validateContainerCommon` and what they call (ports, env, probes, lifecycle).
extension PodValidator {
    mutating func validateContainers(_ containers: [Container], volumes: [String: Volume], gracePeriod: Int64?,
                                     hostUsers: Bool, path: String) {
        guard !containers.isEmpty else {
            add(.required(path))
            return
        }
        var names: Set<String> = []
        for (index, container) in containers.enumerated() {
            let containerPath = path + "[\(index)]"
            validateContainerCommon(container, volumes: volumes, hostUsers: hostUsers, path: containerPath)
            if !names.insert(container.name).inserted {
                add(.duplicate(containerPath + ".name", container.name))
            }
            validateProbesAndLifecycle(container, gracePeriod: gracePeriod, path: containerPath)
            if container.restartPolicy != nil {
                add(.forbidden(containerPath + ".restartPolicy", "may not be set for non-init containers"))
            }
        }
        checkHostPortConflicts(Array(containers.enumerated()), path: path)
    }

    mutating func validateInitContainers(_ containers: [Container], regular: [Container], volumes: [String: Volume],
                                         gracePeriod: Int64?, hostUsers: Bool, path: String) {
        var names = Set(regular.map(\.name))
        for (index, container) in containers.enumerated() {
            let containerPath = path + "[\(index)]"
            validateContainerCommon(container, volumes: volumes, hostUsers: hostUsers, path: containerPath)
            var restartAlways = false
            if let policy = container.restartPolicy {
                if policy != "Always" {
                    add(.notSupported(containerPath + ".restartPolicy", policy, ["Always"]))
                }
                restartAlways = policy == "Always"
            }
            if names.contains(container.name) {
                add(.duplicate(containerPath + ".name", container.name))
            } else if !container.name.isEmpty {
                names.insert(container.name)
            }
            // Init containers run one by one, so only ports within one can conflict.
            checkHostPortConflicts([(index, container)], path: path)
            if restartAlways {
                // A sidecar: probes and hooks as for regular containers.
                validateProbesAndLifecycle(container, gracePeriod: gracePeriod, path: containerPath)
            } else {
                let reason = "may not be set for init containers without restartPolicy=Always"
                if container.lifecycle != nil { add(.forbidden(containerPath + ".lifecycle", reason)) }
                if container.livenessProbe != nil { add(.forbidden(containerPath + ".livenessProbe", reason)) }
                if container.readinessProbe != nil { add(.forbidden(containerPath + ".readinessProbe", reason)) }
                if container.startupProbe != nil { add(.forbidden(containerPath + ".startupProbe", reason)) }
            }
        }
    }

    /// `validateEphemeralContainers`: each as a container (`validateContainerCommon`), named
    /// uniquely among all the pod's containers, targeting a container or init container, and
    /// without what a debugging aid must not have (ports, probes, lifecycle, resources, restart
    /// policy: upstream's allow-list, "cannot be set for an Ephemeral Container"), nor subPath
    /// mounts (bind mounts that would outlive the container until the pod ends).
    mutating func validateEphemeralContainers(_ containers: [EphemeralContainer], spec: PodSpec, volumes: [String: Volume],
                                              hostUsers: Bool, path: String) {
        let others = Set(spec.containers.map(\.name) + (spec.initContainers ?? []).map(\.name))
        var names = others
        let reason = "cannot be set for an Ephemeral Container"
        for (index, ephemeral) in containers.enumerated() {
            let containerPath = path + "[\(index)]"
            let container = ephemeral.container
            validateContainerCommon(container, volumes: volumes, hostUsers: hostUsers, path: containerPath)
            if !names.insert(container.name).inserted {
                add(.duplicate(containerPath + ".name", container.name))
            }
            if let target = ephemeral.targetContainerName, !target.isEmpty, !others.contains(target) {
                add(.notFound(containerPath + ".targetContainerName", target))
            }
            let resources = container.resources
            let disallowed: [(String, Bool)] = [
                ("ports", !(container.ports ?? []).isEmpty),
                ("resources", !(resources?.limits ?? [:]).isEmpty || !(resources?.requests ?? [:]).isEmpty),
                ("resizePolicy", !(container.resizePolicy ?? []).isEmpty),
                ("restartPolicy", container.restartPolicy != nil),
                ("livenessProbe", container.livenessProbe != nil),
                ("readinessProbe", container.readinessProbe != nil),
                ("startupProbe", container.startupProbe != nil),
                ("lifecycle", container.lifecycle != nil),
            ]
            for (field, set) in disallowed where set {
                add(.forbidden(containerPath + "." + field, reason))
            }
            for (mountIndex, mount) in (container.volumeMounts ?? []).enumerated() {
                let mountPath = containerPath + ".volumeMounts[\(mountIndex)]"
                if !(mount.subPath ?? "").isEmpty { add(.forbidden(mountPath + ".subPath", reason)) }
                if !(mount.subPathExpr ?? "").isEmpty { add(.forbidden(mountPath + ".subPathExpr", reason)) }
            }
        }
    }

    private mutating func validateContainerCommon(_ container: Container, volumes: [String: Volume], hostUsers: Bool,
                                                  path: String) {
        if container.name.isEmpty {
            add(.required(path + ".name"))
        } else {
            check(NameRules.dns1123Label(container.name), path + ".name", container.name)
        }
        if (container.image ?? "").isEmpty {
            add(.required(path + ".image"))
        }
        validateEnum(container.terminationMessagePolicy, path + ".terminationMessagePolicy", ["File", "FallbackToLogsOnError"])
        validatePorts(container.ports ?? [], path: path + ".ports")
        validateEnv(container.env ?? [], path: path + ".env")
        validateEnvFrom(container.envFrom ?? [], path: path + ".envFrom")
        validateVolumeMounts(container, volumes: volumes, path: path + ".volumeMounts")
        validateVolumeDevices(container, volumes: volumes, path: path + ".volumeDevices")
        validateEnum(container.imagePullPolicy, path + ".imagePullPolicy", ["Always", "IfNotPresent", "Never"])
        if let resources = container.resources {
            validateResources(resources, path: path + ".resources")
        }
        validateSecurityContext(container.securityContext, hostUsers: hostUsers, path: path + ".securityContext")
    }

    private mutating func validateProbesAndLifecycle(_ container: Container, gracePeriod: Int64?, path: String) {
        if let lifecycle = container.lifecycle {
            for (name, handler) in [("postStart", lifecycle.postStart), ("preStop", lifecycle.preStop)] {
                guard let handler else { continue }
                validateHandler(exec: handler.exec, httpGet: handler.httpGet, tcpSocket: handler.tcpSocket, grpc: nil,
                                sleep: handler.sleep, gracePeriod: gracePeriod, path: path + ".lifecycle." + name)
            }
        }
        if let probe = container.livenessProbe {
            validateProbe(probe, gracePeriod: gracePeriod, path: path + ".livenessProbe")
            if (probe.successThreshold ?? 0) != 1 {
                add(.invalid(path + ".livenessProbe.successThreshold", probe.successThreshold ?? 0, "must be 1"))
            }
        }
        if let probe = container.readinessProbe {
            validateProbe(probe, gracePeriod: gracePeriod, path: path + ".readinessProbe")
            if let seconds = probe.terminationGracePeriodSeconds {
                add(.invalid(path + ".readinessProbe.terminationGracePeriodSeconds", seconds, "must not be set for readinessProbes"))
            }
        }
        if let probe = container.startupProbe {
            validateProbe(probe, gracePeriod: gracePeriod, path: path + ".startupProbe")
            if (probe.successThreshold ?? 0) != 1 {
                add(.invalid(path + ".startupProbe.successThreshold", probe.successThreshold ?? 0, "must be 1"))
            }
        }
    }

    /// `validateProbe`; unset numbers count as 0, as in Go's non-pointer fields.
    private mutating func validateProbe(_ probe: Probe, gracePeriod: Int64?, path: String) {
        validateHandler(exec: probe.exec, httpGet: probe.httpGet, tcpSocket: probe.tcpSocket, grpc: probe.grpc, sleep: nil,
                        gracePeriod: gracePeriod, path: path)
        let fields: [(String, Int32?)] = [
            ("initialDelaySeconds", probe.initialDelaySeconds), ("timeoutSeconds", probe.timeoutSeconds),
            ("periodSeconds", probe.periodSeconds), ("successThreshold", probe.successThreshold),
            ("failureThreshold", probe.failureThreshold),
        ]
        for (name, value) in fields where (value ?? 0) < 0 {
            add(.invalid(path + "." + name, value ?? 0, "must be greater than or equal to 0"))
        }
        if let seconds = probe.terminationGracePeriodSeconds, seconds <= 0 {
            add(.invalid(path + ".terminationGracePeriodSeconds", seconds, "must be greater than 0"))
        }
    }

    /// `validateHandler`: exactly one action.
    private mutating func validateHandler(exec: ExecAction?, httpGet: HTTPGetAction?, tcpSocket: TCPSocketAction?,
                                          grpc: GRPCAction?, sleep: SleepAction?, gracePeriod: Int64?, path: String) {
        var count = 0
        func claim(_ name: String) -> Bool {
            if count > 0 {
                add(.forbidden(path + "." + name, "may not specify more than 1 handler type"))
                return false
            }
            count += 1
            return true
        }
        if let exec, claim("exec"), (exec.command ?? []).isEmpty {
            add(.required(path + ".exec.command"))
        }
        if let httpGet, claim("httpGet") {
            if (httpGet.path ?? "").isEmpty {
                add(.required(path + ".httpGet.path"))
            }
            validatePort(httpGet.port, path: path + ".httpGet.port")
            let scheme = httpGet.scheme ?? ""
            if scheme != "HTTP", scheme != "HTTPS" {
                add(.notSupported(path + ".httpGet.scheme", scheme, ["HTTP", "HTTPS"]))
            }
            for header in httpGet.httpHeaders ?? [] {
                check(NameRules.httpHeaderName(header.name), path + ".httpGet.httpHeaders", header.name)
            }
        }
        if let tcpSocket, claim("tcpSocket") {
            validatePort(tcpSocket.port, path: path + ".tcpSocket.port")
        }
        if let grpc, claim("grpc") {
            validatePort(.int(grpc.port), path: path + ".grpc.port")
        }
        if let sleep, claim("sleep"), let gracePeriod, sleep.seconds <= 0 || sleep.seconds > gracePeriod {
            add(.invalid(path + ".sleep", sleep.seconds,
                         "must be greater than 0 and less than terminationGracePeriodSeconds (\(gracePeriod)). "
                            + "Enable AllowPodLifecycleSleepActionZeroValue feature gate for zero sleep."))
        }
        if count == 0 {
            add(.required(path, "must specify a handler type"))
        }
    }

    /// `ValidatePortNumOrName`.
    private mutating func validatePort(_ port: IntOrString, path: String) {
        switch port {
        case .int(let number):
            for message in NameRules.portNumber(Int64(number)) {
                add(.invalid(path, number, message))
            }
        case .string(let name):
            check(NameRules.portName(name), path, name)
        }
    }

    private mutating func validatePorts(_ ports: [ContainerPort], path: String) {
        var names: Set<String> = []
        for (index, port) in ports.enumerated() {
            let portPath = path + "[\(index)]"
            if let name = port.name, !name.isEmpty {
                let messages = NameRules.portName(name)
                if !messages.isEmpty {
                    check(messages, portPath + ".name", name)
                } else if !names.insert(name).inserted {
                    add(.duplicate(portPath + ".name", name))
                }
            }
            if port.containerPort == 0 {
                add(.required(portPath + ".containerPort"))
            } else {
                for message in NameRules.portNumber(Int64(port.containerPort)) {
                    add(.invalid(portPath + ".containerPort", port.containerPort, message))
                }
            }
            if let hostPort = port.hostPort, hostPort != 0 {
                for message in NameRules.portNumber(Int64(hostPort)) {
                    add(.invalid(portPath + ".hostPort", hostPort, message))
                }
            }
            let proto = port.protocol ?? ""
            if proto.isEmpty {
                add(.required(portPath + ".protocol"))
            } else if !["TCP", "UDP", "SCTP"].contains(proto) {
                add(.notSupported(portPath + ".protocol", proto, ["SCTP", "TCP", "UDP"]))
            }
        }
    }

    /// `AccumulateUniqueHostPorts`: one host port per protocol and host IP.
    private mutating func checkHostPortConflicts(_ containers: [(Int, Container)], path: String) {
        var seen: Set<String> = []
        for (containerIndex, container) in containers {
            for (portIndex, port) in (container.ports ?? []).enumerated() {
                guard let hostPort = port.hostPort, hostPort != 0 else { continue }
                let key = "\(port.protocol ?? "")/\(port.hostIP ?? "")/\(hostPort)"
                if !seen.insert(key).inserted {
                    add(.duplicate(path + "[\(containerIndex)].ports[\(portIndex)].hostPort", key))
                }
            }
        }
    }
}
