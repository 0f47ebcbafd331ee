@testable import APIRegistry
import APITestSupport
import Foundation
import ServerTestSupport
import Testing

/// Real kubectl (the 1.32 dispatcher) driving Deployments through the ReplicaSet and
/// Deployment controllers, with `TestKubelet` as the nodes.
@Suite struct RolloutKubectlTests {
    @Test func createScaleGetAndReplaceADeletedPod() async throws {
        try await withServedRolloutCluster { cluster in
            let kubectl = try Kubectl(api: cluster.api)
            let created = try await kubectl("create", "deployment", "web", "--image=nginx:1.25", "--replicas=3")
            #expect(created.stdout == "deployment.apps/web created\n", "\(created.stderr)")
            let status = try await kubectl("rollout", "status", "deployment/web", "--timeout=60s")
            #expect(status.stdout.hasSuffix("deployment \"web\" successfully rolled out\n"), "\(status.stdout) \(status.stderr)")

            let scaled = try await kubectl("scale", "deployment", "web", "--replicas=5")
            #expect(scaled.stdout == "deployment.apps/web scaled\n")
            _ = try await kubectl("rollout", "status", "deployment/web", "--timeout=60s")
            try await cluster.wait("5 running pods") { try await cluster.activePods("app=web").count == 5 }

            let wide = try await kubectl("get", "deploy,rs,po", "-o", "wide")
            #expect(wide.status == 0, "\(wide.stderr)")
            let rows = tableRows(wide.stdout)
            let deployment = try #require(rows.first { $0.first == "deployment.apps/web" })
            #expect(deployment[1...3] == ["5/5", "5", "5"])
            let replicaSet = try #require(rows.first { $0.first?.hasPrefix("replicaset.apps/web-") == true })
            #expect(replicaSet[1...3] == ["5", "5", "5"])
            let pods = rows.filter { $0.first?.hasPrefix("pod/web-") == true }
            #expect(pods.count == 5)
            #expect(pods.allSatisfy { $0[1] == "1/1" && $0[2] == "Running" && $0.contains("node-1") })

            let describe = try await kubectl("describe", "deployment", "web")
            let newReplicaSet = try #require(replicaSet.first?.replacingOccurrences(of: "replicaset.apps/", with: ""))
            #expect(describe.stdout.contains("NewReplicaSet:   \(newReplicaSet) (5/5 replicas created)"), "\(describe.stdout)")
            #expect(describe.stdout.contains("Scaled up replica set \(newReplicaSet) from 3 to 5"), "\(describe.stdout)")

            let victim = try #require(pods.first?.first?.replacingOccurrences(of: "pod/", with: ""))
            let deleted = try await kubectl("delete", "pod", victim)
            #expect(deleted.stdout == "pod \"\(victim)\" deleted\n", "\(deleted.stderr)")
            try await cluster.wait("a replacement pod") {
                let names = try await cluster.activePods("app=web").compactMap(\.name)
                return names.count == 5 && !names.contains(victim)
            }

            // This cluster runs no garbage collector: only the Deployment goes (ClusterKubectlTests
            // checks that its ReplicaSets and pods follow in the full server).
            let gone = try await kubectl("delete", "deployment", "web")
            #expect(gone.stdout == "deployment.apps \"web\" deleted\n", "\(gone.stderr)")
            #expect(try await kubectl("get", "deploy", "web").stderr.contains("NotFound"))
        }
    }

