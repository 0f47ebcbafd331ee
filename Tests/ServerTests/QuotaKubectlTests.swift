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

/// Issue 17: ResourceQuota and LimitRange as real kubectl (1.32, 1.27, Debian's 1.20) drives
/// them against the served API with the controllers running: `create quota` (1.32 sends
/// protobuf), pods created until one is refused with kube-apiserver's message, `get quota`
/// and `describe quota` showing the usage, a deleted pod's share given back by the
/// resourcequota controller; a LimitRange's defaults in a new pod's spec, a too-large
/// container refused, `get limits` and `describe limits`. No nodes: the pods stay Pending.
@Suite(.requires(Kubectl.isInstalled, "needs kubectl"))
struct QuotaKubectlTests {
    static let limitRange = """
        apiVersion: v1
        kind: LimitRange
        metadata:
          name: limits
        spec:
          limits:
          - type: Container
            max:
              cpu: 500m
            default:
              cpu: 200m
              memory: 128Mi
            defaultRequest:
              cpu: 100m
              memory: 64Mi
        """

    static let bigPod = """
        apiVersion: v1
        kind: Pod
        metadata:
          name: big
        spec:
          containers:
          - name: app
            image: busybox
            resources:
              limits:
                cpu: "1"
        """

    private func exercise(_ binary: String) async throws {
        try await withServedControllerCluster { cluster in
            let kubectl = try cluster.kubectl(binary)
            let created = try await kubectl("create", "quota", "q", "--hard=pods=2,count/configmaps=10")
            #expect(created.stdout == "resourcequota/q created\n", "\(created.stderr)")
            _ = try await eventually({ try await kubectl("get", "quota", "q").stdout }, until: { $0.contains("pods: 0/2") })
            for name in ["p1", "p2"] {
                let run = try await kubectl("run", name, "--image=busybox", "--restart=Never")
                #expect(run.stdout == "pod/\(name) created\n", "\(run.stderr)")
            }
            let refused = try await kubectl("run", "p3", "--image=busybox", "--restart=Never")
            #expect(refused.status != 0)
            #expect(refused.stderr.contains(#"Error from server (Forbidden): pods "p3" is forbidden: exceeded quota: q, requested: pods=1, used: pods=2, limited: pods=2"#),
                    "\(refused.stderr)")

            let rows = tableRows(try await kubectl("get", "quota").stdout)
            #expect(rows.first == ["NAME", "AGE", "REQUEST", "LIMIT"], "\(rows)")
            let row = try #require(rows.first { $0.first == "q" }, "\(rows)")
            #expect(Array(row.dropFirst(2)) == ["count/configmaps:", "0/10,", "pods:", "2/2"], "\(row)")
            let describe = try await kubectl("describe", "quota", "q")
            #expect(describe.status == 0, "\(describe.stderr)")
            let lines = tableRows(describe.stdout)
            #expect(lines.contains(["Resource", "Used", "Hard"]), "\(describe.stdout)")
            #expect(lines.contains(["pods", "2", "2"]), "\(describe.stdout)")
            #expect(lines.contains(["count/configmaps", "0", "10"]), "\(describe.stdout)")

            // Deleting a pod gives its share back (the controller), and a new pod fits again.
            let deleted = try await kubectl("delete", "pod", "p1")
            #expect(deleted.status == 0, "\(deleted.stderr)")
            _ = try await eventually({ try await kubectl("get", "quota", "q").stdout }, until: { $0.contains("pods: 1/2") })
            let again = try await kubectl("run", "p3", "--image=busybox", "--restart=Never")
            #expect(again.stdout == "pod/p3 created\n", "\(again.stderr)")

            // A LimitRange in its own namespace: defaults in the spec, a big container refused.
            #expect(try await kubectl("create", "namespace", "lr").status == 0)
            let applied = try await kubectl("apply", "-n", "lr", "-f", "-", input: Self.limitRange)
            #expect(applied.stdout == "limitrange/limits created\n", "\(applied.stderr)")
            let small = try await kubectl("run", "small", "-n", "lr", "--image=busybox", "--restart=Never")
            #expect(small.status == 0, "\(small.stderr)")
            let pod = try #require(try await cluster.client.get(.pods, namespace: "lr", name: "small"))
            #expect(pod.value(at: ["spec", "containers"])?.arrayValue?.first?["resources"]
                    == (try json(#"{"limits":{"cpu":"200m","memory":"128Mi"},"requests":{"cpu":"100m","memory":"64Mi"}}"#)))
            #expect(pod.annotations["kubernetes.io/limit-ranger"] == "LimitRanger plugin set: cpu, memory request for container small; cpu, memory limit for container small")
            let big = try await kubectl("apply", "-n", "lr", "-f", "-", input: Self.bigPod)
            #expect(big.status != 0)
            #expect(big.stderr.contains(#"pods "big" is forbidden: maximum cpu usage per Container is 500m, but limit is 1"#), "\(big.stderr)")

            let limits = tableRows(try await kubectl("get", "limits", "-n", "lr").stdout)
            #expect(limits.first == ["NAME", "CREATED", "AT"], "\(limits)")
            #expect(limits.dropFirst().first?.first == "limits", "\(limits)")
            let describeLimits = try await kubectl("describe", "limits", "-n", "lr")
            #expect(describeLimits.status == 0, "\(describeLimits.stderr)")
            #expect(tableRows(describeLimits.stdout).contains(["Container", "cpu", "-", "500m", "100m", "200m", "-"]), "\(describeLimits.stdout)")
            #expect(tableRows(describeLimits.stdout).contains(["Container", "memory", "-", "-", "64Mi", "128Mi", "-"]), "\(describeLimits.stdout)")

            // Scopes on the command line; an unknown one refused by the server.
            let scoped = try await kubectl("create", "quota", "scoped", "-n", "lr", "--hard=pods=5", "--scopes=BestEffort,NotTerminating")
            #expect(scoped.stdout == "resourcequota/scoped created\n", "\(scoped.stderr)")
            let stored = try #require(try await cluster.client.get(.resourceQuotas, namespace: "lr", name: "scoped"))
            #expect(stored.value(at: ["spec", "scopes"]) == .array([.string("BestEffort"), .string("NotTerminating")]))
            let bad = try await kubectl("create", "quota", "bad", "-n", "lr", "--hard=pods=1", "--scopes=Foo")
            #expect(bad.status != 0)
            #expect(bad.stderr.contains(#"spec.scopes: Invalid value: []core.ResourceQuotaScope{"Foo"}: unsupported scope"#), "\(bad.stderr)")
        }
    }

    @Test func kubectl132() async throws {
        try await exercise(Kubectl.defaultBinary)
    }

    @Test func kubectl127() async throws {
        try await exercise(Kubectl.binary127)
    }

    @Test func kubectl120() async throws {
        try await exercise(try await Kubectl.binary120())
    }
}
