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

/// Issue 17: PriorityClasses as real kubectl (1.32, 1.27, Debian's 1.20) drives them against
/// the served API: `create priorityclass` (1.32 sends protobuf), `get pc` with kubectl's
/// columns, the system classes listed and refused deletion, a pod naming a class getting its
/// priority, an unknown class, an out-of-range value and a second global default refused with
/// kube-apiserver's messages. No nodes: the pods stay Pending.
@Suite(.requires(Kubectl.isInstalled, "needs kubectl"))
struct PriorityKubectlTests {
    static func pod(_ name: String, className: String) -> String {
        """
        apiVersion: v1
        kind: Pod
        metadata:
          name: \(name)
        spec:
          priorityClassName: \(className)
          containers:
          - name: app
            image: busybox
        """
    }

    /// `describesPolicy`: kubectl 1.20's describer has no PreemptionPolicy line.
    private func exercise(_ binary: String, describesPolicy: Bool = true) async throws {
        try await withServedControllerCluster { cluster in
            let kubectl = try cluster.kubectl(binary)
            let created = try await kubectl("create", "priorityclass", "high", "--value=1000", "--description=for the important ones")
            #expect(created.stdout == "priorityclass.scheduling.k8s.io/high created\n", "\(created.stderr)")
            let stored = try #require(try await cluster.client.get(.priorityClasses, namespace: nil, name: "high"))
            #expect(stored.value(at: ["value"]) == .int(1000))
            #expect(stored.string(at: ["description"]) == "for the important ones")
            #expect(stored.string(at: ["preemptionPolicy"]) == "PreemptLowerPriority")

            let rows = tableRows(try await kubectl("get", "pc").stdout)
            #expect(rows.first == ["NAME", "VALUE", "GLOBAL-DEFAULT", "AGE", "PREEMPTIONPOLICY"], "\(rows)")
            #expect(rows.dropFirst().map(\.first) == ["high", "system-cluster-critical", "system-node-critical"], "\(rows)")
            let high = try #require(rows.first { $0.first == "high" })
            #expect(high.count == 5 && high[1] == "1000" && high[2] == "false" && high[4] == "PreemptLowerPriority", "\(high)")
            let node = try #require(rows.first { $0.first == "system-node-critical" })
            #expect(node.count == 5 && node[1] == "2000001000" && node[2] == "false", "\(node)")

            let describe = try await kubectl("describe", "pc", "high")
            #expect(describe.status == 0, "\(describe.stderr)")
            let lines = tableRows(describe.stdout)
            #expect(lines.contains(["Value:", "1000"]), "\(describe.stdout)")
            #expect(lines.contains(["PreemptionPolicy:", "PreemptLowerPriority"]) == describesPolicy, "\(describe.stdout)")
            #expect(lines.contains(["Description:", "for", "the", "important", "ones"]), "\(describe.stdout)")

            // The OpenAPI documents describe the kind (1.20 reads v2 in protobuf, the others v3).
            let explain = try await kubectl("explain", "priorityclass.preemptionPolicy")
            #expect(explain.status == 0, "\(explain.stderr)")
            let words = explain.stdout.split(whereSeparator: \.isWhitespace).joined(separator: " ")
            #expect(words.contains("preemptionPolicy is the Policy for preempting pods with lower priority."), "\(explain.stdout)")

            // A pod naming the class gets its priority; an unknown class is refused.
            let applied = try await kubectl("apply", "-f", "-", input: Self.pod("important", className: "high"))
            #expect(applied.stdout == "pod/important created\n", "\(applied.stderr)")
            let priority = try await kubectl("get", "pod", "important", "-o", "jsonpath={.spec.priority} {.spec.preemptionPolicy}")
            #expect(priority.stdout == "1000 PreemptLowerPriority", "\(priority.stderr)")
            let unknown = try await kubectl("apply", "-f", "-", input: Self.pod("lost", className: "nope"))
            #expect(unknown.status != 0)
            #expect(unknown.stderr == #"Error from server (Forbidden): error when creating "STDIN": pods "lost" is forbidden: no PriorityClass with name nope was found"# + "\n",
                    "\(unknown.stderr)")

            // Hostile input: a user value above the limit, a reserved name, a second default,
            // deleting a system class.
            let huge = try await kubectl("create", "priorityclass", "huge", "--value=2000000000")
            #expect(huge.status != 0)
            // kubectl's `create priorityclass` prints the server's message after its own prefix
            // ("error: failed to create priorityclass: "; 1.20 says clusterrolebinding there).
            #expect(huge.stderr.contains(#"PriorityClass.scheduling.k8s.io "huge" is invalid: value: Forbidden: maximum allowed value of a user defined priority is 1000000000"#),
                    "\(huge.stderr)")
            let reserved = try await kubectl("create", "priorityclass", "system-mine", "--value=1")
            #expect(reserved.stderr.contains("priority class names with 'system-' prefix are reserved for system use only. error: system-mine is not a known system priority class"),
                    "\(reserved.stderr)")
            let first = try await kubectl("create", "priorityclass", "fallback", "--value=10", "--global-default=true")
            #expect(first.status == 0, "\(first.stderr)")
            let second = try await kubectl("create", "priorityclass", "fallback-2", "--value=20", "--global-default=true")
            #expect(second.status != 0)
            #expect(second.stderr.contains(#"priorityclasses.scheduling.k8s.io "fallback-2" is forbidden: PriorityClass fallback is already marked as default. Only one default can exist"#),
                    "\(second.stderr)")
            let deleted = try await kubectl("delete", "pc", "system-node-critical")
            #expect(deleted.status != 0)
            #expect(deleted.stderr.contains(#"Error from server (Forbidden): priorityclasses.scheduling.k8s.io "system-node-critical" is forbidden: this is a system priority class and cannot be deleted"#),
                    "\(deleted.stderr)")
            // The default now applies to a pod naming no class.
            let run = try await kubectl("run", "plain", "--image=busybox", "--restart=Never")
            #expect(run.status == 0, "\(run.stderr)")
            let plain = try await kubectl("get", "pod", "plain", "-o", "jsonpath={.spec.priorityClassName} {.spec.priority}")
            #expect(plain.stdout == "fallback 10", "\(plain.stderr)")
            // Server-side apply creates one; changing its value is refused as any update is.
            let batch = "apiVersion: scheduling.k8s.io/v1\nkind: PriorityClass\nmetadata:\n  name: batch\nvalue: 5\npreemptionPolicy: Never\n"
            let applied2 = try await kubectl("apply", "--server-side", "-f", "-", input: batch)
            #expect(applied2.stdout == "priorityclass.scheduling.k8s.io/batch serverside-applied\n", "\(applied2.stderr)")
            let changed = try await kubectl("apply", "--server-side", "-f", "-", input: batch.replacingOccurrences(of: "value: 5", with: "value: 6"))
            #expect(changed.status != 0)
            #expect(changed.stderr.contains(#"The PriorityClass "batch" is invalid: value: Forbidden: may not be changed in an update."#),
                    "\(changed.stderr)")
            let removed = try await kubectl("delete", "pc", "high")
            #expect(removed.stdout == "priorityclass.scheduling.k8s.io \"high\" deleted\n", "\(removed.stderr)")
        }
    }

    @Test func kubectl132() async throws {
        try await exercise(Kubectl.defaultBinary)
    }

    @Test func kubectl127() async throws {
        try await exercise(Kubectl.binary127)
    }

    @Test func kubectl120() async throws {
        try await exercise(try await Kubectl.binary120(), describesPolicy: false)
    }
}
