import Testing
@testable import KubeAPI

/// `withDefaults()` against Kubernetes' SetDefaults_* behaviour.
@Suite struct PodDefaultsTests {
    @Test func fillsThePodAndContainerDefaults() throws {
        let pod = try Manifest.decodePod(yaml: Fixtures.minimalPod).withDefaults()
        #expect(pod.metadata.namespace == "default")
        #expect(pod.spec.restartPolicy == "Always")
        #expect(pod.spec.terminationGracePeriodSeconds == 30)
        #expect(pod.spec.dnsPolicy == "ClusterFirst")
        #expect(pod.spec.schedulerName == "default-scheduler")
        #expect(pod.spec.enableServiceLinks == true)
        #expect(pod.spec.securityContext == PodSecurityContext())
        let container = pod.spec.containers[0]
        #expect(container.terminationMessagePath == "/dev/termination-log")
        #expect(container.terminationMessagePolicy == "File")
        #expect(container.imagePullPolicy == "Always")
    }

    @Test func keepsWhatIsAlreadySet() throws {
        var pod = try Manifest.decodePod(yaml: Fixtures.minimalPod)
        pod.metadata.namespace = "shop"
        pod.spec.restartPolicy = "Never"
        pod.spec.terminationGracePeriodSeconds = 0
        pod.spec.containers[0].imagePullPolicy = "Never"
        let defaulted = pod.withDefaults()
        #expect(defaulted.metadata.namespace == "shop")
        #expect(defaulted.spec.restartPolicy == "Never")
        #expect(defaulted.spec.terminationGracePeriodSeconds == 0)
        #expect(defaulted.spec.containers[0].imagePullPolicy == "Never")
        #expect(defaulted.withDefaults() == defaulted)
    }

    @Test func pullPolicyFollowsTheImageTag() {
        let cases: [(String?, String)] = [
            ("busybox", "Always"), ("busybox:latest", "Always"), ("nginx:1.27", "IfNotPresent"),
            ("localhost:5000/shop/web", "Always"), ("localhost:5000/shop/web:2", "IfNotPresent"),
            ("shop/web@sha256:4f0a0a1e5bd57d14c8dbe43e4d0ad1b9a5da1ef4a03bd8b04b49b6d6b1fbd59a", "IfNotPresent"),
            ("shop/web:latest@sha256:4f0a0a1e5bd57d14c8dbe43e4d0ad1b9a5da1ef4a03bd8b04b49b6d6b1fbd59a", "Always"),
            (nil, "IfNotPresent"),
        ]
        for (image, policy) in cases {
            let pod = Pod(spec: PodSpec(containers: [Container(name: "c", image: image)])).withDefaults()
            #expect(pod.spec.containers[0].imagePullPolicy == policy, "\(image ?? "nil")")
        }
    }

    @Test func defaultsPortsProbesAndHooks() throws {
        let probe = Probe(httpGet: HTTPGetAction(port: 8080))
        let container = Container(
            name: "c", image: "x:1", ports: [ContainerPort(containerPort: 80)],
            env: [EnvVar(name: "NODE", valueFrom: EnvVarSource(fieldRef: ObjectFieldSelector(fieldPath: "spec.nodeName")))],
            livenessProbe: probe, readinessProbe: Probe(exec: ExecAction(command: ["true"]), periodSeconds: 3),
            lifecycle: Lifecycle(preStop: LifecycleHandler(httpGet: HTTPGetAction(port: "http"))))
        let pod = Pod(spec: PodSpec(containers: [container])).withDefaults()
        let defaulted = pod.spec.containers[0]
        #expect(defaulted.ports == [ContainerPort(containerPort: 80, protocol: "TCP")])
        #expect(defaulted.env?[0].valueFrom?.fieldRef?.apiVersion == "v1")
        #expect(defaulted.livenessProbe == Probe(httpGet: HTTPGetAction(path: "/", port: 8080, scheme: "HTTP"),
                                                 timeoutSeconds: 1, periodSeconds: 10, successThreshold: 1, failureThreshold: 3))
        #expect(defaulted.readinessProbe?.periodSeconds == 3)
        #expect(defaulted.readinessProbe?.timeoutSeconds == 1)
        #expect(defaulted.lifecycle?.preStop?.httpGet == HTTPGetAction(path: "/", port: "http", scheme: "HTTP"))
    }

    @Test func hostNetworkTurnsContainerPortsIntoHostPorts() {
        let pod = Pod(spec: PodSpec(containers: [Container(name: "c", image: "x:1", ports: [ContainerPort(containerPort: 53)])],
                                    hostNetwork: true)).withDefaults()
        #expect(pod.spec.containers[0].ports?[0].hostPort == 53)
    }

    @Test func requestsDefaultToLimitsPerResource() throws {
        let resources = ResourceRequirements(
            limits: ["cpu": try Quantity("1"), "memory": try Quantity("1Gi")],
            requests: ["cpu": try Quantity("500m")])
        let pod = Pod(spec: PodSpec(
            initContainers: [Container(name: "i", image: "x:1", resources: ResourceRequirements(limits: ["cpu": try Quantity("2")]))],
            containers: [Container(name: "c", image: "x:1", resources: resources)])).withDefaults()
        #expect(pod.spec.containers[0].resources?.requests == ["cpu": try Quantity("500m"), "memory": try Quantity("1Gi")])
        #expect(pod.spec.initContainers?[0].resources?.requests == ["cpu": try Quantity("2")])
    }

    @Test func roundsResourceQuantitiesUpToMilliUnits() throws {
        let pod = Pod(spec: PodSpec(containers: [Container(
            name: "c", image: "x:1", resources: ResourceRequirements(limits: ["cpu": try Quantity("0.5m")]))])).withDefaults()
        #expect(pod.spec.containers[0].resources?.limits?["cpu"]?.description == "1m")
    }

    @Test func defaultsVolumeSources() throws {
        let pod = Pod(spec: PodSpec(volumes: [
            Volume(name: "scratch"),
            Volume(name: "host", hostPath: HostPathVolumeSource(path: "/srv")),
            Volume(name: "config", configMap: ConfigMapVolumeSource(name: "c")),
            Volume(name: "secret", secret: SecretVolumeSource(secretName: "s", defaultMode: 0o400)),
            Volume(name: "info", downwardAPI: .object(["items": .array([])])),
        ], containers: [Container(name: "c", image: "x:1")])).withDefaults()
        let volumes = try #require(pod.spec.volumes)
        #expect(volumes[0].emptyDir == EmptyDirVolumeSource())
        #expect(volumes[1].hostPath?.type == "")
        #expect(volumes[1].emptyDir == nil)
        #expect(volumes[2].configMap?.defaultMode == 420)
        #expect(volumes[3].secret?.defaultMode == 0o400)
        #expect(volumes[4].downwardAPI?["defaultMode"] == .int(420))
    }

    @Test func defaultedFixturesAreValid() throws {
        #expect(try Manifest.decodePod(yaml: Fixtures.webPod).withDefaults().validate() == [])
        #expect(try Manifest.decodePod(yaml: Fixtures.minimalPod).withDefaults().validate() == [])
    }
}