    @Test func rolloutUpdateHistoryUndoPauseResumeRestart() async throws {
        try await withServedRolloutCluster { cluster in
            let kubectl = try Kubectl(api: cluster.api)
            _ = try await kubectl("create", "deployment", "web", "--image=nginx:1.25", "--replicas=2")
            _ = try await kubectl("rollout", "status", "deployment/web", "--timeout=60s")
            let setImage = try await kubectl("set", "image", "deployment/web", "nginx=nginx:1.26")
            #expect(setImage.stdout == "deployment.apps/web image updated\n", "\(setImage.stderr)")
            let status = try await kubectl("rollout", "status", "deployment/web", "--timeout=60s")
            #expect(status.stdout.hasSuffix("deployment \"web\" successfully rolled out\n"), "\(status.stdout) \(status.stderr)")

            let history = try await kubectl("rollout", "history", "deployment/web")
            #expect(tableRows(history.stdout).dropFirst().map { $0.first ?? "" } == ["REVISION", "1", "2"], "\(history.stdout) \(history.stderr)")
            let revisionOne = try await kubectl("rollout", "history", "deployment/web", "--revision=1")
            #expect(revisionOne.stdout.contains("nginx:1.25"), "\(revisionOne.stdout) \(revisionOne.stderr)")

            let undo = try await kubectl("rollout", "undo", "deployment/web")
            #expect(undo.stdout == "deployment.apps/web rolled back\n", "\(undo.stderr)")
            _ = try await kubectl("rollout", "status", "deployment/web", "--timeout=60s")
            let image = try await kubectl("get", "deploy", "web", "-o", "jsonpath={.spec.template.spec.containers[0].image}")
            #expect(image.stdout == "nginx:1.25")
            let afterUndo = try await kubectl("rollout", "history", "deployment/web")
            #expect(tableRows(afterUndo.stdout).dropFirst().map { $0.first ?? "" } == ["REVISION", "2", "3"], "\(afterUndo.stdout)")
            #expect(try await cluster.replicaSets(of: "web").count == 2)

            #expect(try await kubectl("rollout", "pause", "deployment/web").stdout == "deployment.apps/web paused\n")
            let whilePaused = try await kubectl("rollout", "undo", "deployment/web")
            #expect(whilePaused.stderr.contains("you cannot rollback a paused deployment"), "\(whilePaused.stderr)")
            #expect(try await kubectl("rollout", "resume", "deployment/web").stdout == "deployment.apps/web resumed\n")

            let restart = try await kubectl("rollout", "restart", "deployment/web")
            #expect(restart.stdout == "deployment.apps/web restarted\n", "\(restart.stderr)")
            let restarted = try await kubectl("rollout", "status", "deployment/web", "--timeout=60s")
            #expect(restarted.stdout.hasSuffix("deployment \"web\" successfully rolled out\n"), "\(restarted.stdout) \(restarted.stderr)")
            #expect(try await cluster.replicaSets(of: "web").count == 3)
            let revision = try await kubectl("get", "deploy", "web", "-o", "jsonpath={.metadata.annotations.deployment\\.kubernetes\\.io/revision}")
            #expect(revision.stdout == "4")
        }
    }

    @Test func applyTwiceIsUnchangedWhileTheControllersWrite() async throws {
        try await withServedRolloutCluster { cluster in
            let kubectl = try Kubectl(api: cluster.api)
            let manifest = """
                apiVersion: apps/v1
                kind: Deployment
                metadata:
                  name: web
                  annotations:
                    kubernetes.io/change-cause: first
                spec:
                  replicas: 2
                  selector:
                    matchLabels: {app: web}
                  template:
                    metadata:
                      labels: {app: web}
                    spec:
                      containers:
                      - name: web
                        image: nginx:1.25
                """
            #expect(try await kubectl("apply", "-f", "-", input: manifest).stdout == "deployment.apps/web created\n")
            _ = try await kubectl("rollout", "status", "deployment/web", "--timeout=60s")
            let again = try await kubectl("apply", "-f", "-", input: manifest)
            #expect(again.stdout == "deployment.apps/web unchanged\n", "\(again.stderr)")
            let changed = manifest.replacingOccurrences(of: "nginx:1.25", with: "nginx:1.26").replacingOccurrences(of: "first", with: "second")
            #expect(try await kubectl("apply", "-f", "-", input: changed).stdout == "deployment.apps/web configured\n")
            _ = try await kubectl("rollout", "status", "deployment/web", "--timeout=60s")
            let history = tableRows(try await kubectl("rollout", "history", "deployment/web").stdout)
            #expect(history.suffix(2) == [["1", "first"], ["2", "second"]], "\(history)")
        }
    }
}
