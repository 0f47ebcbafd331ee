@testable import APIRegistry
@testable import APIServer
import APITestSupport
import Foundation
import ServerTestSupport
import TestSupport
import Testing

/// Whether Debian's python3-kubernetes is installed (scripts/debian-packages lists it).
let pythonClientInstalled = FileManager.default.fileExists(atPath: "/usr/lib/python3/dist-packages/kubernetes/__init__.py")

/// Debian's python3-kubernetes (the official Python client) against the server.
@Suite
struct PythonClientTests {
    static let python = "/usr/bin/python3"

    static let script = """
        import sys, threading, time
        from kubernetes import client, config, watch
        config.load_kube_config(sys.argv[1])
        v1 = client.CoreV1Api()
        pods = v1.list_namespaced_pod("default")
        print("listed", len(pods.items), pods.metadata.resource_version)
        def create():
            time.sleep(0.3)
            body = client.V1Pod(metadata=client.V1ObjectMeta(name="py-pod", labels={"from": "python"}),
                                spec=client.V1PodSpec(containers=[client.V1Container(name="c", image="busybox")]))
            v1.create_namespaced_pod("default", body)
        threading.Thread(target=create).start()
        w = watch.Watch()
        for event in w.stream(v1.list_namespaced_pod, "default", resource_version=pods.metadata.resource_version, timeout_seconds=10):
            print("event", event["type"], event["object"].metadata.name, event["object"].status.phase)
            w.stop()
        try:
            v1.read_namespaced_pod("missing", "default")
        except client.ApiException as error:
            print("error", error.status, error.reason)
        print("deployments", len(client.AppsV1Api().list_deployment_for_all_namespaces().items))
        """

    @Test func listsAndWatchesPods() async throws {
        try await withTestServer { server in
            let kubeconfig = try Kubectl(port: server.port, directory: server.directory).kubeconfig
            let scriptPath = server.directory + "/client.py"
            try Self.script.write(toFile: scriptPath, atomically: true, encoding: .utf8)
            let output = try await blocking {
                let result = try TestChild.launch([Self.python, scriptPath, kubeconfig], stdout: .capture, stderr: .null).finish()
                return String(decoding: result.stdout, as: UTF8.self)
            }
            let lines = output.split(separator: "\n").map(String.init)
            #expect(lines.first?.hasPrefix("listed 0 ") == true, "\(output)")
            #expect(lines.contains("event ADDED py-pod Pending"), "\(output)")
            #expect(lines.contains("error 404 Not Found"), "\(output)")
            #expect(lines.contains("deployments 0"), "\(output)")
        }
    }
}
