import Agent
import Foundation
import KubeAPI
import Runtime
import Testing

/// Root: the agent against the fake API with ConfigMaps and a token source: no sandbox while a
/// volume's ConfigMap is missing (FailedMount, ContainerCreating), CreateContainerConfigError
/// while an env ConfigMap is missing, then a running pod with its files and a TokenRequest
/// bound to it.
@Suite(.serialized) struct APIConfigAgentTests {
    @Test func podWaitsForItsConfigMapsThenRunsWithFilesAndAToken() async throws {
        let h = try await APIPodHarness()
        defer { h.cleanUp() }
        try await h.run {
            var pod = try boundPod("web", command: ["sh", "-c", "echo level=$LEVEL; sleep 1000"])
            pod.spec.containers[0].env = [EnvVar(name: "LEVEL", valueFrom: EnvVarSource(configMapKeyRef: ConfigMapKeySelector(name: "env-cm", key: "level")))]
            pod.spec.containers[0].volumeMounts = [VolumeMount(name: "cfg", mountPath: "/cfg"), VolumeMount(name: "tok", mountPath: "/tok")]
            pod.spec.volumes = [
                Volume(name: "cfg", configMap: ConfigMapVolumeSource(name: "files", defaultMode: 0o644)),
                Volume(name: "tok", projected: .object(["defaultMode": .int(0o600), "sources": .array([
                    .object(["serviceAccountToken": .object(["path": .string("token"), "audience": .string("vault"), "expirationSeconds": .int(4000)])]),
                ])])),
            ]
            let added = h.api.add(pod)
            let uid = try #require(added.metadata.uid)
            h.start()

            // 1. The volume's ConfigMap is missing: FailedMount, no sandbox, ContainerCreating.
            let failedMount = await h.waitFor(30) {
                h.api.events.contains { $0.reason == "FailedMount" && $0.message == #"MountVolume.SetUp failed for volume "cfg" : configmap "files" not found"# }
            }
            #expect(failedMount, "\(h.api.events.map(\.message))")
            let creating = await h.waitFor(30) { h.api.pod("web")?.status?.containerStatuses?.first?.state?.waiting?.reason == "ContainerCreating" }
            #expect(creating, "\(String(describing: h.api.pod("web")?.status))")
            #expect(!FileManager.default.fileExists(atPath: h.data + "/pods/\(uid)/volumes"))

            // 2. The volume's is there, the env's is not: CreateContainerConfigError, kubelet's message.
            h.api.setConfigMap("default", "files", ConfigObject(data: ["app.conf": Data("port=80\n".utf8)]))
            var waiting: ContainerStateWaiting?
            let configError = await h.waitFor(30) {
                waiting = h.api.pod("web")?.status?.containerStatuses?.first?.state?.waiting
                return waiting?.reason == "CreateContainerConfigError"
            }
            #expect(configError, "\(String(describing: waiting))")
            #expect(waiting?.message == #"configmap "env-cm" not found"#)
            // Events go out in the background: the status may be there first.
            let failedEvent = await h.waitFor(30) {
                h.api.events.contains { $0.reason == "Failed" && $0.message == #"Error: configmap "env-cm" not found"# && $0.fieldPath == "spec.containers{c}" }
            }
            #expect(failedEvent, "\(h.api.events.map(\.message))")

            // 3. A key missing in it is named; once it is there, the container runs.
            h.api.setConfigMap("default", "env-cm", ConfigObject(data: ["other": Data("x".utf8)]))
            let keyError = await h.waitFor(30) {
                h.api.pod("web")?.status?.containerStatuses?.first?.state?.waiting?.message == "couldn't find key level in ConfigMap default/env-cm"
            }
            #expect(keyError, "\(String(describing: h.api.pod("web")?.status?.containerStatuses))")
            h.api.setConfigMap("default", "env-cm", ConfigObject(data: ["level": Data("debug".utf8)]))
            let running = await h.waitFor(30) { h.api.pod("web")?.status?.containerStatuses?.first?.state?.running != nil }
            #expect(running, "\(String(describing: h.api.pod("web")?.status))")
            #expect(h.api.pod("web")?.status?.containerStatuses?.first?.restartCount == 0)

            let volumes = h.data + "/pods/\(uid)/volumes"
            #expect(FileManager.default.contents(atPath: volumes + "/kubernetes.io~configmap/cfg/app.conf") == Data("port=80\n".utf8))
            let tokenFile = volumes + "/kubernetes.io~projected/tok/token"
            #expect(FileManager.default.contents(atPath: tokenFile) == Data("token-1".utf8))
            var st = stat()
            #expect(stat(tokenFile, &st) == 0 && st.st_mode & 0o777 == 0o600)
            #expect(h.api.tokenRequests == [#"default/default pod=web/\#(uid) audiences=["vault"] seconds=4000"#])
            let logged = await h.waitFor(30) {
                let directory = h.logs + "/default_web_\(uid)/c"
                let text = (try? String(contentsOfFile: directory + "/0.log", encoding: .utf8)) ?? ""
                return text.contains("level=debug")
            }
            #expect(logged)
        }
    }
}
