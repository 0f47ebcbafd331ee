import Foundation
import Images
import KubeAPI
import Testing
@testable import Runtime

/// configMap, secret, downwardAPI and projected payloads (kubelet's MakePayload and
/// CollectData) and env from ConfigMaps and Secrets (makeEnvironmentVariables), with kubelet's
/// messages.
struct ConfigVolumeTests {
    static func pod(volumes: [Volume] = [], env: [EnvVar] = [], envFrom: [EnvFromSource] = []) -> Pod {
        var pod = Pod(metadata: ObjectMeta(name: "web", namespace: "team", uid: "u-1", labels: ["app": "web", "tier": "a\"b"],
                                           annotations: ["note": "x\ny"]))
        var container = Container(name: "c", image: "busybox")
        container.env = env
        container.envFrom = envFrom
        container.resources = ResourceRequirements(limits: ["memory": try! Quantity("64Mi")], requests: ["cpu": try! Quantity("250m")])
        pod.spec.containers = [container]
        pod.spec.volumes = volumes
        return pod
    }

    static let objects = PodConfigObjects(
        configMaps: ["app": ConfigObject(data: ["greeting": Data("hello".utf8), "port": Data("8080".utf8)])],
        secrets: ["db": ConfigObject(data: ["password": Data("s3cret".utf8), "1bad=key": Data("x".utf8)])])

    static func text(_ payload: [String: FileProjection], _ path: String) -> String? {
        payload[path].map { String(decoding: $0.data, as: UTF8.self) }
    }

    @Test func aConfigMapVolumeHasEveryKeyWithTheDefaultMode() throws {
        let volume = Volume(name: "cfg", configMap: ConfigMapVolumeSource(name: "app"))
        let payload = try VolumePayloads.payload(for: volume, pod: Self.pod(), objects: Self.objects)
        #expect(Set(payload.keys) == ["greeting", "port"])
        #expect(Self.text(payload, "greeting") == "hello")
        #expect(payload["port"]?.mode == 0o644)
    }

    @Test func itemsChoosePathsAndModes() throws {
        let volume = Volume(name: "s", secret: SecretVolumeSource(secretName: "db", items: [KeyToPath(key: "password", path: "conf/pw", mode: 0o400)],
                                                                  defaultMode: 0o440))
        let payload = try VolumePayloads.payload(for: volume, pod: Self.pod(), objects: Self.objects)
        #expect(Array(payload.keys) == ["conf/pw"])
        #expect(payload["conf/pw"]?.mode == 0o400)
        #expect(VolumePayloads.needsMemory(volume))
    }

