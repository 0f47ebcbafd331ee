@testable import APIMachinery
import APITestSupport
import Foundation
import KubeAPI
import ServerTestSupport
import TestSupport
import Testing

/// Server-side apply and managedFields through the served API, with real kubectl
/// (`apply --server-side`, `--force-conflicts`, `diff`, `--show-managed-fields`) and raw
/// requests for what kubectl never sends.
@Suite struct ServerSideApplyTests {
    static func deployment(replicas: Int = 2, image: String = "nginx:1", env: String = "") -> String {
        """
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: web
          labels:
            app: web
        spec:
          replicas: \(replicas)
          selector:
            matchLabels:
              app: web
          template:
            metadata:
              labels:
                app: web
            spec:
              containers:
              - name: nginx
                image: \(image)\(env)
        """
    }

    func managers(_ object: JSONValue) -> [String] {
        (object["metadata"]?["managedFields"]?.arrayValue ?? []).compactMap {
            guard let manager = $0["manager"]?.stringValue, let operation = $0["operation"]?.stringValue else { return nil }
            return manager + "/" + operation
        }.sorted()
    }

    func get(_ kubectl: Kubectl, _ args: String...) async throws -> JSONValue {
        let result = try await kubectl.run(["get"] + args + ["-o", "json", "--show-managed-fields"])
        #expect(result.status == 0, "\(result.stderr)")
        return try JSONParser.parse(Array(result.stdout.utf8))
    }

