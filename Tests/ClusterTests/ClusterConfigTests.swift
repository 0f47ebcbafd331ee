import CShims
import Foundation
import Testing
import TestSupport

/// Issue 16's ConfigMap and Secret story with real kubectl on a server and two agents, each
/// in its own network namespace: a pod reading a ConfigMap and a Secret as env and files and
/// the downward API, a ConfigMap update seen in the mounted file within the sync period,
/// Secrets on tmpfs, node authorization of Secrets, and the errors: a missing key
/// (CreateContainerConfigError), a missing ConfigMap (FailedMount), a hostile item path, a
/// Secret over 1 MiB and a change to an immutable ConfigMap.
extension ClusterTests {
    @Test func podsReadConfigMapsAndSecretsAsEnvAndFiles() async throws {
        let cluster = try ClusterHarness()
        defer { cluster.cleanUp() }
        let server = try await cluster.addHost("server")
        let a = try await cluster.addHost("node-a")
        let b = try await cluster.addHost("node-b")
        try await cluster.startServer(server, ["--disable-agent"])
        for host in [a, b] {
            try cluster.startAgent(host, ["--sync-frequency", "5"])
        }
        let ready = await TestProcess.waitFor(120) {
            await cluster.query(["get", "nodes", "-o", "jsonpath={range .items[*]}{.status.conditions[?(@.type==\"Ready\")].status} {end}"])
                .split(separator: " ").filter { $0 == "True" }.count == 2
        }
        #expect(ready, "node-a log:\n\(a.log.suffix(3000))")
        guard ready else { return }

        try await cluster.kubectlOK(["create", "configmap", "app-config", "--from-literal=greeting=hello", "--from-literal=mode=blue"])
        try await cluster.kubectlOK(["create", "secret", "generic", "db", "--from-literal=password=s3cret"])
        try cluster.writeManifest("reader.yaml", """
            apiVersion: v1
            kind: Pod
            metadata: {name: reader, labels: {app: reader}}
            spec:
              nodeName: node-a
              securityContext: {runAsUser: 1000, runAsGroup: 1000, fsGroup: 2000}
              containers:
              - name: c
                image: busybox
                command: [sh, -c, 'echo "env greeting=$GREETING password=$PASSWORD cfg_mode=$CFG_mode"; while true; do echo "file greeting=$(cat /etc/cfg/greeting) secret=$(cat /etc/secret/pw) mode=$(cat /etc/proj/mode) ns=$(cat /etc/proj/ns) projpw=$(cat /etc/proj/password) name=$(cat /etc/info/name) labels=$(cat /etc/info/labels)"; sleep 1; done']
                env:
                - {name: GREETING, valueFrom: {configMapKeyRef: {name: app-config, key: greeting}}}
                - {name: PASSWORD, valueFrom: {secretKeyRef: {name: db, key: password}}}
                envFrom:
                - {prefix: CFG_, configMapRef: {name: app-config}}
                volumeMounts:
                - {name: cfg, mountPath: /etc/cfg}
                - {name: secret, mountPath: /etc/secret}
                - {name: info, mountPath: /etc/info}
                - {name: proj, mountPath: /etc/proj}
              volumes:
              - {name: cfg, configMap: {name: app-config}}
              - {name: secret, secret: {secretName: db, defaultMode: 256, items: [{key: password, path: pw}]}}
              - name: info
                downwardAPI: {items: [{path: name, fieldRef: {fieldPath: metadata.name}}, {path: labels, fieldRef: {fieldPath: metadata.labels}}]}
              - name: proj
                projected:
                  sources:
                  - configMap: {name: app-config, items: [{key: mode, path: mode}]}
                  - secret: {name: db}
                  - downwardAPI: {items: [{path: ns, fieldRef: {fieldPath: metadata.namespace}}]}
            """)
        try await cluster.kubectlOK(["apply", "-f", cluster.manifestPath("reader.yaml")])
        let waited = try await cluster.kubectl(["wait", "--for=condition=Ready", "pod/reader", "--timeout=120s"])
        let described = await cluster.query(["describe", "pod", "reader"])
        #expect(waited.status == 0, "\(described)\n\(a.log.suffix(3000))")
        var logs = ""
        let seen = await TestProcess.waitFor(30) {
            logs = await cluster.query(["logs", "reader"])
            return logs.contains("file greeting=")
        }
        #expect(seen, "\(logs)")
        #expect(logs.contains("env greeting=hello password=s3cret cfg_mode=blue"), "\(logs)")
        #expect(logs.contains(#"file greeting=hello secret=s3cret mode=blue ns=default projpw=s3cret name=reader labels=app="reader""#), "\(logs)")

        // On the node: kubelet's layout (..data and user-visible symlinks), Secrets on tmpfs only.
        let uid = await cluster.query(["get", "pod", "reader", "-o", "jsonpath={.metadata.uid}"])
        let volumes = a.dataDir + "/agent/pods/\(uid)/volumes"
        let cfgDir = volumes + "/kubernetes.io~configmap/cfg"
        #expect((try? FileManager.default.destinationOfSymbolicLink(atPath: cfgDir + "/greeting")) == "..data/greeting")
        #expect((try? FileManager.default.destinationOfSymbolicLink(atPath: cfgDir + "/..data"))?.hasPrefix("..") == true)
        // statfs of the directory itself, not a read of /proc/PID/mounts: that file is read in
        // pieces, and mounts other tests make meanwhile shift it (entries skipped or repeated).
        func onTmpfs(_ path: String) -> Bool { sl_statfs_type(path) == 0x0102_1994 } // TMPFS_MAGIC
        #expect(onTmpfs(volumes + "/kubernetes.io~secret/secret"))
        #expect(onTmpfs(volumes + "/kubernetes.io~projected/proj"))
        #expect(!onTmpfs(cfgDir))
        var st = stat()
        #expect(stat(volumes + "/kubernetes.io~secret/secret/pw", &st) == 0)
        #expect(st.st_mode & 0o777 == 0o440 && st.st_gid == 2000, "mode \(String(st.st_mode & 0o777, radix: 8)) gid \(st.st_gid)")

        // An update reaches the mounted file within the sync period (5 s here; kubelet's 60 s).
        try await cluster.kubectlOK(["patch", "configmap", "app-config", "-p", #"{"data":{"greeting":"updated"}}"#])
        let updated = await TestProcess.waitFor(45) {
            logs = await cluster.query(["logs", "reader", "--tail=2"])
            return logs.contains("file greeting=updated")
        }
        #expect(updated, "\(logs)\n\(a.log.suffix(2000))")

        // A new label reaches the downward API file (kubelet rewrites the volume on the pod's
        // update); the environment keeps what the container started with.
        try await cluster.kubectlOK(["label", "pod", "reader", "tier=web"])
        let relabelled = await TestProcess.waitFor(30) {
            logs = await cluster.query(["logs", "reader", "--tail=4"])
            return logs.contains(#"tier="web""#)
        }
        #expect(relabelled, "\(logs)\n\(a.log.suffix(2000))")
        #expect(logs.contains(#"labels=app="reader""#), "\(logs)")

        // The service account token the admission plugin's kube-api-access volume asks for:
        // requested by the agent (TokenRequest bound to the pod), on tmpfs, accepted by the server.
        let projected = volumes + "/kubernetes.io~projected"
        let access = ((try? FileManager.default.contentsOfDirectory(atPath: projected)) ?? []).first { $0.hasPrefix("kube-api-access-") }
        #expect(access != nil, "\((try? FileManager.default.contentsOfDirectory(atPath: projected)) ?? [])")
        if let access {
            let directory = projected + "/" + access
            #expect(onTmpfs(directory))
            let namespace = try? String(contentsOfFile: directory + "/namespace", encoding: .utf8)
            #expect(namespace == "default")
            #expect(((try? String(contentsOfFile: directory + "/ca.crt", encoding: .utf8)) ?? "").contains("BEGIN CERTIFICATE"))
            let saToken = (try? String(contentsOfFile: directory + "/token", encoding: .utf8)) ?? ""
            #expect(saToken.split(separator: ".").count == 3, "\(saToken)")
            let pods = try await cluster.kubectl(["--token", saToken, "get", "pods", "-o", "name"])
            #expect(pods.status == 0 && pods.output.contains("pod/reader"), "\(pods.output)")
            let secrets = try await cluster.kubectl(["--token", saToken, "get", "secrets"])
            #expect(secrets.status != 0 && secrets.output.contains("system:serviceaccount:default:default"), "\(secrets.output)")
        }

        // Node authorization: node-a reads the Secret of its pod, node-b does not.
        func nodeGet(_ host: ClusterHarness.Host, _ what: [String]) async throws -> (status: Int32, output: String) {
            let credential = host.dataDir + "/agent/credential"
            let nodeToken = try String(contentsOfFile: credential + "/token", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
            let kubeconfig = cluster.manifestPath("\(host.name).kubeconfig")
            try """
                apiVersion: v1
                kind: Config
                clusters: [{name: c, cluster: {server: "\(cluster.serverURL)", certificate-authority: "\(credential)/ca.crt"}}]
                users: [{name: u, user: {token: "\(nodeToken)"}}]
                contexts: [{name: c, context: {cluster: c, user: u}}]
                current-context: c
                """.write(toFile: kubeconfig, atomically: true, encoding: .utf8)
            return await TestProcess.runAsync(TestProcess.inNetns(server.netns, ["/usr/bin/kubectl", "--kubeconfig", kubeconfig] + what))
        }
        let own = try await nodeGet(a, ["get", "secret", "db", "-o", "jsonpath={.data.password}"])
        #expect(own.status == 0 && own.output.contains(Data("s3cret".utf8).base64EncodedString()), "\(own.output)")
        let foreign = try await nodeGet(b, ["get", "secret", "db"])
        #expect(foreign.status != 0 && foreign.output.contains(#"User "system:node:node-b" cannot get resource "secrets""#)
                && foreign.output.contains("no relationship found between node 'node-b' and this object"), "\(foreign.output)")
        let foreignMap = try await nodeGet(b, ["get", "configmap", "app-config"])
        #expect(foreignMap.status != 0 && foreignMap.output.contains("forbidden"), "\(foreignMap.output)")

        try await missingSourcesAreClearErrors(cluster, node: a)
    }

    /// A missing key, a missing ConfigMap and a hostile item path, then the bad objects the
    /// API server refuses.
    private func missingSourcesAreClearErrors(_ cluster: ClusterHarness, node: ClusterHarness.Host) async throws {
        try cluster.writeManifest("missing.yaml", """
            apiVersion: v1
            kind: Pod
            metadata: {name: missing-key}
            spec:
              nodeName: node-a
              containers:
              - name: c
                image: busybox
                command: [sh, -c, 'echo "later=$LATER"; sleep 3600']
                env: [{name: LATER, valueFrom: {configMapKeyRef: {name: app-config, key: later}}}]
            ---
            apiVersion: v1
            kind: Pod
            metadata: {name: missing-volume}
            spec:
              nodeName: node-a
              containers: [{name: c, image: busybox, command: [sleep, "3600"], volumeMounts: [{name: cfg, mountPath: /cfg}]}]
              volumes: [{name: cfg, configMap: {name: absent}}]
            ---
            apiVersion: v1
            kind: Pod
            metadata: {name: hostile}
            spec:
              nodeName: node-a
              containers: [{name: c, image: busybox, command: [sleep, "3600"], volumeMounts: [{name: info, mountPath: /info}]}]
              volumes: [{name: info, downwardAPI: {items: [{path: ../../../../escaped, fieldRef: {fieldPath: metadata.name}}]}}]
            """)
        try await cluster.kubectlOK(["apply", "-f", cluster.manifestPath("missing.yaml")])

        // The missing key: waiting in CreateContainerConfigError with kubelet's message.
        var waiting = ""
        let configError = await TestProcess.waitFor(60) {
            waiting = await cluster.query(["get", "pod", "missing-key", "-o",
                                           "jsonpath={.status.containerStatuses[0].state.waiting.reason}: {.status.containerStatuses[0].state.waiting.message}"])
            return waiting.hasPrefix("CreateContainerConfigError")
        }
        #expect(configError, "\(waiting)\n\(node.log.suffix(2000))")
        #expect(waiting == "CreateContainerConfigError: couldn't find key later in ConfigMap default/app-config", "\(waiting)")
        let table = await cluster.query(["get", "pod", "missing-key"])
        #expect(table.contains("CreateContainerConfigError"), "\(table)")

        // The missing ConfigMap: ContainerCreating, and a FailedMount event.
        var events = ""
        let failedMount = await TestProcess.waitFor(60) {
            events = await cluster.query(["get", "events", "--field-selector", "involvedObject.name=missing-volume", "-o",
                                          "jsonpath={range .items[*]}{.reason}: {.message}{\"\\n\"}{end}"])
            return events.contains("FailedMount")
        }
        #expect(failedMount, "\(events)")
        #expect(events.contains(#"FailedMount: MountVolume.SetUp failed for volume "cfg" : configmap "absent" not found"#), "\(events)")
        let creating = await cluster.query(["get", "pod", "missing-volume", "-o", "jsonpath={.status.phase} {.status.containerStatuses[0].state.waiting.reason}"])
        #expect(creating == "Pending ContainerCreating", "\(creating)")

        // The hostile path is refused by the node, and nothing is written outside the volume.
        let hostileEvent = await TestProcess.waitFor(60) {
            events = await cluster.query(["get", "events", "--field-selector", "involvedObject.name=hostile", "-o",
                                          "jsonpath={range .items[*]}{.reason}: {.message}{\"\\n\"}{end}"])
            return events.contains("FailedMount")
        }
        #expect(hostileEvent && events.contains("must not contain '..'"), "\(events)")
        #expect(!FileManager.default.fileExists(atPath: node.dataDir + "/agent/escaped"))
        #expect(!FileManager.default.fileExists(atPath: node.dataDir + "/escaped"))
        let describedHostile = await cluster.query(["describe", "pod", "hostile"])
        #expect(describedHostile.contains("FailedMount"), "\(describedHostile)")

        // Both start once what they wait for exists.
        try await cluster.kubectlOK(["patch", "configmap", "app-config", "-p", #"{"data":{"later":"now"}}"#])
        try await cluster.kubectlOK(["create", "configmap", "absent", "--from-literal=k=v"])
        for pod in ["missing-key", "missing-volume"] {
            let started = try await cluster.kubectl(["wait", "--for=condition=Ready", "pod/\(pod)", "--timeout=60s"])
            #expect(started.status == 0, "\(pod): \(started.output)")
        }
        let later = await cluster.query(["logs", "missing-key"])
        #expect(later == "later=now", "\(later)")

        // A Secret over 1 MiB is refused by the API server, with Kubernetes' message.
        let big = cluster.manifestPath("big.bin")
        try Data(repeating: 0x61, count: 1_048_577).write(to: URL(fileURLWithPath: big))
        let tooBig = try await cluster.kubectl(["create", "secret", "generic", "big", "--from-file=big=\(big)"])
        #expect(tooBig.status != 0 && tooBig.output.contains(#"Secret "big" is invalid: data: Too long: may not be more than 1048576 bytes"#),
                "\(tooBig.output)")

        // An immutable ConfigMap keeps its data.
        try cluster.writeManifest("frozen.yaml", """
            apiVersion: v1
            kind: ConfigMap
            metadata: {name: frozen}
            data: {k: v}
            immutable: true
            """)
        try await cluster.kubectlOK(["apply", "-f", cluster.manifestPath("frozen.yaml")])
        let changed = try await cluster.kubectl(["patch", "configmap", "frozen", "-p", #"{"data":{"k":"w"}}"#])
        #expect(changed.status != 0 && changed.output.contains("data: Forbidden: field is immutable when `immutable` is set"), "\(changed.output)")
    }
}
