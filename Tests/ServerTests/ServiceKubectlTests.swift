@testable import APIMachinery
import APITestSupport
@testable import ControllerRuntime
@testable import Controllers
@testable import Scheduler
import Foundation
import KubeAPI
import ServerTestSupport
import Testing
import TestSupport

/// Services as real kubectl (1.32, 1.27, Debian's 1.20) drives and shows them: `expose`,
/// `get svc,ep,endpointslices`, `describe svc`, and the errors for node ports that are taken
/// or out of range. The test plays the kubelet: it reports the pods' addresses and readiness.
@Suite(.requires(Kubectl.isInstalled, "needs kubectl"))
struct ServiceKubectlTests {
    /// Waits for the Deployment's pods to be bound, then reports each Running and Ready with
    /// an address of 10.42.0.0/24 (in name order); returns the addresses.
    private func runPods(_ cluster: ControllerTestCluster, app: String, count: Int) async throws -> [String] {
        let pods = try await eventually(within: 20, {
            try await cluster.client.list(.pods, namespace: "default", labelSelector: try LabelSelector(parsing: "app=\(app)")).items
        }, until: { $0.count == count && $0.allSatisfy { !($0.string(at: ["spec", "nodeName"]) ?? "").isEmpty } })
        var addresses: [String] = []
        for (index, pod) in pods.sorted(by: { ($0.name ?? "") < ($1.name ?? "") }).enumerated() {
            let ip = "10.42.0.\(index + 5)"
            addresses.append(ip)
            _ = try await cluster.client.patch(.pods, namespace: "default", name: pod.name ?? "", .object(["status": .object([
                "phase": .string("Running"), "podIP": .string(ip), "podIPs": .array([.object(["ip": .string(ip)])]),
                "conditions": .array([.object(["type": .string("Ready"), "status": .string("True")])]),
            ])]), subresource: "status")
        }
        return addresses
    }

    /// The value after `key:` in `describe` output (kubectl pads with spaces).
    private func field(_ describe: String, _ key: String) -> String? {
        for line in describe.split(separator: "\n") where line.hasPrefix(key + ":") {
            return line.dropFirst(key.count + 1).trimmingCharacters(in: .whitespaces)
        }
        return nil
    }