    @Test func kubectlAppliesServerSideTakesFieldsConflictsAndForces() async throws {
        try await withTestServer { server in
            let kubectl = try Kubectl(port: server.port, directory: server.directory)
            let created = try await kubectl("apply", "--server-side", "-f", "-", input: Self.deployment())
            #expect(created.stdout == "deployment.apps/web serverside-applied\n", "\(created.stderr)")
            var live = try await get(kubectl, "deployment", "web")
            #expect(managers(live).contains("kubectl/Apply"))
            let entry = live["metadata"]?["managedFields"]?.arrayValue?.first { $0["manager"] == .string("kubectl") }
            #expect(entry?["fieldsV1"]?["f:spec"]?["f:replicas"] == .object([:]))
            #expect(entry?["apiVersion"] == .string("apps/v1"))
            #expect(entry?["fieldsType"] == .string("FieldsV1"))

            // Another manager changes replicas: the next apply of the old value conflicts.
            let patched = try await kubectl("patch", "deployment", "web", "-p", #"{"spec":{"replicas":5}}"#)
            #expect(patched.status == 0, "\(patched.stderr)")
            live = try await get(kubectl, "deployment", "web")
            #expect(managers(live).contains("kubectl-patch/Update"))
            let conflict = try await kubectl("apply", "--server-side", "-f", "-", input: Self.deployment())
            #expect(conflict.status == 1)
            #expect(conflict.stderr.contains(#"Apply failed with 1 conflict: conflict with "kubectl-patch" using apps/v1: .spec.replicas"#), "\(conflict.stderr)")
            #expect(try await get(kubectl, "deployment", "web")["spec"]?["replicas"] == .int(5))

            // Applying the live value is fine; forcing takes the field over.
            let agreeing = try await kubectl("apply", "--server-side", "-f", "-", input: Self.deployment(replicas: 5))
            #expect(agreeing.status == 0, "\(agreeing.stderr)")
            let forced = try await kubectl("apply", "--server-side", "--force-conflicts", "-f", "-", input: Self.deployment(replicas: 3))
            #expect(forced.stdout == "deployment.apps/web serverside-applied\n", "\(forced.stderr)")
            live = try await get(kubectl, "deployment", "web")
            #expect(live["spec"]?["replicas"] == .int(3))
            #expect(!managers(live).contains("kubectl-patch/Update"))

            // What the applier stops applying goes: an env var applied once, then left out.
            let env = "\n        env:\n        - name: MODE\n          value: fast"
            let withEnv = try await kubectl("apply", "--server-side", "-f", "-", input: Self.deployment(replicas: 3, env: env))
            #expect(withEnv.status == 0, "\(withEnv.stderr)")
            live = try await get(kubectl, "deployment", "web")
            #expect(live["spec"]?["template"]?["spec"]?["containers"]?.arrayValue?.first?["env"] != nil)
            #expect(try await kubectl("apply", "--server-side", "-f", "-", input: Self.deployment(replicas: 3)).status == 0)
            live = try await get(kubectl, "deployment", "web")
            #expect(live["spec"]?["template"]?["spec"]?["containers"]?.arrayValue?.first?["env"] == nil)
            // Defaults stay: the applier never owned them.
            #expect(live["spec"]?["template"]?["spec"]?["containers"]?.arrayValue?.first?["imagePullPolicy"] != nil)

            // kubectl diff --server-side previews an apply without storing it.
            let diff = try await kubectl("diff", "--server-side", "-f", "-", input: Self.deployment(replicas: 4))
            #expect(diff.status == 1, "\(diff.stderr)")
            #expect(diff.stdout.contains("-  replicas: 3"))
            #expect(diff.stdout.contains("+  replicas: 4"))
            #expect(try await get(kubectl, "deployment", "web")["spec"]?["replicas"] == .int(3))
            let same = try await kubectl("diff", "--server-side", "-f", "-", input: Self.deployment(replicas: 3))
            #expect(same.status == 0, "\(same.stdout)\(same.stderr)")
        }
    }

    @Test func everyWriteRecordsItsManager() async throws {
        try await withTestServer { server in
            let kubectl = try Kubectl(port: server.port, directory: server.directory)
            #expect(try await kubectl("create", "deployment", "web", "--image=nginx").status == 0)
            #expect(try await kubectl("label", "deployment", "web", "tier=front").status == 0)
            let live = try await get(kubectl, "deployment", "web")
            let names = managers(live)
            #expect(names.contains("kubectl-create/Update"))
            #expect(names.contains("kubectl-label/Update"))
            let label = live["metadata"]?["managedFields"]?.arrayValue?.first { $0["manager"] == .string("kubectl-label") }
            #expect(label?["fieldsV1"] == .object(["f:metadata": .object(["f:labels": .object(["f:tier": .object([:])])])]))
            // kubectl hides them unless asked.
            let plain = try await kubectl("get", "deployment", "web", "-o", "json")
            #expect(try JSONParser.parse(Array(plain.stdout.utf8))["metadata"]?["managedFields"] == nil)
        }
    }

    @Test func clientSideApplyMovesToServerSideApply() async throws {
        try await withTestServer { server in
            let kubectl = try Kubectl(port: server.port, directory: server.directory)
            #expect(try await kubectl("apply", "-f", "-", input: Self.deployment()).stdout == "deployment.apps/web created\n")
            // kubectl changes a value it applied client-side: no conflict with its old self.
            let moved = try await kubectl("apply", "--server-side", "-f", "-", input: Self.deployment(replicas: 4))
            #expect(moved.stdout == "deployment.apps/web serverside-applied\n", "\(moved.stderr)")
            let live = try await get(kubectl, "deployment", "web")
            #expect(live["spec"]?["replicas"] == .int(4))
            #expect(managers(live).contains("kubectl/Apply"))
        }
    }

    @Test func olderKubectlsApplyServerSide() async throws {
        for binary in [Kubectl.binary127, try await Kubectl.binary120()] {
            try await withTestServer { server in
                let kubectl = try Kubectl(binary: binary, port: server.port, directory: server.directory)
                let created = try await kubectl("apply", "--server-side", "-f", "-", input: Self.deployment())
                #expect(created.stdout == "deployment.apps/web serverside-applied\n", "\(binary): \(created.stderr)")
                #expect(try await kubectl("patch", "deployment", "web", "-p", #"{"spec":{"replicas":5}}"#).status == 0)
                let conflict = try await kubectl("apply", "--server-side", "-f", "-", input: Self.deployment())
                #expect(conflict.status == 1)
                #expect(conflict.stderr.contains(".spec.replicas"), "\(binary): \(conflict.stderr)")
                let forced = try await kubectl("apply", "--server-side", "--force-conflicts", "-f", "-", input: Self.deployment())
                #expect(forced.status == 0, "\(binary): \(forced.stderr)")
            }
        }
    }

    /// Debian's python3-kubernetes: the dynamic client's server_side_apply, a conflict with
    /// another manager, force_conflicts. (Its 22.6 REST layer sends apply patches only as a
    /// string body, so the configuration goes as JSON text with the name given.)
    @Test func thePythonClientAppliesServerSide() async throws {
        let script = """
            import json, sys
            from kubernetes import config, dynamic, client
            from kubernetes.client import api_client
            config.load_kube_config(sys.argv[1])
            dyn = dynamic.DynamicClient(api_client.ApiClient())
            deployments = dyn.resources.get(api_version="apps/v1", kind="Deployment")
            body = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "py", "namespace": "default"},
                    "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "py"}},
                             "template": {"metadata": {"labels": {"app": "py"}}, "spec": {"containers": [{"name": "c", "image": "busybox"}]}}}}
            text = json.dumps(body)
            r = deployments.server_side_apply(body=text, name="py", namespace="default", field_manager="python")
            print("applied", r.metadata.name, r.spec.replicas, sorted(m.manager + "/" + m.operation for m in r.metadata.managedFields))
            client.AppsV1Api().patch_namespaced_deployment("py", "default", {"spec": {"replicas": 5}}, field_manager="scaler")
            try:
                deployments.server_side_apply(body=text, name="py", namespace="default", field_manager="python")
            except client.ApiException as error:
                print("conflict", error.status, b"scaler" in error.body)
            r = deployments.server_side_apply(body=text, name="py", namespace="default", field_manager="python", force_conflicts=True)
            print("forced", r.spec.replicas, sorted(m.manager for m in r.metadata.managedFields))
            """
        try await withTestServer { server in
            let kubeconfig = try Kubectl(port: server.port, directory: server.directory).kubeconfig
            let scriptPath = server.directory + "/apply.py"
            try script.write(toFile: scriptPath, atomically: true, encoding: .utf8)
            let output = try await blocking {
                let result = try TestChild.launch(["/usr/bin/python3", scriptPath, kubeconfig], stdout: .capture, stderr: .capture).finish()
                return String(decoding: result.stdout + result.stderr, as: UTF8.self)
            }
            let lines = output.split(separator: "\n").map(String.init)
            #expect(lines.contains("applied py 2 ['python/Apply']"), "\(output)")
            #expect(lines.contains("conflict 409 True"), "\(output)")
            #expect(lines.contains("forced 2 ['python']"), "\(output)")
        }
    }

    /// Apply through the scale subresource (client-go's `ApplyScale`, as an autoscaler would):
    /// the Scale's replicas go to the Deployment under the manager with `subresource: scale`,
    /// and conflict both ways with whoever else manages the replicas.
    @Test func scaleSubresourceAppliesTheReplicas() async throws {
        try await withTestServer { server in
            let client = server.client
            let path = "/apis/apps/v1/namespaces/default/deployments/web"
            func send(_ target: String, _ body: String, manager: String, force: Bool = false) async throws -> HTTPTestResponse {
                try await client.send("PATCH", target + "?fieldManager=\(manager)" + (force ? "&force=true" : ""),
                                      headers: ["Content-Type": "application/apply-patch+yaml"], body: Array(body.utf8))
            }
            let scale = { (replicas: String) in "apiVersion: autoscaling/v1\nkind: Scale\nmetadata:\n  name: web\nspec:\n  replicas: \(replicas)\n" }
            // No Deployment yet: an apply through scale does not create one.
            #expect(try await send(path + "/scale", scale("3"), manager: "autoscaler").status == 404)
            #expect(try await send(path, Self.deployment(), manager: "deployer").status == 201)
            // The deployer owns the replicas: the autoscaler conflicts, then forces.
            let conflict = try await send(path + "/scale", scale("3"), manager: "autoscaler")
            #expect(conflict.status == 409)
            #expect(try conflict.json()["message"]?.stringValue == #"Apply failed with 1 conflict: conflict with "deployer": .spec.replicas"#,
                    "\(conflict.text)")
            let forced = try await send(path + "/scale", scale("3"), manager: "autoscaler", force: true)
            #expect(forced.status == 200, "\(forced.text)")
            #expect(try forced.json()["kind"] == .string("Scale") && forced.json()["spec"]?["replicas"] == .int(3))
            let deployment = try await client.send("GET", path).json()
            #expect(deployment["spec"]?["replicas"] == .int(3))
            let entry = try #require(deployment["metadata"]?["managedFields"]?.arrayValue?.first { $0["manager"] == .string("autoscaler") })
            #expect(entry["operation"] == .string("Apply") && entry["subresource"] == .string("scale") && entry["apiVersion"] == .string("apps/v1"))
            #expect(entry["fieldsV1"] == .object(["f:spec": .object(["f:replicas": .object([:])])]), "\(entry)")
            // Now the deployer's replicas conflict with the autoscaler's, named with its subresource.
            let back = try await send(path, Self.deployment(replicas: 5), manager: "deployer")
            #expect(try back.json()["message"]?.stringValue == #"Apply failed with 1 conflict: conflict with "autoscaler" with subresource "scale": .spec.replicas"#,
                    "\(back.text)")
            // `kubectl scale`'s patch is an Update entry with subresource scale too.
            let patched = try await client.send("PATCH", path + "/scale?fieldManager=kubectl-scale", headers: ["Content-Type": "application/merge-patch+json"],
                                                body: Array(#"{"spec":{"replicas":4}}"#.utf8))
            #expect(patched.status == 200)
            let fields = try await client.send("GET", path).json()["metadata"]?["managedFields"]?.arrayValue ?? []
            #expect(fields.contains { $0["manager"] == .string("kubectl-scale") && $0["operation"] == .string("Update") && $0["subresource"] == .string("scale") })
            // Bad Scales: another name, negative replicas, an unknown field.
            let named = try await send(path + "/scale", scale("3").replacingOccurrences(of: "name: web", with: "name: other"), manager: "autoscaler")
            #expect(try named.json()["message"]?.stringValue == "the name of the object (other) does not match the name on the URL (web)")
            let negative = try await send(path + "/scale", scale("-1"), manager: "autoscaler", force: true)
            #expect(negative.status == 422, "\(negative.text)")
            let unknown = try await send(path + "/scale", scale("3") + "  size: 3\n", manager: "autoscaler")
            #expect(try unknown.json()["message"]?.stringValue == "failed to create typed patch object (default/web; autoscaling/v1, Kind=Scale): .spec.size: field not declared in schema")
            #expect(try await client.send("GET", path).json()["spec"]?["replicas"] == .int(4))
        }
    }

    @Test func hostileApplyRequestsAreRefusedAndNothingIsStored() async throws {
        try await withTestServer { server in
            let client = server.client
            let path = "/apis/apps/v1/namespaces/default/deployments/web"
            func apply(_ body: String, query: String = "?fieldManager=test") async throws -> HTTPTestResponse {
                try await client.send("PATCH", path + query, headers: ["Content-Type": "application/apply-patch+yaml"], body: Array(body.utf8))
            }
            let noManager = try await apply(Self.deployment(), query: "")
            #expect(noManager.status == 422)
            #expect(try noManager.json()["message"]?.stringValue == #"PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch"#)
            let long = try await apply(Self.deployment(), query: "?fieldManager=" + String(repeating: "m", count: 129))
            #expect(try long.json()["message"]?.stringValue == #"PatchOptions.meta.k8s.io "" is invalid: fieldManager: Too long: may not be more than 128 bytes"#)
            let control = try await apply(Self.deployment(), query: "?fieldManager=a%07b")
            #expect(control.status == 422)
            #expect(try control.json()["message"]?.stringValue?.contains("invalid character U+0007 (at position 1)") == true)
            let forceOnMerge = try await client.send("PATCH", path + "?force=true", headers: ["Content-Type": "application/merge-patch+json"], body: Array("{}".utf8))
            #expect(try forceOnMerge.json()["message"]?.stringValue == #"PatchOptions.meta.k8s.io "" is invalid: force: Forbidden: may not be specified for non-apply patch"#)

            let wrongKind = try await apply(Self.deployment().replacingOccurrences(of: "kind: Deployment", with: "kind: ReplicaSet"))
            #expect(wrongKind.status == 400)
            #expect(try wrongKind.json()["message"]?.stringValue == "invalid object type: apps/v1, Kind=ReplicaSet")
            let noKind = try await apply("metadata:\n  name: web\n")
            #expect(try noKind.json()["message"]?.stringValue == "invalid object type: /, Kind=")
            let unknown = try await apply(Self.deployment().replacingOccurrences(of: "  replicas: 2", with: "  replicas: 2\n  replicaz: 3"))
            #expect(unknown.status == 400)
            #expect(try unknown.json()["message"]?.stringValue == "failed to create typed patch object (default/web; apps/v1, Kind=Deployment): .spec.replicaz: field not declared in schema")
            let wrongType = try await apply(Self.deployment().replacingOccurrences(of: "  replicas: 2", with: "  replicas: many"))
            #expect(wrongType.status == 400)
            let managed = try await apply(Self.deployment().replacingOccurrences(of: "  name: web", with: "  name: web\n  managedFields:\n  - manager: x"))
            #expect(try managed.json()["message"]?.stringValue == "metadata.managedFields must be nil")
            let otherName = try await apply(Self.deployment().replacingOccurrences(of: "  name: web", with: "  name: other"))
            #expect(otherName.status == 400)
            let keyless = try await apply(Self.deployment().replacingOccurrences(of: "- name: nginx", with: "- imagePullPolicy: Always"))
            #expect(keyless.status == 400, "\(keyless.text)")
            let notYAML = try await apply("{{{ not yaml")
            #expect(notYAML.status == 400)
            let list = try await apply("- a\n- b\n")
            #expect(list.status == 400)
            #expect(try await client.send("GET", path).status == 404)

            // A good apply still works after all that; a Scale apply must be a Scale.
            let created = try await apply(Self.deployment())
            #expect(created.status == 201, "\(created.text)")
            let scale = try await client.send("PATCH", path + "/scale?fieldManager=test", headers: ["Content-Type": "application/apply-patch+yaml"],
                                              body: Array("spec:\n  replicas: 3\n".utf8))
            #expect(scale.status == 400)
            #expect(try scale.json()["message"]?.stringValue == "invalid object type: /, Kind=")
            let again = try await apply(Self.deployment())
            #expect(again.status == 200)
            let dryRun = try await apply(Self.deployment(replicas: 7), query: "?fieldManager=test&dryRun=All")
            #expect(try dryRun.json()["spec"]?["replicas"] == .int(7))
            #expect(try await client.send("GET", path).json()["spec"]?["replicas"] == .int(2))
        }
    }
}
