import Testing
@testable import KubeAPI

/// `validate()` messages, compared word for word with Kubernetes' field errors.
@Suite struct PodValidationTests {
    /// A valid, defaulted pod with one container "web" mounting volume "data".
    func validPod() throws -> Pod {
        Pod(metadata: ObjectMeta(name: "web-1"), spec: PodSpec(
            volumes: [Volume(name: "data", emptyDir: EmptyDirVolumeSource())],
            containers: [Container(name: "web", image: "nginx:1.27",
                                   volumeMounts: [VolumeMount(name: "data", mountPath: "/data")])]))
            .withDefaults()
    }

    /// The rendered errors of `pod`.
    func errors(_ pod: Pod) -> [String] {
        pod.validate().map(\.description)
    }

    @Test func aValidPodHasNoErrors() throws {
        #expect(errors(try validPod()) == [])
    }

    @Test func reportsMissingImageAndContainers() throws {
        var pod = try validPod()
        pod.spec.containers[0].image = nil
        #expect(errors(pod) == ["spec.containers[0].image: Required value"])
        pod.spec.containers = []
        #expect(errors(pod) == ["spec.containers: Required value"])
    }

    @Test func objectNamesAreDNSSubdomains() throws {
        var pod = try validPod()
        pod.metadata.name = "Foo_bar"
        #expect(errors(pod) == [
            "metadata.name: Invalid value: \"Foo_bar\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
        ])
        pod.metadata.name = nil
        #expect(errors(pod) == ["metadata.name: Required value: name or generateName is required"])
        pod.metadata.name = String(repeating: "a", count: 254)
        #expect(errors(pod) == ["metadata.name: Invalid value: \"\(String(repeating: "a", count: 254))\": must be no more than 253 characters"])
    }

    @Test func containerNamesAreDNSLabelsAndUnique() throws {
        var pod = try validPod()
        pod.spec.containers.append(pod.spec.containers[0])
        #expect(errors(pod) == ["spec.containers[1].name: Duplicate value: \"web\""])
        pod.spec.containers[1].name = "Web_1"
        #expect(errors(pod) == [
            "spec.containers[1].name: Invalid value: \"Web_1\": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
        ])
        pod.spec.containers[1].name = "web.sidecar"
        #expect(errors(pod) == ["spec.containers[1].name: Invalid value: \"web.sidecar\": must not contain dots"])
        pod.spec.initContainers = [Container(name: "web", image: "x:1")].map { $0.withDefaults(hostNetwork: false) }
        #expect(errors(pod).contains("spec.initContainers[0].name: Duplicate value: \"web\""))
    }

    @Test func restartAndDNSPoliciesAreEnums() throws {
        var pod = try validPod()
        pod.spec.restartPolicy = "Sometimes"
        pod.spec.dnsPolicy = ""
        #expect(errors(pod) == [
            "spec.restartPolicy: Unsupported value: \"Sometimes\": supported values: \"Always\", \"OnFailure\", \"Never\"",
            "spec.dnsPolicy: Required value",
        ])
    }

    @Test func mountsMustNameAVolumeAndHaveAPath() throws {
        var pod = try validPod()
        pod.spec.containers[0].volumeMounts = [VolumeMount(name: "data2", mountPath: ""),
                                               VolumeMount(name: "data", mountPath: "")]
        #expect(errors(pod) == [
            "spec.containers[0].volumeMounts[0].name: Not found: \"data2\"",
            "spec.containers[0].volumeMounts[0].mountPath: Required value",
            "spec.containers[0].volumeMounts[1].mountPath: Required value",
            "spec.containers[0].volumeMounts[1].mountPath: Invalid value: \"\": must be unique",
        ])
    }

    @Test func volumesNeedExactlyOneSourceAndUniqueNames() throws {
        var pod = try validPod()
        pod.spec.volumes = [
            Volume(name: "data", emptyDir: EmptyDirVolumeSource()),
            Volume(name: "two", emptyDir: EmptyDirVolumeSource(), configMap: ConfigMapVolumeSource(name: "c")),
            Volume(name: "empty"),
            Volume(name: "data", emptyDir: EmptyDirVolumeSource()),
            Volume(name: "host", hostPath: HostPathVolumeSource(path: "", type: "Directory")),
            Volume(name: "host2", hostPath: HostPathVolumeSource(path: "/var/../etc", type: "Folder")),
        ]
        pod.spec.containers[0].volumeMounts?.append(VolumeMount(name: "two", mountPath: "/two"))
        #expect(errors(pod) == [
            "spec.volumes[1].configMap: Forbidden: may not specify more than 1 volume type",
            "spec.volumes[2]: Required value: must specify a volume type",
            "spec.volumes[3].name: Duplicate value: \"data\"",
            "spec.volumes[4].hostPath.path: Required value",
            "spec.volumes[5].hostPath.path: Invalid value: \"/var/../etc\": must not contain '..'",
            "spec.volumes[5].hostPath.type: Unsupported value: \"Folder\": supported values: \"\", \"BlockDevice\", \"CharDevice\", \"Directory\", \"DirectoryOrCreate\", \"File\", \"FileOrCreate\", \"Socket\"",
            // An invalid volume cannot be mounted either.
            "spec.containers[0].volumeMounts[1].name: Not found: \"two\"",
        ])
    }

    @Test func portsAreInRangeNamedAndWithAProtocol() throws {
        var pod = try validPod()
        pod.spec.containers[0].ports = [
            ContainerPort(name: "http", containerPort: 70000, protocol: "TCP"),
            ContainerPort(name: "http", containerPort: 0, protocol: "ICMP"),
            ContainerPort(name: "Http--", containerPort: 81),
        ]
        #expect(errors(pod) == [
            "spec.containers[0].ports[0].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive",
            "spec.containers[0].ports[1].name: Duplicate value: \"http\"",
            "spec.containers[0].ports[1].containerPort: Required value",
            "spec.containers[0].ports[1].protocol: Unsupported value: \"ICMP\": supported values: \"SCTP\", \"TCP\", \"UDP\"",
            "spec.containers[0].ports[2].name: Invalid value: \"Http--\": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)",
            "spec.containers[0].ports[2].name: Invalid value: \"Http--\": must not contain consecutive hyphens",
            "spec.containers[0].ports[2].name: Invalid value: \"Http--\": must not begin or end with a hyphen",
            "spec.containers[0].ports[2].protocol: Required value",
        ])
    }

    @Test func hostPortsMustNotCollideAndMatchUnderHostNetwork() throws {
        var pod = try validPod()
        pod.spec.containers[0].ports = [ContainerPort(hostPort: 8080, containerPort: 80, protocol: "TCP")]
        pod.spec.containers.append(Container(name: "b", image: "x:1",
                                             ports: [ContainerPort(hostPort: 8080, containerPort: 81, protocol: "TCP")])
            .withDefaults(hostNetwork: false))
        #expect(errors(pod) == ["spec.containers[1].ports[0].hostPort: Duplicate value: \"TCP//8080\""])
        pod.spec.containers.removeLast()
        pod.spec.hostNetwork = true
        #expect(errors(pod) == ["spec.containers[0].ports[0].hostPort: Invalid value: 8080: must match `containerPort` when `hostNetwork` is true"])
    }

    @Test func requestsMayNotExceedLimits() throws {
        var pod = try validPod()
        pod.spec.containers[0].resources = ResourceRequirements(limits: ["cpu": try Quantity("1")],
                                                                requests: ["cpu": try Quantity("2")])
        #expect(errors(pod) == ["spec.containers[0].resources.requests: Invalid value: \"2\": must be less than or equal to cpu limit of 1"])
    }

    @Test func quantitiesMayNotBeNegativeAndNamesMustBeKnown() throws {
        var pod = try validPod()
        pod.spec.containers[0].resources = ResourceRequirements(limits: [
            "memory": try Quantity("-1Gi"), "gpu": try Quantity("1"), "example.com/dongle": try Quantity("1500m"),
        ])
        #expect(errors(pod) == [
            "spec.containers[0].resources.limits[example.com/dongle]: Invalid value: \"1500m\": must be an integer",
            "spec.containers[0].resources.limits[gpu]: Invalid value: \"gpu\": must be a standard resource type or fully qualified",
            "spec.containers[0].resources.limits[gpu]: Invalid value: \"gpu\": must be a standard resource for containers",
            "spec.containers[0].resources.limits[memory]: Invalid value: \"-1Gi\": must be greater than or equal to 0",
        ])
    }

    @Test func extendedResourcesCannotBeOvercommitted() throws {
        var pod = try validPod()
        pod.spec.containers[0].resources = ResourceRequirements(limits: ["nvidia.com/gpu": try Quantity("2")],
                                                                requests: ["nvidia.com/gpu": try Quantity("1")])
        #expect(errors(pod) == ["spec.containers[0].resources.requests: Invalid value: \"1\": must be equal to nvidia.com/gpu limit of 2"])
        pod.spec.containers[0].resources?.limits = nil
        #expect(errors(pod) == ["spec.containers[0].resources.limits: Required value: Limit must be set for non overcommitable resources"])
    }

    @Test func probesHaveOneHandlerAndSaneThresholds() throws {
        var pod = try validPod()
        pod.spec.containers[0].livenessProbe = Probe(
            exec: ExecAction(command: []), tcpSocket: TCPSocketAction(port: 0),
            timeoutSeconds: 1, periodSeconds: 10, successThreshold: 2, failureThreshold: -1)
        pod.spec.containers[0].readinessProbe = Probe(httpGet: HTTPGetAction(path: "", port: "metrics-port-too-long", scheme: "FTP"),
                                                      terminationGracePeriodSeconds: 5)
        pod.spec.containers[0].startupProbe = Probe(successThreshold: 1)
        #expect(errors(pod) == [
            "spec.containers[0].livenessProbe.exec.command: Required value",
            "spec.containers[0].livenessProbe.tcpSocket: Forbidden: may not specify more than 1 handler type",
            "spec.containers[0].livenessProbe.failureThreshold: Invalid value: -1: must be greater than or equal to 0",
            "spec.containers[0].livenessProbe.successThreshold: Invalid value: 2: must be 1",
            "spec.containers[0].readinessProbe.httpGet.path: Required value",
            "spec.containers[0].readinessProbe.httpGet.port: Invalid value: \"metrics-port-too-long\": must be no more than 15 characters",
            "spec.containers[0].readinessProbe.httpGet.scheme: Unsupported value: \"FTP\": supported values: \"HTTP\", \"HTTPS\"",
            "spec.containers[0].readinessProbe.terminationGracePeriodSeconds: Invalid value: 5: must not be set for readinessProbes",
            "spec.containers[0].startupProbe: Required value: must specify a handler type",
        ])
    }

    @Test func initContainersNeedRestartAlwaysForProbes() throws {
        var pod = try validPod()
        var sidecar = Container(name: "init", image: "x:1", readinessProbe: Probe(exec: ExecAction(command: ["true"])))
            .withDefaults(hostNetwork: false)
        pod.spec.initContainers = [sidecar]
        #expect(errors(pod) == ["spec.initContainers[0].readinessProbe: Forbidden: may not be set for init containers without restartPolicy=Always"])
        sidecar.restartPolicy = "Always"
        pod.spec.initContainers = [sidecar]
        #expect(errors(pod) == [])
        pod.spec.containers[0].restartPolicy = "Always"
        #expect(errors(pod) == ["spec.containers[0].restartPolicy: Forbidden: may not be set for non-init containers"])
    }

    @Test func environmentVariablesAreChecked() throws {
        var pod = try validPod()
        pod.spec.containers[0].env = [
            EnvVar(name: "A=B", value: "x"),
            EnvVar(name: "B", value: "x", valueFrom: EnvVarSource(configMapKeyRef: ConfigMapKeySelector(name: "c", key: "k"))),
            EnvVar(name: "C", valueFrom: EnvVarSource()),
            EnvVar(name: "D", valueFrom: EnvVarSource(fieldRef: ObjectFieldSelector(apiVersion: "v1", fieldPath: "status.phase"))),
        ]
        #expect(errors(pod) == [
            "spec.containers[0].env[0].name: Invalid value: \"A=B\": a valid environment variable name must consist only of printable ASCII characters other than '='",
            "spec.containers[0].env[1].valueFrom: Invalid value: \"\": may not be specified when `value` is not empty",
            "spec.containers[0].env[2].valueFrom: Invalid value: \"\": must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`",
            "spec.containers[0].env[3].valueFrom.fieldRef.fieldPath: Unsupported value: \"status.phase\": supported values: \"metadata.name\", \"metadata.namespace\", \"metadata.uid\", \"spec.nodeName\", \"spec.serviceAccountName\", \"status.hostIP\", \"status.hostIPs\", \"status.podIP\", \"status.podIPs\"",
        ])
    }

    @Test func labelsAndSecurityContextsAreChecked() throws {
        var pod = try validPod()
        pod.metadata.labels = ["-bad": "ok"]
        pod.spec.containers[0].securityContext = SecurityContext(
            runAsUser: -1, seccompProfile: SeccompProfile(type: "Localhost"))
        pod.spec.hostAliases = [HostAlias(ip: "10.0.0.300", hostnames: ["db.local"])]
        #expect(errors(pod) == [
            "metadata.labels: Invalid value: \"-bad\": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')",
            "spec.containers[0].securityContext.runAsUser: Invalid value: -1: must be between 0 and 2147483647, inclusive",
            "spec.containers[0].securityContext.seccompProfile.localhostProfile: Required value: must be set when seccomp type is Localhost",
            "spec.hostAliases[0].ip: Invalid value: \"10.0.0.300\": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)",
        ])
    }

    @Test func undefaultedPodsReportTheFieldsDefaultsWouldFill() throws {
        let pod = try Manifest.decodePod(yaml: Fixtures.minimalPod)
        #expect(errors(pod) == [
            "metadata.namespace: Required value",
            "spec.terminationGracePeriodSeconds: Required value",
            "spec.containers[0].terminationMessagePolicy: Required value",
            "spec.containers[0].imagePullPolicy: Required value",
            "spec.restartPolicy: Required value",
            "spec.dnsPolicy: Required value",
        ])
    }

    @Test func validatedThrowsEveryErrorLikeTheAPIServer() throws {
        var pod = try validPod()
        #expect(try pod.validated() == pod)
        pod.spec.containers[0].image = ""
        do {
            _ = try pod.validated()
            Issue.record("validated")
        } catch let error as InvalidObjectError {
            #expect(error.description == "Pod \"web-1\" is invalid: spec.containers[0].image: Required value")
        }
        pod.spec.restartPolicy = "Sometimes"
        do {
            _ = try pod.validated()
            Issue.record("validated")
        } catch let error as InvalidObjectError {
            #expect(error.errors.count == 2)
            #expect(error.errors[0].type == .required)
            #expect(error.errors[0].field == "spec.containers[0].image")
            #expect(error.errors[1].body == "Unsupported value: \"Sometimes\": supported values: \"Always\", \"OnFailure\", \"Never\"")
            #expect(error.description == "Pod \"web-1\" is invalid: [spec.containers[0].image: Required value, spec.restartPolicy: Unsupported value: \"Sometimes\": supported values: \"Always\", \"OnFailure\", \"Never\"]")
        }
    }
}