    /// - Parameter newDescribe: whether `describe svc` shows the internal traffic policy (1.28+).
    private func exercise(_ binary: String, newDescribe: Bool) async throws {
        try await withServedControllerCluster { cluster in
            let kubectl = try cluster.kubectl(binary)
            try await cluster.addNode("n1")
            let created = try await kubectl("create", "deployment", "web", "--image=nginx", "--replicas=2", "--port=8080")
            #expect(created.status == 0, "\(created.stderr)")
            let addresses = try await runPods(cluster, app: "web", count: 2)
            let exposed = try await kubectl("expose", "deployment", "web", "--port=80", "--target-port=8080", "--type=NodePort")
            #expect(exposed.stdout == "service/web exposed\n", "\(exposed.stderr)")
            let service = try #require(try await cluster.client.get(.services, namespace: "default", name: "web"))
            let clusterIP = try #require(service.string(at: ["spec", "clusterIP"]))
            let nodePort = try #require(service.value(at: ["spec", "ports"])?.arrayValue?.first?["nodePort"]?.intValue)
            #expect((30000...32767).contains(nodePort))

            // Both pods listed, in the slice and the Endpoints.
            let expectedEndpoints = addresses.map { "\($0):8080" }.joined(separator: ",")
            _ = try await eventually({ try await kubectl("get", "ep", "web").stdout }, until: { $0.contains(expectedEndpoints) })
            let output = try await kubectl("get", "svc,ep,endpointslices")
            #expect(output.status == 0, "\(output.stderr)")
            let rows = tableRows(output.stdout)
            #expect(rows.contains(["NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE"]), "\(output.stdout)")
            let serviceRow = try #require(rows.first { $0.first == "service/web" }, "\(output.stdout)")
            #expect(Array(serviceRow[1...4]) == ["NodePort", clusterIP, "<none>", "80:\(nodePort)/TCP"])
            #expect(rows.contains { $0.first == "service/kubernetes" && $0[1] == "ClusterIP" && $0[2] == "10.43.0.1" && $0[4] == "443/TCP" })
            #expect(rows.contains(["NAME", "ENDPOINTS", "AGE"]), "\(output.stdout)")
            let endpointsRow = try #require(rows.first { $0.first == "endpoints/web" }, "\(output.stdout)")
            #expect(endpointsRow[1] == expectedEndpoints)
            #expect(rows.contains(["NAME", "ADDRESSTYPE", "PORTS", "ENDPOINTS", "AGE"]), "\(output.stdout)")
            let sliceRow = try #require(rows.first { $0.first?.hasPrefix("endpointslice.discovery.k8s.io/web-") == true }, "\(output.stdout)")
            #expect(Array(sliceRow[1...3]) == ["IPv4", "8080", addresses.joined(separator: ",")])

            let describe = try await kubectl("describe", "svc", "web")
            #expect(describe.status == 0, "\(describe.stderr)")
            let text = describe.stdout
            #expect(field(text, "Type") == "NodePort")
            #expect(field(text, "IP") == clusterIP)
            #expect(field(text, "Port") == "<unset>  80/TCP")
            #expect(field(text, "TargetPort") == "8080/TCP")
            #expect(field(text, "NodePort") == "<unset>  \(nodePort)/TCP")
            #expect(field(text, "Endpoints") == expectedEndpoints, "\(text)")
            #expect(field(text, "Session Affinity") == "None")
            #expect(field(text, "External Traffic Policy") == "Cluster")
            if newDescribe {
                #expect(field(text, "Internal Traffic Policy") == "Cluster")
                #expect(field(text, "IP Families") == "IPv4")
            }

            // A node port that is taken, one out of range: the API's errors, nothing changed.
            let manifest = """
                apiVersion: v1
                kind: Service
                metadata:
                  name: other
                spec:
                  type: NodePort
                  selector: {app: web}
                  ports:
                  - port: 81
                    targetPort: 8080
                    nodePort: \(nodePort)
                """
            let taken = try await kubectl("create", "-f", "-", input: manifest)
            #expect(taken.status != 0)
            #expect(taken.stderr.contains(#"The Service "other" is invalid: spec.ports[0].nodePort: Invalid value: \#(nodePort): provided port is already allocated"#),
                    "\(taken.stderr)")
            // `create service` words the same error its own way.
            let outside = try await kubectl("create", "service", "nodeport", "other", "--tcp=81:8080", "--node-port=40000")
            #expect(outside.status != 0)
            #expect(outside.stderr.contains(#"error: failed to create NodePort service: Service "other" is invalid: spec.ports[0].nodePort: Invalid value: 40000: provided port is not in the valid range. The range of valid ports is 30000-32767"#),
                    "\(outside.stderr)")
            #expect(try await cluster.client.get(.services, namespace: "default", name: "other") == nil)
            #expect(try await cluster.client.get(.services, namespace: "default", name: "web")?.resourceVersion == service.resourceVersion)

            // Deleted and exposed again: the node port is free again and can be asked for.
            #expect(try await kubectl("delete", "svc", "web").status == 0)
            let again = try await kubectl("create", "service", "nodeport", "web", "--tcp=80:8080", "--node-port=\(nodePort)")
            #expect(again.status == 0, "\(again.stderr)")
        }
    }

    @Test func kubectl132() async throws {
        try await exercise(Kubectl.defaultBinary, newDescribe: true)
    }

    @Test func kubectl127() async throws {
        try await exercise(Kubectl.binary127, newDescribe: false)
    }

    @Test func kubectl120() async throws {
        try await exercise(try await Kubectl.binary120(), newDescribe: false)
    }

    @Test func aSelectorThatMatchesNothingHasNoEndpoints() async throws {
        try await withServedControllerCluster { cluster in
            let kubectl = try cluster.kubectl()
            let created = try await kubectl("create", "service", "clusterip", "lonely", "--tcp=80:8080")
            #expect(created.status == 0, "\(created.stderr)")
            _ = try await eventually({ try await cluster.client.get(.endpoints, namespace: "default", name: "lonely") }, until: { $0 != nil })
            let rows = tableRows(try await kubectl("get", "ep", "lonely").stdout)
            #expect(rows.last?[1] == "<none>")
            let slices = tableRows(try await kubectl("get", "endpointslices", "-l", "kubernetes.io/service-name=lonely").stdout)
            #expect(slices.count == 2 && slices.last?[2] == "<unset>" && slices.last?[3] == "<unset>", "\(slices)")
            // describe lists the ready endpoints of the slices: the placeholder has none, so
            // kubectl prints nothing after "Endpoints:", as it does against kube-apiserver.
            let describe = try await kubectl("describe", "svc", "lonely").stdout
            #expect(field(describe, "Endpoints") == "", "\(describe)")
            #expect(field(describe, "Port") == "80-8080  80/TCP")
        }
    }
}
