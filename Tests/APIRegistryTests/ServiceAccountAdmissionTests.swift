@testable import APIMachinery
@testable import APIRegistry
import APITestSupport
import Foundation
import KubeAPI
import Testing

/// Issue 16: the ServiceAccount admission plugin on new pods: the `kube-api-access-XXXXX`
/// projected volume exactly as kube-apiserver adds it, automountServiceAccountToken, missing
/// accounts refused with upstream's message, mirror pods left alone.
@Suite struct ServiceAccountAdmissionTests {
    static let serviceAccounts = ResourceRef(group: "", name: "serviceaccounts")

    static func object(_ text: String) throws -> KubeObject {
        guard case .object(let fields) = try JSONParser.parse(Array(text.utf8)) else { throw TestFailure("not an object: \(text)") }
        return KubeObject(fields: fields)
    }

    static func pod(_ name: String, spec: String = "", annotations: String = "") -> String {
        #"{"metadata":{"name":"\#(name)","annotations":{\#(annotations)}},"spec":{\#(spec)"initContainers":[{"name":"init","image":"busybox"}],"containers":[{"name":"a","image":"busybox"},{"name":"b","image":"busybox","volumeMounts":[{"name":"mine","mountPath":"/var/run/secrets/kubernetes.io/serviceaccount"}]}],"volumes":[{"name":"mine","emptyDir":{}}]}}"#
    }

    static let mountPath = "/var/run/secrets/kubernetes.io/serviceaccount"

