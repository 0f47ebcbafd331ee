@testable import APIMachinery
@testable import APIServer
import APITestSupport
import Foundation
import KubeAPI
import ServerTestSupport
import Testing

/// Issue 10 item 5 and issue 16: the Node authorizer and NodeRestriction, asserted over HTTPS
/// with real node credentials (joined through the node-credential endpoint, as agents join).
@Suite struct NodeAuthorizationTests {
    static let pods = "/api/v1/namespaces/default/pods"
    static let secrets = "/api/v1/namespaces/default/secrets"
    static let configMaps = "/api/v1/namespaces/default/configmaps"

    static func object(_ kind: String, _ name: String) -> String {
        switch kind {
        case "Secret": return #"{"apiVersion":"v1","kind":"Secret","metadata":{"name":"\#(name)"},"stringData":{"k":"v"}}"#
        case "ConfigMap": return #"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"\#(name)"},"data":{"k":"v"}}"#
        default: return #"{"apiVersion":"v1","kind":"ServiceAccount","metadata":{"name":"\#(name)"}}"#
        }
    }

    /// A pod bound to `node` that names Secrets and ConfigMaps in every way a pod can.
    static let referencingPod = #"""
        {"apiVersion":"v1","kind":"Pod","metadata":{"name":"uses-a"},
         "spec":{"nodeName":"node-a","serviceAccountName":"sa-a","imagePullSecrets":[{"name":"s-pull"}],
                 "volumes":[{"name":"v1","secret":{"secretName":"s-volume"}},{"name":"v2","configMap":{"name":"cm-volume"}},
                            {"name":"v3","projected":{"sources":[{"secret":{"name":"s-projected"}},{"configMap":{"name":"cm-projected"}}]}}],
                 "initContainers":[{"name":"init","image":"busybox","envFrom":[{"secretRef":{"name":"s-envfrom"}}]}],
                 "containers":[{"name":"c","image":"busybox",
                                "env":[{"name":"A","valueFrom":{"secretKeyRef":{"name":"s-env","key":"k"}}},
                                       {"name":"B","valueFrom":{"configMapKeyRef":{"name":"cm-env","key":"k"}}}],
                                "envFrom":[{"configMapRef":{"name":"cm-envfrom"}}]}]}}
        """#

    @Test func aNodeReadsOnlyTheSecretsAndConfigMapsOfPodsBoundToIt() async throws {
        try await withHostileCluster { api in
            let a = try await api.join("node-a")
            let b = try await api.join("node-b")
            let related = ["s-pull", "s-volume", "s-projected", "s-envfrom", "s-env"]
            for name in related + ["s-other", "s-unbound"] {
                #expect(try await api.admin("POST", Self.secrets, Self.object("Secret", name)).status == 201)
            }
            for name in ["cm-volume", "cm-projected", "cm-env", "cm-envfrom", "cm-other"] {
                #expect(try await api.admin("POST", Self.configMaps, Self.object("ConfigMap", name)).status == 201)
            }
            #expect(try await api.admin("POST", "/api/v1/namespaces/default/serviceaccounts", Self.object("ServiceAccount", "sa-a")).status == 201)
            #expect(try await api.admin("POST", Self.pods, Self.referencingPod).status == 201)
            #expect(try await api.admin("POST", Self.pods, #"{"metadata":{"name":"uses-b"},"spec":{"nodeName":"node-b","volumes":[{"name":"v","secret":{"secretName":"s-other"}}],"containers":[{"name":"c","image":"busybox"}]}}"#).status == 201)
            #expect(try await api.admin("POST", Self.pods, #"{"metadata":{"name":"unbound"},"spec":{"volumes":[{"name":"v","secret":{"secretName":"s-unbound"}}],"containers":[{"name":"c","image":"busybox"}]}}"#).status == 201)

            for name in related {
                let response = try await api.client.call(a, "GET", Self.secrets + "/" + name)
                #expect(response.status == 200, "\(name): \(response.text)")
            }
            for name in ["cm-volume", "cm-projected", "cm-env", "cm-envfrom"] {
                #expect(try await api.client.call(a, "GET", Self.configMaps + "/" + name).status == 200, "\(name)")
            }
            #expect(try await api.client.call(a, "GET", "/api/v1/namespaces/default/serviceaccounts/sa-a").status == 200)

            // Another node's, an unbound pod's, or nobody's: no relationship.
            for (path, name, kind) in [(Self.secrets, "s-other", "secrets"), (Self.secrets, "s-unbound", "secrets"),
                                       (Self.configMaps, "cm-other", "configmaps"), (Self.secrets, "node-a.node-password.swiftlet", "secrets")] {
                let namespace = name.hasSuffix("swiftlet") ? "kube-system" : "default"
                let denied = try await api.client.call(a, "GET", path.replacingOccurrences(of: "/default/", with: "/\(namespace)/") + "/" + name)
                #expect(denied.status == 403, "\(name)")
                #expect(message(denied) == #"\#(kind) "\#(name)" is forbidden: User "system:node:node-a" cannot get resource "\#(kind)" in API group "" in the namespace "\#(namespace)": no relationship found between node 'node-a' and this object"#)
            }
            #expect(try await api.client.call(b, "GET", Self.secrets + "/s-other").status == 200)
            #expect(try await api.client.call(b, "GET", Self.secrets + "/s-volume").status == 403)

            // No lists of them; a watch of one object by name (as kubelet watches) is a read of it.
            let list = try await api.client.call(a, "GET", Self.secrets)
            #expect(message(list) == #"secrets is forbidden: User "system:node:node-a" cannot list resource "secrets" in API group "" in the namespace "default": No Object name found"#)
            #expect(try await api.client.call(a, "GET", Self.configMaps).status == 403)
            let watch = try await api.client.call(a, "GET", Self.secrets + "?watch=1&timeoutSeconds=1&fieldSelector=metadata.name%3Ds-env")
            #expect(watch.status == 200, "\(watch.text)")
            #expect(watch.text.contains(#""name":"s-env""#))
            #expect(!watch.text.contains("s-volume"))
            let foreignWatch = try await api.client.call(a, "GET", Self.secrets + "?watch=1&timeoutSeconds=1&fieldSelector=metadata.name%3Ds-other")
            #expect(foreignWatch.status == 403)
            #expect(try await api.client.call(a, "GET", "/api/v1/secrets?fieldSelector=metadata.name%3Ds-env").status == 403)

            // Once the pod is gone, so is the relationship.
            #expect(try await api.admin("DELETE", Self.pods + "/uses-a?gracePeriodSeconds=0").status == 200)
            #expect(try await api.admin("GET", Self.pods + "/uses-a").status == 404)
            #expect(try await api.client.call(a, "GET", Self.secrets + "/s-env").status == 403)
            try await api.expectStoreReadable()
        }
    }

    /// PersistentVolumes: a node gets (only gets) a volume whose claim a pod bound to it uses;
    /// a volume that does not exist is NotFound (how an agent learns its local-path directory
    /// may go); lists and other volumes are refused.
    @Test func aNodeGetsOnlyTheVolumesOfItsPodsClaims() async throws {
        try await withHostileCluster { api in
            let a = try await api.join("node-a")
            let volumes = "/api/v1/persistentvolumes"
            for (volume, claim) in [("pv-mine", "mine"), ("pv-theirs", "theirs")] {
                #expect(try await api.admin("POST", volumes, #"{"metadata":{"name":"\#(volume)"},"spec":{"capacity":{"storage":"1Gi"},"accessModes":["ReadWriteOnce"],"hostPath":{"path":"/srv/\#(volume)"},"claimRef":{"namespace":"default","name":"\#(claim)"}}}"#).status == 201)
            }
            #expect(try await api.admin("POST", Self.pods, #"{"metadata":{"name":"db"},"spec":{"nodeName":"node-a","volumes":[{"name":"v","persistentVolumeClaim":{"claimName":"mine"}}],"containers":[{"name":"c","image":"busybox"}]}}"#).status == 201)
            #expect(try await api.client.call(a, "GET", volumes + "/pv-mine").status == 200)
            let denied = try await api.client.call(a, "GET", volumes + "/pv-theirs")
            #expect(message(denied) == #"persistentvolumes "pv-theirs" is forbidden: User "system:node:node-a" cannot get resource "persistentvolumes" in API group "" at the cluster scope: no relationship found between node 'node-a' and this object"#,
                    "\(denied.text)")
            #expect(try await api.client.call(a, "GET", volumes + "/pv-gone").status == 404)
            let list = try await api.client.call(a, "GET", volumes)
            #expect(list.status == 403, "\(list.text)")
            #expect(try await api.client.call(a, "DELETE", volumes + "/pv-mine").status == 403)
            try await api.expectStoreReadable()
        }
    }

    @Test func nodesReadNoPodLogsAndAnAddresslessNodeIsAClearError() async throws {
        try await withHostileCluster { api in
            let a = try await api.join("node-a")
            for (name, node) in [("web-a", "node-a"), ("web-b", "node-b")] {
                #expect(try await api.admin("POST", Self.pods, #"{"metadata":{"name":"\#(name)"},"spec":{"nodeName":"\#(node)","containers":[{"name":"c","image":"busybox"}]}}"#).status == 201)
            }
            for name in ["web-a", "web-b"] {
                let denied = try await api.client.call(a, "GET", Self.pods + "/\(name)/log")
                #expect(denied.status == 403)
                #expect(message(denied) == #"pods "\#(name)" is forbidden: User "system:node:node-a" cannot get resource "pods/log" in API group "" in the namespace "default""#)
            }
            // The node exists but reports no address: say so, rather than an internal error.
            #expect(try await api.admin("POST", "/api/v1/nodes", #"{"metadata":{"name":"node-b"}}"#).status == 201)
            let addressless = try await api.admin("GET", Self.pods + "/web-b/log")
            #expect(addressless.status == 503)
            #expect(isStatus(addressless, code: 503))
            #expect(message(addressless) == #"cannot read the log of pod "web-b": node "node-b" reports no InternalIP, ExternalIP or Hostname address to reach its kubelet at (status.addresses is empty)"#)
        }
    }

    static func mirror(_ name: String, uid: String, spec: String = "", owners: String? = nil) -> String {
        let ownerReferences = owners ?? #"[{"apiVersion":"v1","kind":"Node","name":"node-a","uid":"\#(uid)","controller":true}]"#
        return #"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"\#(name)","annotations":{"kubernetes.io/config.mirror":"h"},"ownerReferences":\#(ownerReferences)},"spec":{"nodeName":"node-a"\#(spec),"containers":[{"name":"c","image":"busybox"}]}}"#
    }

    @Test func mirrorPodsAreOwnedByTheirNodeAndNameNoOtherObject() async throws {
        try await withHostileCluster { api in
            let a = try await api.join("node-a")
            let created = try await api.client.call(a, "POST", "/api/v1/nodes", #"{"apiVersion":"v1","kind":"Node","metadata":{"name":"node-a"}}"#)
            let uid = try #require(try created.json()["metadata"]?["uid"]?.stringValue)
            let forbidden: [(String, String)] = [
                (#","volumes":[{"name":"v","secret":{"secretName":"s"}}]"#, "secrets"),
                (#","imagePullSecrets":[{"name":"s"}]"#, "secrets"),
                (#","volumes":[{"name":"v","projected":{"sources":[{"configMap":{"name":"c"}}]}}]"#, "configmaps"),
                (#","volumes":[{"name":"v","configMap":{"name":"c"}}]"#, "configmaps"),
                (#","serviceAccountName":"default""#, "a service account"),
                (#","volumes":[{"name":"v","persistentVolumeClaim":{"claimName":"data"}}]"#, "persistentvolumeclaims"),
                (#","volumes":[{"name":"v","projected":{"sources":[{"clusterTrustBundle":{"name":"b","path":"p"}}]}}]"#, "clustertrustbundles"),
            ]
            for (spec, what) in forbidden {
                let response = try await api.client.call(a, "POST", Self.pods, Self.mirror("static-node-a", uid: uid, spec: spec))
                #expect(response.status == 403, "\(spec)")
                #expect(message(response) == #"pods "static-node-a" is forbidden: node "node-a" can not create pods that reference \#(what)"#)
            }
            // An env var from a secret in any container counts too.
            let env = #"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"static-node-a","annotations":{"kubernetes.io/config.mirror":"h"},"ownerReferences":[{"apiVersion":"v1","kind":"Node","name":"node-a","uid":"\#(uid)","controller":true}]},"spec":{"nodeName":"node-a","containers":[{"name":"c","image":"busybox","env":[{"name":"X","valueFrom":{"secretKeyRef":{"name":"s","key":"k"}}}]}]}}"#
            #expect(message(try await api.client.call(a, "POST", Self.pods, env)).hasSuffix("can not create pods that reference secrets"))

            let owners: [(String, String)] = [
                ("[]", #"node "node-a" can only create pods with an owner reference set to itself"#),
                (#"[{"apiVersion":"v1","kind":"Node","name":"node-b","uid":"\#(uid)","controller":true}]"#, #"node "node-a" can only create pods with an owner reference set to itself"#),
                (#"[{"apiVersion":"v1","kind":"Node","name":"node-a","uid":"\#(uid)"}]"#, #"node "node-a" can only create pods with a controller owner reference set to itself"#),
                (#"[{"apiVersion":"v1","kind":"Node","name":"node-a","uid":"\#(uid)","controller":true,"blockOwnerDeletion":true}]"#, #"node "node-a" must not set blockOwnerDeletion on an owner reference"#),
                (#"[{"apiVersion":"v1","kind":"Node","name":"node-a","uid":"other","controller":true}]"#, "node node-a UID mismatch: expected other got \(uid)"),
                (#"[{"apiVersion":"v1","kind":"Node","name":"node-a","uid":"\#(uid)","controller":true},{"apiVersion":"v1","kind":"Node","name":"node-a","uid":"\#(uid)"}]"#,
                 #"node "node-a" can only create pods with a single owner reference set to itself"#),
            ]
            for (references, why) in owners {
                let response = try await api.client.call(a, "POST", Self.pods, Self.mirror("static-node-a", uid: uid, owners: references))
                #expect(response.status == 403, "\(references)")
                #expect(message(response) == #"pods "static-node-a" is forbidden: \#(why)"#)
            }

            let accepted = try await api.client.call(a, "POST", Self.pods, Self.mirror("static-node-a", uid: uid))
            #expect(accepted.status == 201, "\(accepted.text)")
            // Left as the node sent it: no ServiceAccount added (the ServiceAccount plugin skips mirror pods).
            #expect(try accepted.json()["spec"]?["serviceAccountName"] == nil)
            try await api.expectStoreReadable()
        }
    }

    @Test func bearerTokensAreReadExactlyAsKubernetesReadsThem() async throws {
        try await withHostileCluster { api in
            let node = try await api.join("node-a")
            for token in [api.adminToken, node] {
                let doubled = try await api.client.send("GET", "/api/v1/nodes", headers: ["Authorization": "Bearer  \(token)"])
                #expect(doubled.status == 401)
                #expect(isStatus(doubled, code: 401))
                #expect(doubled.headers["warning"] == #"299 - "the provided Authorization header contains extra space before the bearer token, and is ignored""#)
                for header in ["bearer \(token)", "BEARER \(token)", " Bearer \(token) ", "Bearer \(token) trailing words"] {
                    let accepted = try await api.client.send("GET", "/api/v1/nodes", headers: ["Authorization": header])
                    #expect(accepted.status == 200, "\(header.prefix(12))")
                }
                for header in ["Bearer\t\(token)", "Bearer \(token.dropLast())", "Token \(token)", "Bearer", "\(token)"] {
                    let refused = try await api.client.send("GET", "/api/v1/nodes", headers: ["Authorization": header])
                    #expect(refused.status == 401, "\(header.prefix(12))")
                    #expect(refused.headers["warning"] == nil)
                }
            }
        }
    }
}