    @Test func missingObjectsAndKeysGiveKubeletsMessages() {
        let pod = Self.pod()
        #expect(throws: ConfigSourceError("configmap \"nope\" not found")) {
            try VolumePayloads.payload(for: Volume(name: "v", configMap: ConfigMapVolumeSource(name: "nope")), pod: pod, objects: Self.objects)
        }
        #expect(throws: ConfigSourceError("secret \"nope\" not found")) {
            try VolumePayloads.payload(for: Volume(name: "v", secret: SecretVolumeSource(secretName: "nope")), pod: pod, objects: Self.objects)
        }
        #expect(throws: ConfigSourceError("configmap references non-existent config key: missing")) {
            try VolumePayloads.payload(for: Volume(name: "v", configMap: ConfigMapVolumeSource(name: "app", items: [KeyToPath(key: "missing", path: "m")])),
                                       pod: pod, objects: Self.objects)
        }
        // Static pods cannot use them at all.
        #expect(throws: ConfigSourceError.self) {
            try VolumePayloads.payload(for: Volume(name: "v", configMap: ConfigMapVolumeSource(name: "app")), pod: pod, objects: .none)
        }
    }

    @Test func optionalSourcesMayBeMissing() throws {
        let volume = Volume(name: "v", configMap: ConfigMapVolumeSource(name: "nope", optional: true))
        #expect(try VolumePayloads.payload(for: volume, pod: Self.pod(), objects: Self.objects).isEmpty)
        let key = Volume(name: "v", configMap: ConfigMapVolumeSource(name: "app", items: [KeyToPath(key: "missing", path: "m"), KeyToPath(key: "port", path: "p")], optional: true))
        #expect(Array(try VolumePayloads.payload(for: key, pod: Self.pod(), objects: Self.objects).keys) == ["p"])
    }

    @Test func downwardAPIFilesFormatLabelsAsKubeletDoes() throws {
        let source: JSONValue = .object(["items": .array([
            .object(["path": .string("labels"), "fieldRef": .object(["fieldPath": .string("metadata.labels")])]),
            .object(["path": .string("annotations"), "fieldRef": .object(["fieldPath": .string("metadata.annotations")])]),
            .object(["path": .string("name"), "fieldRef": .object(["fieldPath": .string("metadata.name")]), "mode": .int(0o600)]),
            .object(["path": .string("mem"), "resourceFieldRef": .object(["containerName": .string("c"), "resource": .string("limits.memory"),
                                                                           "divisor": .string("1Mi")])]),
        ])])
        let payload = try VolumePayloads.payload(for: Volume(name: "d", downwardAPI: source), pod: Self.pod(), objects: .none)
        #expect(Self.text(payload, "labels") == "app=\"web\"\ntier=\"a\\\"b\"")
        #expect(Self.text(payload, "annotations") == "note=\"x\\ny\"")
        #expect(Self.text(payload, "name") == "web")
        #expect(payload["name"]?.mode == 0o600)
        #expect(Self.text(payload, "mem") == "64")
    }

    @Test func projectedVolumesMergeTheirSources() throws {
        let source: JSONValue = .object(["defaultMode": .int(0o400), "sources": .array([
            .object(["configMap": .object(["name": .string("app"), "items": .array([.object(["key": .string("greeting"), "path": .string("g")])])])]),
            .object(["secret": .object(["name": .string("db"), "items": .array([.object(["key": .string("password"), "path": .string("pw")])])])]),
            .object(["downwardAPI": .object(["items": .array([.object(["path": .string("ns"), "fieldRef": .object(["fieldPath": .string("metadata.namespace")])])])])]),
        ])])
        let volume = Volume(name: "p", projected: source)
        let payload = try VolumePayloads.payload(for: volume, pod: Self.pod(), objects: Self.objects)
        #expect(Set(payload.keys) == ["g", "pw", "ns"])
        #expect(Self.text(payload, "ns") == "team")
        #expect(payload["g"]?.mode == 0o400)
        #expect(VolumePayloads.needsMemory(volume))
        // A token source: written once the agent has its token, refused for static pods.
        let token = Volume(name: "t", projected: .object(["sources": .array([
            .object(["configMap": .object(["name": .string("app"), "items": .array([.object(["key": .string("port"), "path": .string("port")])])])]),
            .object(["serviceAccountToken": .object(["path": .string("token"), "audience": .string("vault"), "expirationSeconds": .int(7200)])]),
        ])]))
        #expect(throws: ConfigSourceError("failed to fetch token: no token for projected source 1 yet")) {
            try VolumePayloads.payload(for: token, pod: Self.pod(), objects: Self.objects)
        }
        var withToken = Self.objects
        withToken.serviceAccountTokens[PodConfigObjects.tokenKey(volume: "t", source: 1)] = "eyJ.token"
        let tokenPayload = try VolumePayloads.payload(for: token, pod: Self.pod(), objects: withToken)
        #expect(Self.text(tokenPayload, "token") == "eyJ.token")
        #expect(Self.text(tokenPayload, "port") == "8080")
        #expect(VolumePayloads.needsMemory(token))
        #expect(throws: ConfigSourceError.self) { try VolumePayloads.payload(for: token, pod: Self.pod(), objects: .none) }
        var tokenPod = Self.pod()
        tokenPod.spec.volumes = [token]
        #expect(ServiceAccountTokenSource.all(in: tokenPod) == [ServiceAccountTokenSource(key: "t/1", audiences: ["vault"], expirationSeconds: 7200)])
    }

    @Test func referencesCoverVolumesProjectionsAndEnv() {
        let pod = Self.pod(volumes: [
            Volume(name: "a", configMap: ConfigMapVolumeSource(name: "cm1")),
            Volume(name: "b", secret: SecretVolumeSource(secretName: "s1")),
            Volume(name: "c", projected: .object(["sources": .array([.object(["secret": .object(["name": .string("s2")])])])])),
        ], env: [EnvVar(name: "X", valueFrom: EnvVarSource(configMapKeyRef: ConfigMapKeySelector(name: "cm2", key: "k")))],
           envFrom: [EnvFromSource(secretRef: SecretEnvSource(name: "s3"))])
        #expect(PodConfigReferences.volumes(of: pod) == PodConfigReferences(configMaps: ["cm1"], secrets: ["s1", "s2"]))
        #expect(PodConfigReferences.environment(of: pod.spec.containers[0]) == PodConfigReferences(configMaps: ["cm2"], secrets: ["s3"]))
    }

    // MARK: env

    static func env(_ pod: Pod, objects: PodConfigObjects = objects) throws -> [String] {
        try EnvironmentBuilder.build(pod: pod, container: pod.spec.containers[0], image: ImageConfig(),
                                     info: PodRuntimeInfo(nodeName: "n1", hostname: "web", configObjects: objects))
    }

    @Test func envTakesKeysAndEnvFromWithAPrefix() throws {
        let pod = Self.pod(env: [
            EnvVar(name: "GREETING", valueFrom: EnvVarSource(configMapKeyRef: ConfigMapKeySelector(name: "app", key: "greeting"))),
            EnvVar(name: "PW", valueFrom: EnvVarSource(secretKeyRef: SecretKeySelector(name: "db", key: "password"))),
            EnvVar(name: "APP_port", value: "override"),
            EnvVar(name: "ECHO", value: "$(GREETING)-$(APP_greeting)"),
        ], envFrom: [EnvFromSource(prefix: "APP_", configMapRef: ConfigMapEnvSource(name: "app"))])
        let env = try Self.env(pod)
        #expect(env.contains("GREETING=hello"))
        #expect(env.contains("PW=s3cret"))
        #expect(env.contains("APP_greeting=hello"))
        #expect(env.contains("APP_port=override"))
        #expect(!env.contains("APP_port=8080"))
        #expect(env.contains("ECHO=hello-hello"))
    }

    @Test func missingEnvSourcesGiveKubeletsMessages() {
        let missingKey = Self.pod(env: [EnvVar(name: "X", valueFrom: EnvVarSource(configMapKeyRef: ConfigMapKeySelector(name: "app", key: "nokey")))])
        #expect(throws: RuntimeError.containerConfig("couldn't find key nokey in ConfigMap team/app")) { try Self.env(missingKey) }
        let missingSecretKey = Self.pod(env: [EnvVar(name: "X", valueFrom: EnvVarSource(secretKeyRef: SecretKeySelector(name: "db", key: "nokey")))])
        #expect(throws: RuntimeError.containerConfig("couldn't find key nokey in Secret team/db")) { try Self.env(missingSecretKey) }
        let missingMap = Self.pod(env: [EnvVar(name: "X", valueFrom: EnvVarSource(configMapKeyRef: ConfigMapKeySelector(name: "gone", key: "k")))])
        #expect(throws: RuntimeError.containerConfig("configmap \"gone\" not found")) { try Self.env(missingMap) }
        let missingFrom = Self.pod(envFrom: [EnvFromSource(secretRef: SecretEnvSource(name: "gone"))])
        #expect(throws: RuntimeError.containerConfig("secret \"gone\" not found")) { try Self.env(missingFrom) }
        // Optional ones are left out.
        let optional = Self.pod(env: [EnvVar(name: "X", valueFrom: EnvVarSource(configMapKeyRef: ConfigMapKeySelector(name: "gone", key: "k", optional: true)))],
                                envFrom: [EnvFromSource(secretRef: SecretEnvSource(name: "gone", optional: true))])
        #expect(!((try? Self.env(optional)) ?? ["X="]).contains { $0.hasPrefix("X=") })
    }

    @Test func staticPodsCannotUseConfigMapsOrSecretsInEnv() {
        let pod = Self.pod(env: [EnvVar(name: "X", valueFrom: EnvVarSource(secretKeyRef: SecretKeySelector(name: "db", key: "password")))])
        #expect(throws: RuntimeError.containerConfig(#"env X: secret "db" cannot be used by a static pod (it comes from a manifest file, not from the API server)"#)) {
            try Self.env(pod, objects: .none)
        }
        let from = Self.pod(envFrom: [EnvFromSource(configMapRef: ConfigMapEnvSource(name: "app"))])
        #expect(throws: RuntimeError.containerConfig(#"envFrom: configmap "app" cannot be used by a static pod (it comes from a manifest file, not from the API server)"#)) {
            try Self.env(from, objects: .none)
        }
    }

    @Test func invalidEnvFromNamesAreSkippedAndReported() throws {
        let pod = Self.pod(envFrom: [EnvFromSource(secretRef: SecretEnvSource(name: "db"))])
        let env = try Self.env(pod)
        #expect(env.contains("password=s3cret"))
        #expect(!env.contains { $0.hasPrefix("1bad") })
        let invalid = try EnvironmentBuilder.checkReferences(pod: pod, container: pod.spec.containers[0], objects: Self.objects)
        #expect(invalid.count == 1)
        #expect(invalid.first?.source == "secret team/db")
        #expect(invalid.first?.keys == ["1bad=key"])
    }
}