    @Test func aPodGetsTheKubeAPIAccessVolumeAsUpstreamAddsIt() async throws {
        try await withTestAPI { api in
            let pod = try await api.client.create(.pods, namespace: "default", Self.object(Self.pod("web")))
            #expect(pod.string(at: ["spec", "serviceAccountName"]) == "default")
            let volumes = pod.value(at: ["spec", "volumes"])?.arrayValue ?? []
            #expect(volumes.count == 2)
            let volume = try #require(volumes.last)
            let name = try #require(volume["name"]?.stringValue)
            #expect(name.count == "kube-api-access-".count + 5 && name.hasPrefix("kube-api-access-"))
            #expect(name.dropFirst("kube-api-access-".count).allSatisfy { "bcdfghjklmnpqrstvwxz2456789".contains($0) })
            // Upstream TokenVolumeSource(), defaultMode 0644 set explicitly.
            let expected = try JSONParser.parse(Array(#"""
                {"defaultMode":420,"sources":[
                  {"serviceAccountToken":{"expirationSeconds":3607,"path":"token"}},
                  {"configMap":{"name":"kube-root-ca.crt","items":[{"key":"ca.crt","path":"ca.crt"}]}},
                  {"downwardAPI":{"items":[{"path":"namespace","fieldRef":{"apiVersion":"v1","fieldPath":"metadata.namespace"}}]}}]}
                """#.utf8))
            #expect(volume["projected"] == expected)
            let mount: JSONValue = .object(["name": .string(name), "readOnly": .bool(true), "mountPath": .string(Self.mountPath)])
            #expect(pod.value(at: ["spec", "initContainers"])?.arrayValue?[0]["volumeMounts"] == .array([mount]))
            let containers = pod.value(at: ["spec", "containers"])?.arrayValue ?? []
            #expect(containers[0]["volumeMounts"] == .array([mount]))
            // A container with its own mount at that path keeps it alone.
            #expect(containers[1]["volumeMounts"]?.arrayValue?.count == 1)
            #expect(containers[1]["volumeMounts"]?.arrayValue?[0]["name"] == .string("mine"))

            // Two pods get different volume names; a pod that has one keeps it.
            let second = try await api.client.create(.pods, namespace: "default", Self.object(Self.pod("web-2")))
            let names = [pod, second].compactMap { $0.value(at: ["spec", "volumes"])?.arrayValue?.last?["name"]?.stringValue }
            #expect(names.count == 2 && names[0] != names[1])
            let own = #"{"metadata":{"name":"own"},"spec":{"containers":[{"name":"a","image":"busybox"}],"volumes":[{"name":"kube-api-access-abcde","emptyDir":{}}]}}"#
            let kept = try await api.client.create(.pods, namespace: "default", Self.object(own))
            #expect(kept.value(at: ["spec", "volumes"])?.arrayValue?.count == 1)
            #expect(kept.value(at: ["spec", "containers"])?.arrayValue?[0]["volumeMounts"]?.arrayValue?[0]["name"] == .string("kube-api-access-abcde"))
        }
    }

    @Test func automountServiceAccountTokenFalseOnThePodOrItsAccountMountsNothing() async throws {
        try await withTestAPI { api in
            _ = try await api.client.create(Self.serviceAccounts, namespace: "default",
                                            Self.object(#"{"metadata":{"name":"quiet"},"automountServiceAccountToken":false,"imagePullSecrets":[{"name":"registry"}]}"#))
            let simple = #"{"metadata":{"name":"NAME"},"spec":{SPEC"containers":[{"name":"a","image":"busybox"}]}}"#
            func create(_ name: String, _ spec: String) async throws -> KubeObject {
                try await api.client.create(.pods, namespace: "default", Self.object(simple.replacingOccurrences(of: "NAME", with: name)
                    .replacingOccurrences(of: "SPEC", with: spec)))
            }
            let podSays = try await create("pod-false", #""automountServiceAccountToken":false,"#)
            #expect(podSays.value(at: ["spec", "volumes"]) == nil)
            #expect(podSays.value(at: ["spec", "containers"])?.arrayValue?[0]["volumeMounts"] == nil)
            let accountSays = try await create("account-false", #""serviceAccountName":"quiet","#)
            #expect(accountSays.value(at: ["spec", "volumes"]) == nil)
            // The account's imagePullSecrets go to a pod without any.
            #expect(accountSays.value(at: ["spec", "imagePullSecrets"]) == .array([.object(["name": .string("registry")])]))
            // The pod's field wins over the account's.
            let podWins = try await create("pod-true", #""serviceAccountName":"quiet","automountServiceAccountToken":true,"#)
            #expect(podWins.value(at: ["spec", "volumes"])?.arrayValue?.count == 1)
            // The deprecated `serviceAccount` field names the account too.
            let legacy = try await create("legacy", #""serviceAccount":"quiet","#)
            #expect(legacy.string(at: ["spec", "serviceAccountName"]) == "quiet")
            #expect(legacy.value(at: ["spec", "volumes"]) == nil)
        }
    }

    @Test func aMissingAccountIsRefusedWithUpstreamsMessage() async throws {
        try await withTestAPI { api in
            do {
                _ = try await api.client.create(.pods, namespace: "default", Self.object(
                    #"{"metadata":{"name":"orphan"},"spec":{"serviceAccountName":"ghost","containers":[{"name":"a","image":"busybox"}]}}"#))
                Issue.record("a pod naming a missing service account was created")
            } catch let error as APIError {
                #expect(error.code == 403)
                #expect(error.message == #"pods "orphan" is forbidden: error looking up service account default/ghost: serviceaccount "ghost" not found"#)
            }
            // `default` is waited for (about a second) and then refused the same way.
            _ = try await api.client.delete(Self.serviceAccounts, namespace: "default", name: "default")
            do {
                _ = try await api.client.create(.pods, namespace: "default", Self.object(#"{"metadata":{"name":"p"},"spec":{"containers":[{"name":"a","image":"busybox"}]}}"#))
                Issue.record("a pod without its default service account was created")
            } catch let error as APIError {
                #expect(error.message.hasSuffix(#"error looking up service account default/default: serviceaccount "default" not found"#))
            }
        }
    }

    @Test func mirrorPodsGetNoAccountAndNoVolume() async throws {
        try await withTestAPI { api in
            let mirror = try await api.client.create(.pods, namespace: "default", Self.object(
                #"{"metadata":{"name":"static-web","annotations":{"kubernetes.io/config.mirror":"abc"}},"spec":{"nodeName":"n","containers":[{"name":"a","image":"busybox"}]}}"#))
            #expect(mirror.value(at: ["spec", "volumes"]) == nil)
            #expect(mirror.string(at: ["spec", "serviceAccountName"]) == nil)
        }
    }
}
