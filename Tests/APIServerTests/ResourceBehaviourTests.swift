@testable import APIMachinery
@testable import APIRegistry
@testable import APIServer
import APITestSupport
import Foundation
import KubeAPI
import ServerTestSupport
import Testing

/// Per-resource rules: graceful deletion, finalizers, status and scale subresources,
/// namespaces, services, workloads, secrets.
@Suite struct ResourceBehaviourTests {
    @Test func aPodOnANodeIsDeletedGracefully() async throws {
        try await withTestServer { server in
            let client = server.client
            var pod = try json(podJSON)
            pod.set(.string("node-1"), at: ["spec", "nodeName"])
            _ = try await client.send("POST", "/api/v1/namespaces/default/pods", json: pod)
            let first = try await client.send("DELETE", "/api/v1/namespaces/default/pods/web").json()
            #expect(first["metadata"]?["deletionTimestamp"]?.stringValue != nil)
            #expect(first["metadata"]?["deletionGracePeriodSeconds"] == .int(30))
            // Still there, Terminating, until its kubelet (or a grace period of 0) removes it.
            #expect(try await client.send("GET", "/api/v1/namespaces/default/pods/web").status == 200)
            let now = try await client.send("DELETE", "/api/v1/namespaces/default/pods/web",
                                            json: try json(#"{"gracePeriodSeconds":0}"#))
            #expect(now.status == 200)
            #expect(try await client.send("GET", "/api/v1/namespaces/default/pods/web").status == 404)
        }
    }

    @Test func finalizersHoldADeletionUntilRemoved() async throws {
        try await withTestServer { server in
            let client = server.client
            _ = try await client.send("POST", "/api/v1/namespaces/default/configmaps",
                                      json: try json(#"{"metadata":{"name":"held","finalizers":["example.com/hold"]}}"#))
            let pending = try await client.send("DELETE", "/api/v1/namespaces/default/configmaps/held").json()
            #expect(pending["metadata"]?["deletionTimestamp"]?.stringValue != nil)
            #expect(try await client.send("GET", "/api/v1/namespaces/default/configmaps/held").status == 200)
            let released = try await client.send("PATCH", "/api/v1/namespaces/default/configmaps/held",
                                                 json: try json(#"{"metadata":{"finalizers":null}}"#),
                                                 contentType: "application/merge-patch+json")
            #expect(released.status == 200)
            #expect(try await client.send("GET", "/api/v1/namespaces/default/configmaps/held").status == 404)
        }
    }

    @Test func statusIsWrittenOnlyThroughItsSubresource() async throws {
        try await withTestServer { server in
            let client = server.client
            _ = try await client.send("POST", "/api/v1/namespaces/default/pods", json: try json(podJSON))
            let merge = "application/merge-patch+json"
            let ignored = try await client.send("PATCH", "/api/v1/namespaces/default/pods/web",
                                                json: try json(#"{"status":{"phase":"Running"}}"#), contentType: merge).json()
            #expect(ignored["status"]?["phase"]?.stringValue == "Pending")
            let written = try await client.send("PATCH", "/api/v1/namespaces/default/pods/web/status",
                                                json: try json(#"{"status":{"phase":"Running","podIP":"10.42.0.7"},"metadata":{"labels":{"x":"y"}}}"#),
                                                contentType: merge).json()
            #expect(written["status"]?["phase"]?.stringValue == "Running")
            #expect(written["metadata"]?["labels"]?["x"] == nil)
            let table = try await client.send("GET", "/api/v1/namespaces/default/pods/web",
                                              headers: ["Accept": "application/json;as=Table;v=v1;g=meta.k8s.io"]).json()
            #expect(table["rows"]?.arrayValue?.first?["cells"]?.arrayValue?[5] == .string("10.42.0.7"))
        }
    }

    @Test func scaleSubresourceReadsAndWritesReplicas() async throws {
        try await withTestServer { server in
            let client = server.client
            let deployment = try json("""
                {"metadata":{"name":"web"},"spec":{"selector":{"matchLabels":{"app":"web"}},
                 "template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"name":"web","image":"nginx"}]}}}}
                """)
            let created = try await client.send("POST", "/apis/apps/v1/namespaces/default/deployments", json: deployment).json()
            #expect(created["spec"]?["replicas"] == .int(1))
            #expect(created["spec"]?["strategy"]?["rollingUpdate"]?["maxSurge"] == .string("25%"))
            #expect(created["spec"]?["template"]?["spec"]?["restartPolicy"] == .string("Always"))
            #expect(created["metadata"]?["generation"] == .int(1))
            let scale = try await client.send("GET", "/apis/apps/v1/namespaces/default/deployments/web/scale").json()
            #expect(scale["kind"]?.stringValue == "Scale")
            #expect(scale["spec"]?["replicas"] == .int(1))
            #expect(scale["status"]?["selector"] == .string("app=web"))
            let scaled = try await client.send("PATCH", "/apis/apps/v1/namespaces/default/deployments/web/scale",
                                               json: try json(#"{"spec":{"replicas":3}}"#), contentType: "application/merge-patch+json").json()
            #expect(scaled["spec"]?["replicas"] == .int(3))
            let after = try await client.send("GET", "/apis/apps/v1/namespaces/default/deployments/web").json()
            #expect(after["spec"]?["replicas"] == .int(3))
            #expect(after["metadata"]?["generation"] == .int(2))
            let negative = try await client.send("PUT", "/apis/apps/v1/namespaces/default/deployments/web/scale",
                                                 json: try json(#"{"metadata":{"name":"web"},"spec":{"replicas":-1}}"#))
            #expect(negative.status == 422)
        }
    }

    @Test func workloadSelectorsMustMatchTheirTemplates() async throws {
        try await withTestServer { server in
            let response = try await server.client.send("POST", "/apis/apps/v1/namespaces/default/replicasets", json: try json("""
                {"metadata":{"name":"rs"},"spec":{"selector":{"matchLabels":{"app":"a"}},
                 "template":{"metadata":{"labels":{"app":"b"}},"spec":{"restartPolicy":"Never","containers":[{"name":"c","image":"i"}]}}}}
                """))
            #expect(response.status == 422)
            let message = try response.json()["message"]?.stringValue ?? ""
            #expect(message.hasPrefix(#"ReplicaSet.apps "rs" is invalid: ["#))
            #expect(message.contains(#"spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: "Always""#))
            #expect(message.contains(#"spec.template.metadata.labels: Invalid value: map[string]string{"app":"b"}: `selector` does not match template `labels`"#))
        }
    }

    @Test func namespacesGetADefaultServiceAccountAndTerminateWhenDeleted() async throws {
        try await withTestServer { server in
            let client = server.client
            let created = try await client.send("POST", "/api/v1/namespaces", json: try json(#"{"metadata":{"name":"team"}}"#)).json()
            #expect(created["status"]?["phase"]?.stringValue == "Active")
            #expect(created["metadata"]?["labels"]?["kubernetes.io/metadata.name"]?.stringValue == "team")
            #expect(try await client.send("GET", "/api/v1/namespaces/team/serviceaccounts/default").status == 200)
            _ = try await client.send("POST", "/api/v1/namespaces/team/configmaps", json: try json(#"{"metadata":{"name":"c"}}"#))
            let badName = try await client.send("POST", "/api/v1/namespaces", json: try json(#"{"metadata":{"name":"a.b"}}"#))
            #expect(badName.status == 422)
            #expect(try badName.json()["message"]?.stringValue?.contains("must not contain dots") == true)
            // Deletion makes it Terminating; the namespace controller (NamespaceControllerTests)
            // empties and removes it.
            let deleted = try await client.send("DELETE", "/api/v1/namespaces/team")
            #expect(deleted.status == 200)
            #expect(try deleted.json()["status"]?["phase"]?.stringValue == "Terminating")
            let late = try await client.send("POST", "/api/v1/namespaces/team/configmaps", json: try json(#"{"metadata":{"name":"d"}}"#))
            #expect(late.status == 403)
        }
    }

    @Test func servicesGetDistinctClusterIPsAndNodePorts() async throws {
        try await withTestServer { server in
            let client = server.client
            var addresses: Set<String> = []
            for index in 0..<5 {
                let service = try await client.send("POST", "/api/v1/namespaces/default/services", json: try json("""
                    {"metadata":{"name":"s\(index)"},"spec":{"type":"NodePort","selector":{"app":"web"},"ports":[{"port":80}]}}
                    """)).json()
                let address = try #require(service["spec"]?["clusterIP"]?.stringValue)
                #expect(address.hasPrefix("10.43."))
                #expect(service["spec"]?["clusterIPs"] == .array([.string(address)]))
                addresses.insert(address)
                let port = try #require(service["spec"]?["ports"]?.arrayValue?.first)
                #expect(port["targetPort"] == .int(80))
                #expect(port["protocol"] == .string("TCP"))
                #expect((30000...32767).contains(port["nodePort"]?.intValue ?? 0))
            }
            #expect(addresses.count == 5)
            #expect(!addresses.contains("10.43.0.1"))
            let noPorts = try await client.send("POST", "/api/v1/namespaces/default/services", json: try json(#"{"metadata":{"name":"x"},"spec":{}}"#))
            #expect(noPorts.status == 422)
            #expect(try noPorts.json()["message"]?.stringValue == #"Service "x" is invalid: spec.ports: Required value"#)
            let badName = try await client.send("POST", "/api/v1/namespaces/default/services", json: try json(#"{"metadata":{"name":"1abc"},"spec":{"ports":[{"port":1}]}}"#))
            #expect(try badName.json()["message"]?.stringValue?.contains("a DNS-1035 label must consist of") == true)
        }
    }

    @Test func secretsTakeStringDataAsBase64Data() async throws {
        try await withTestServer { server in
            let secret = try await server.client.send("POST", "/api/v1/namespaces/default/secrets",
                                                      json: try json(#"{"metadata":{"name":"s"},"stringData":{"password":"hunter2"}}"#)).json()
            #expect(secret["type"]?.stringValue == "Opaque")
            #expect(secret["data"]?["password"]?.stringValue == "aHVudGVyMg==")
            #expect(secret["stringData"] == nil)
        }
    }

    @Test func bindingAssignsAPodToANodeOnce() async throws {
        try await withTestServer { server in
            let client = server.client
            _ = try await client.send("POST", "/api/v1/namespaces/default/pods", json: try json(podJSON))
            let binding = try json(#"{"apiVersion":"v1","kind":"Binding","metadata":{"name":"web"},"target":{"apiVersion":"v1","kind":"Node","name":"node-1"}}"#)
            let bound = try await client.send("POST", "/api/v1/namespaces/default/pods/web/binding", json: binding)
            #expect(bound.status == 201)
            let pod = try await client.send("GET", "/api/v1/namespaces/default/pods/web").json()
            #expect(pod["spec"]?["nodeName"]?.stringValue == "node-1")
            #expect(pod["status"]?["conditions"]?.arrayValue?.first { $0["type"]?.stringValue == "PodScheduled" }?["status"]?.stringValue == "True")
            let again = try await client.send("POST", "/api/v1/namespaces/default/pods/web/binding", json: binding)
            #expect(again.status == 409)
            #expect(try again.json()["message"]?.stringValue == #"Operation cannot be fulfilled on pods/binding "web": pod web is already assigned to node "node-1""#)
        }
    }

    /// A PUT whose resourceVersion is "0" or empty is unconditional, as the etcd3 store reads
    /// it (issue 17: answered 409 and 400); a stale one is still a conflict.
    @Test func updatesWithResourceVersionZeroOrEmptyAreUnconditional() async throws {
        try await withTestServer { server in
            let client = server.client
            let path = "/api/v1/namespaces/default/configmaps"
            #expect(try await client.send("POST", path, json: try json(#"{"metadata":{"name":"cfg"},"data":{"a":"1"}}"#)).status == 201)
            for (version, value) in [("0", "2"), ("", "3")] {
                let put = try await client.send("PUT", path + "/cfg",
                                                json: try json(#"{"metadata":{"name":"cfg","resourceVersion":"\#(version)"},"data":{"a":"\#(value)"}}"#))
                #expect(put.status == 200, "resourceVersion \(version.debugDescription): \(put.text)")
                #expect(try put.json()["data"]?["a"] == .string(value))
            }
            let stale = try await client.send("PUT", path + "/cfg", json: try json(#"{"metadata":{"name":"cfg","resourceVersion":"1"},"data":{"a":"4"}}"#))
            #expect(stale.status == 409, "\(stale.text)")
            let bad = try await client.send("PUT", path + "/cfg", json: try json(#"{"metadata":{"name":"cfg","resourceVersion":"x1"},"data":{"a":"4"}}"#))
            #expect(bad.status == 400, "\(bad.text)")
        }
    }

    /// A pod update that leaves out what admission defaulted (the service account, priority,
    /// preemptionPolicy) keeps the stored values instead of being refused as a spec change
    /// (issue 17, seen with the Python client's replace); a real spec change is still refused.
    @Test func aPodUpdateWithoutAdmittedFieldsKeepsThem() async throws {
        try await withTestServer { server in
            let client = server.client
            let path = "/api/v1/namespaces/default/pods"
            #expect(try await client.send("POST", path, json: try json(podJSON)).status == 201)
            var pod = try await client.send("GET", path + "/web").json()
            #expect(pod["spec"]?["serviceAccountName"] == .string("default") && pod["spec"]?["priority"] == .int(0))
            for field in ["serviceAccount", "serviceAccountName", "priority", "preemptionPolicy"] {
                pod.set(nil, at: ["spec", field][...])
            }
            pod.set(.object(["team": .string("a")]), at: ["metadata", "labels"][...])
            let put = try await client.send("PUT", path + "/web", json: pod)
            #expect(put.status == 200, "\(put.text)")
            let updated = try put.json()
            #expect(updated["metadata"]?["labels"]?["team"] == .string("a"))
            #expect(updated["spec"]?["serviceAccountName"] == .string("default") && updated["spec"]?["serviceAccount"] == .string("default"))
            #expect(updated["spec"]?["priority"] == .int(0) && updated["spec"]?["preemptionPolicy"] == .string("PreemptLowerPriority"))
            var changed = updated
            changed.set(.string("other"), at: ["spec", "serviceAccountName"][...])
            let refused = try await client.send("PUT", path + "/web", json: changed)
            #expect(refused.status == 422 && refused.text.contains("pod updates may not change fields"), "\(refused.text)")
        }
    }
}
