import Foundation
import Testing
@testable import KubeAPI

/// Decoding good manifests: every modelled field lands where it should.
@Suite struct ManifestDecodingTests {
    @Test func decodesARealisticPod() throws {
        let pod = try Manifest.decodePod(yaml: Fixtures.webPod)
        #expect(pod.apiVersion == "v1")
        #expect(pod.metadata.name == "web-1")
        #expect(pod.metadata.namespace == "shop")
        #expect(pod.metadata.labels == ["app": "web", "app.kubernetes.io/name": "web"])
        #expect(pod.metadata.annotations?["example.com/owner"] == "team-a")

        let spec = pod.spec
        #expect(spec.restartPolicy == "Always")
        #expect(spec.terminationGracePeriodSeconds == 45)
        #expect(spec.nodeSelector?["kubernetes.io/os"] == "linux")
        #expect(spec.securityContext?.runAsUser == 1000)
        #expect(spec.securityContext?.supplementalGroups == [4000, 5000])
        #expect(spec.securityContext?.seccompProfile == SeccompProfile(type: "RuntimeDefault"))
        #expect(spec.securityContext?.sysctls == [Sysctl(name: "net.ipv4.ip_unprivileged_port_start", value: "0")])
        #expect(spec.tolerations == [Toleration(key: "node.kubernetes.io/not-ready", operator: "Exists",
                                                effect: "NoExecute", tolerationSeconds: 300)])
        let term = spec.affinity?["nodeAffinity"]?["requiredDuringSchedulingIgnoredDuringExecution"]?["nodeSelectorTerms"]
        #expect(term == .array([.object(["matchExpressions": .array([.object([
            "key": .string("disktype"), "operator": .string("In"), "values": .array([.string("ssd")]),
        ])])])]))
        #expect(spec.initContainers?.first?.command == ["/bin/migrate", "--up"])

        #expect(spec.containers.map(\.name) == ["web", "exporter"])
        let web = spec.containers[0]
        #expect(web.ports == [ContainerPort(name: "http", containerPort: 80), ContainerPort(containerPort: 9113, protocol: "TCP")])
        #expect(web.env?[1] == EnvVar(name: "PORT", value: "80"))
        #expect(web.env?[2].valueFrom?.fieldRef == ObjectFieldSelector(fieldPath: "metadata.name"))
        #expect(web.env?[3].valueFrom?.resourceFieldRef?.divisor?.description == "1Mi")
        #expect(web.envFrom == [EnvFromSource(configMapRef: ConfigMapEnvSource(name: "web-config"))])
        #expect(web.resources?.requests?["cpu"]?.description == "250m")
        #expect(web.resources?.limits?["cpu"]?.milliValue == 500)
        #expect(web.resources?.limits?["memory"]?.value == Int64(128 * 1024 * 1024))
        #expect(web.volumeMounts?[1] == VolumeMount(name: "config", readOnly: true, mountPath: "/etc/nginx/conf.d"))
        #expect(web.livenessProbe?.httpGet?.port == .string("http"))
        #expect(web.livenessProbe?.httpGet?.httpHeaders == [HTTPHeader(name: "X-Probe", value: "liveness")])
        #expect(web.livenessProbe?.initialDelaySeconds == 5)
        #expect(web.readinessProbe?.tcpSocket?.port == .int(80))
        #expect(web.startupProbe?.exec?.command == ["cat", "/tmp/ready"])
        #expect(web.lifecycle?.preStop?.sleep?.seconds == 5)
        #expect(web.securityContext?.allowPrivilegeEscalation == false)
        #expect(web.securityContext?.capabilities == Capabilities(add: ["NET_BIND_SERVICE"], drop: ["ALL"]))

        let volumes = try #require(spec.volumes)
        #expect(volumes[0].emptyDir == EmptyDirVolumeSource(medium: "Memory", sizeLimit: try Quantity("64Mi")))
        // YAML 1.1 octal, as sigs.k8s.io/yaml reads it: 0644 is 420.
        #expect(volumes[1].configMap?.defaultMode == 420)
        #expect(volumes[1].configMap?.items == [KeyToPath(key: "default.conf", path: "default.conf")])
        #expect(volumes[2].hostPath == HostPathVolumeSource(path: "/var/log/web", type: "DirectoryOrCreate"))
    }

    @Test func roundTripsThroughJSONAndYAMLDecoding() throws {
        let pod = try Manifest.decodePod(yaml: Fixtures.webPod)
        let json = try JSONEncoder().encode(pod)
        #expect(try Manifest.decodePod(json: json) == pod)
        #expect(try JSONDecoder().decode(Pod.self, from: json) == pod)
        // Optional fields that were absent stay absent in the output.
        let text = String(decoding: json, as: UTF8.self)
        #expect(!text.contains("null"))
        #expect(!text.contains("hostNetwork"))
    }

    @Test func roundTripsAPodWithStatus() throws {
        let started = try #require(Time(rfc3339: "2026-11-22T10:00:00Z"))
        var pod = try Manifest.decodePod(yaml: Fixtures.minimalPod)
        pod.metadata.creationTimestamp = started
        pod.status = PodStatus(
            phase: "Running",
            conditions: [PodCondition(type: "Ready", status: "True", lastTransitionTime: started)],
            hostIP: "10.0.0.2", podIP: "10.42.0.5", podIPs: [PodIP(ip: "10.42.0.5")], startTime: started,
            containerStatuses: [ContainerStatus(
                name: "app",
                state: ContainerState(running: ContainerStateRunning(startedAt: started)),
                lastState: ContainerState(terminated: ContainerStateTerminated(exitCode: 137, reason: "OOMKilled")),
                ready: true, restartCount: 2, image: "busybox:latest", imageID: "sha256:abc",
                containerID: "swiftlet://1234", started: true)],
            qosClass: "BestEffort")
        let json = try JSONEncoder().encode(pod)
        #expect(String(decoding: json, as: UTF8.self).contains("\"2026-11-22T10:00:00Z\""))
        #expect(try Manifest.decode(Pod.self, json: json) == pod)
    }

    @Test func quotedScalarsAreStringsAndPlainOnesAreNumbers() throws {
        let yaml = """
        port: "80"
        other: 80
        """
        struct Ports: Decodable { var port: IntOrString; var other: IntOrString }
        let ports = try Manifest.decode(Ports.self, yaml: yaml)
        #expect(ports.port == .string("80"))
        #expect(ports.other == .int(80))
    }

    @Test func nullTildeAndEmptyAreNilForOptionals() throws {
        let yaml = """
        metadata:
          name: a
          namespace: ~
          labels:
          creationTimestamp: null
        spec:
          containers: [{name: a, image: null}]
        """
        let pod = try Manifest.decode(Pod.self, yaml: yaml)
        #expect(pod.metadata.namespace == nil)
        #expect(pod.metadata.labels == nil)
        #expect(pod.metadata.creationTimestamp == nil)
        #expect(pod.spec.containers[0].image == nil)
    }

    @Test func acceptsJSON() throws {
        let json = #"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"j"},"spec":{"containers":[{"name":"c","image":"busybox","ports":[{"containerPort":8080}]}]}}"#
        let pod = try Manifest.decodePod(json: Data(json.utf8))
        #expect(pod.spec.containers[0].ports?[0].containerPort == 8080)
    }

    @Test func decodesEveryDocumentAndSkipsEmptyOnes() throws {
        let yaml = """
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: one}
        spec: {containers: [{name: a, image: x}]}
        ---
        # only a comment
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: two}
        spec: {containers: [{name: b, image: y}]}
        ---
        """
        let pods = try Manifest.decodeAll(Pod.self, yaml: yaml)
        #expect(pods.map(\.metadata.name) == ["one", "two"])
        #expect(try Manifest.decodeAll(Pod.self, yaml: "---\n---\n").isEmpty)
    }

    @Test func peeksAtTypeMetaIgnoringEverythingElse() throws {
        let meta = try Manifest.decode(TypeMeta.self, yaml: Fixtures.webPod)
        #expect(meta == TypeMeta(apiVersion: "v1", kind: "Pod"))
    }

    @Test func readsTimesWithFractionsAndOffsets() throws {
        struct Stamp: Decodable { var at: Time }
        let utc = try Manifest.decode(Stamp.self, yaml: "at: 2026-11-22T10:00:00Z").at
        #expect(utc.description == "2026-11-22T10:00:00Z")
        let offset = try Manifest.decode(Stamp.self, yaml: "at: \"2026-11-22T12:00:00.75+02:00\"").at
        #expect(offset == utc)
        #expect(Time(rfc3339: "2026-02-30T10:00:00Z") == nil)
        #expect(Time(rfc3339: "2026-11-22 10:00:00") == nil)
    }

    @Test func appliesYAMLMergeKeys() throws {
        let yaml = """
        base: &base
          name: shared
          image: busybox
        containers:
          - <<: *base
            name: first
          - <<: *base
        """
        struct Doc: Decodable { var base: Container; var containers: [Container] }
        let doc = try Manifest.decode(Doc.self, yaml: yaml)
        #expect(doc.containers.map(\.name) == ["first", "shared"])
        #expect(doc.containers.map(\.image) == ["busybox", "busybox"])
    }

    @Test func readsQuantitiesWrittenAsNumbers() throws {
        let yaml = "limits: {cpu: 0.5, memory: 1e9, pods: 110, hex: 0x10}"
        let resources = try Manifest.decode(ResourceRequirements.self, yaml: yaml)
        #expect(resources.limits?["cpu"]?.description == "500m")
        #expect(resources.limits?["memory"]?.description == "1e9")
        #expect(resources.limits?["pods"]?.description == "110")
        #expect(resources.limits?["hex"]?.description == "16")
    }

    @Test func decodesJSONValuesOfEveryKind() throws {
        let yaml = "v: {a: null, b: true, c: 3, d: 1.5, e: text, f: [1, x]}"
        struct Doc: Decodable { var v: JSONValue }
        let value = try Manifest.decode(Doc.self, yaml: yaml).v
        #expect(value == .object(["a": .null, "b": .bool(true), "c": .int(3), "d": .double(1.5),
                                  "e": .string("text"), "f": .array([.int(1), .string("x")])]))
        let json = try JSONDecoder().decode(JSONValue.self, from: JSONEncoder().encode(value))
        #expect(json == value)
    }
}
