import Foundation
import ServerTestSupport

/// The bodies the fuzzing run starts from, kept in the repository: valid objects of every kind
/// the server serves (JSON, YAML, and protobuf as kubectl 1.32 sends it), patches of each type,
/// and the hostile bodies of issue 10 as they were reported. `BodyMutator` derives the cases
/// from them.
enum FuzzCorpus {
    /// Where a body goes and how it is sent.
    struct Seed: Sendable {
        let method: String
        let path: String
        let contentType: String
        let body: [UInt8]

        init(_ method: String, _ path: String, _ contentType: String, _ text: String) {
            self.init(method, path, contentType, Array(text.utf8))
        }

        init(_ method: String, _ path: String, _ contentType: String, _ body: [UInt8]) {
            self.method = method
            self.path = path
            self.contentType = contentType
            self.body = body
        }
    }

    static let json = "application/json"
    static let yaml = "application/yaml"
    static let protobuf = "application/vnd.kubernetes.protobuf"
    static let merge = "application/merge-patch+json"
    static let strategic = "application/strategic-merge-patch+json"
    static let jsonPatch = "application/json-patch+json"

    static let configMaps = "/api/v1/namespaces/default/configmaps"
    static let deployments = "/apis/apps/v1/namespaces/default/deployments"

    /// Objects the patch and update seeds address; created before the run.
    static let targets: [(path: String, body: String)] = [
        (configMaps, #"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"target","labels":{"a":"b"}},"data":{"k":"v"}}"#),
        (deployments, #"{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"target"},"spec":{"replicas":1,"selector":{"matchLabels":{"app":"t"}},"template":{"metadata":{"labels":{"app":"t"}},"spec":{"containers":[{"name":"c","image":"busybox","ports":[{"containerPort":80}],"env":[{"name":"A","value":"1"}]}]}}}}"#),
    ]

    static let seeds: [Seed] = [
        Seed("POST", configMaps, json, #"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cm","labels":{"app":"web"},"annotations":{"note":"x"}},"data":{"a":"1","b":"two"},"binaryData":{"c":"AAEC"}}"#),
        Seed("POST", configMaps, yaml, """
            apiVersion: v1
            kind: ConfigMap
            metadata:
              name: cm-yaml
              labels: &labels {app: web, tier: front}
            data:
              config.yaml: |
                key: value
                list: [1, 2, 3]
              port: "8080"
            """),
        Seed("POST", "/api/v1/namespaces/default/secrets", json, #"{"apiVersion":"v1","kind":"Secret","metadata":{"name":"sec"},"type":"Opaque","data":{"u":"YWRtaW4="},"stringData":{"p":"secret"}}"#),
        Seed("POST", "/api/v1/namespaces/default/services", json, #"{"apiVersion":"v1","kind":"Service","metadata":{"name":"svc"},"spec":{"type":"NodePort","selector":{"app":"web"},"ports":[{"name":"http","port":80,"targetPort":"http","protocol":"TCP"},{"name":"m","port":9090,"targetPort":9090}]}}"#),
        Seed("POST", "/api/v1/namespaces/default/pods", json, #"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"pod","labels":{"app":"web"}},"spec":{"restartPolicy":"Always","volumes":[{"name":"data","emptyDir":{"sizeLimit":"1Gi"}}],"containers":[{"name":"web","image":"busybox","command":["sh","-c","sleep 1"],"ports":[{"containerPort":80}],"resources":{"limits":{"cpu":"500m","memory":"128Mi"}},"readinessProbe":{"httpGet":{"path":"/","port":80},"periodSeconds":5},"volumeMounts":[{"name":"data","mountPath":"/data"}],"securityContext":{"runAsUser":1000,"allowPrivilegeEscalation":false}}],"tolerations":[{"key":"k","operator":"Exists","effect":"NoSchedule"}]}}"#),
        Seed("POST", "/api/v1/namespaces/default/pods", yaml, """
            apiVersion: v1
            kind: Pod
            metadata: {name: pod-yaml}
            spec:
              initContainers:
              - name: init
                image: busybox
                command: [sh, -c, "echo hi > /work/index.html"]
              containers:
              - &web
                name: web
                image: busybox
                env: [{name: X, value: "1"}, {name: Y, valueFrom: {fieldRef: {fieldPath: metadata.name}}}]
              - <<: *web
                name: sidecar
            """),
        Seed("POST", deployments, json, #"{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"dep"},"spec":{"replicas":3,"revisionHistoryLimit":2,"strategy":{"type":"RollingUpdate","rollingUpdate":{"maxSurge":"25%","maxUnavailable":1}},"selector":{"matchLabels":{"app":"dep"}},"template":{"metadata":{"labels":{"app":"dep"}},"spec":{"affinity":{"nodeAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":{"nodeSelectorTerms":[{"matchExpressions":[{"key":"k","operator":"In","values":["a","b"]}]}]}}},"containers":[{"name":"c","image":"busybox:1.35"}]}}}}"#),
        Seed("POST", "/apis/apps/v1/namespaces/default/replicasets", json, #"{"apiVersion":"apps/v1","kind":"ReplicaSet","metadata":{"name":"rs"},"spec":{"replicas":0,"selector":{"matchLabels":{"app":"rs"}},"template":{"metadata":{"labels":{"app":"rs"}},"spec":{"containers":[{"name":"c","image":"busybox"}]}}}}"#),
        Seed("POST", "/api/v1/namespaces/default/events", json, #"{"apiVersion":"v1","kind":"Event","metadata":{"name":"ev"},"involvedObject":{"kind":"Pod","name":"pod","namespace":"default"},"reason":"Started","message":"started","type":"Normal","count":1,"firstTimestamp":"2026-01-01T00:00:00Z"}"#),
        Seed("POST", "/api/v1/nodes", json, #"{"apiVersion":"v1","kind":"Node","metadata":{"name":"fuzz-node","labels":{"kubernetes.io/hostname":"fuzz-node"}},"spec":{"podCIDR":"10.42.9.0/24","taints":[{"key":"k","effect":"NoSchedule"}]},"status":{"capacity":{"cpu":"2","memory":"4Gi","pods":"110"},"addresses":[{"type":"InternalIP","address":"10.0.0.9"}],"conditions":[{"type":"Ready","status":"True","lastHeartbeatTime":"2026-01-01T00:00:00Z"}]}}"#),
        Seed("POST", "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases", json, #"{"apiVersion":"coordination.k8s.io/v1","kind":"Lease","metadata":{"name":"fuzz-node"},"spec":{"holderIdentity":"fuzz-node","leaseDurationSeconds":40,"renewTime":"2026-01-01T00:00:00.000000Z"}}"#),
        Seed("POST", "/api/v1/namespaces", json, #"{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"fuzz-ns"}}"#),
        Seed("POST", "/api/v1/namespaces/default/serviceaccounts", json, #"{"apiVersion":"v1","kind":"ServiceAccount","metadata":{"name":"sa"},"imagePullSecrets":[{"name":"x"}]}"#),
        Seed("PUT", configMaps + "/target", json, #"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"target"},"data":{"k":"w"}}"#),
        Seed("PATCH", configMaps + "/target", merge, #"{"metadata":{"labels":{"a":null,"c":"d"}},"data":{"n":"1"}}"#),
        Seed("PATCH", deployments + "/target", strategic, #"{"spec":{"template":{"spec":{"$setElementOrder/containers":[{"name":"c"}],"containers":[{"name":"c","image":"busybox:2","env":[{"name":"A","$patch":"delete"}]}]}}}}"#),
        Seed("PATCH", deployments + "/target", jsonPatch, #"[{"op":"replace","path":"/spec/replicas","value":2},{"op":"add","path":"/metadata/labels","value":{"x":"y"}},{"op":"copy","from":"/metadata/labels","path":"/metadata/annotations"},{"op":"test","path":"/spec/replicas","value":2},{"op":"remove","path":"/metadata/annotations"}]"#),
        Seed("PATCH", deployments + "/target/scale", merge, #"{"spec":{"replicas":4}}"#),
        Seed("POST", "/apis/apps/v1/namespaces/default/deployments", protobuf, Array(Data(base64Encoded: ProtobufDecoderTests.deployment) ?? Data())),
        Seed("POST", "/api/v1/namespaces/default/services", protobuf, Array(Data(base64Encoded: ProtobufDecoderTests.service) ?? Data())),
        Seed("POST", "/api/v1/namespaces/default/secrets", protobuf, Array(Data(base64Encoded: ProtobufDecoderTests.secret) ?? Data())),
        Seed("POST", "/api/v1/namespaces", protobuf, Array(Data(base64Encoded: ProtobufDecoderTests.namespace) ?? Data())),
        Seed("DELETE", configMaps + "/cm", json, #"{"kind":"DeleteOptions","apiVersion":"v1","propagationPolicy":"Foreground","gracePeriodSeconds":0,"preconditions":{"uid":"x"}}"#),
        Seed("POST", "/apis/authentication.k8s.io/v1/tokenreviews", json, #"{"apiVersion":"authentication.k8s.io/v1","kind":"TokenReview","spec":{"token":"abc"}}"#),
    ]

    /// The bodies of issue 10 as reported, sent as they are before any mutation.
    static let regressions: [Seed] = [
        Seed("POST", configMaps, yaml, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata: {l: .inf}"),
        Seed("POST", configMaps, yaml, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata: {l: .nan}"),
        Seed("POST", configMaps, yaml, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata: {l: -.inf}"),
        Seed("POST", "/api/v1/namespaces/default/secrets", yaml, "apiVersion: v1\nkind: Secret\nmetadata: {name: x}\nnope: .inf"),
        Seed("POST", deployments, yaml, "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\nspec: {nope: .nan}"),
        Seed("POST", configMaps, yaml, HostileBodies.aliasBomb(levels: 9)),
        Seed("POST", configMaps, yaml, HostileBodies.aliasBomb(levels: 7)),
        Seed("POST", configMaps + "?fieldValidation=Strict", json, #"{"metadata":{"name":"x"},"data":{"a":"b"},"spec":{"foo":1}}"#),
        Seed("POST", configMaps, json, #"{"metadata":{"name":"x"},"data":{"a":1}}"#),
        Seed("POST", configMaps, json, #"{"metadata":{"name":"x"},"data":{"a":""# + String(repeating: "x", count: 3_000_000) + #""}}"#),
    ]
}
