import Foundation
import Testing
@testable import KubeAPI

/// Node, Lease and MicroTime against the JSON a Kubernetes API server sends and expects.
@Suite struct NodeTypesTests {
    /// Trimmed from `kubectl get node -o json` of a k3s node, plus fields this module keeps
    /// opaque or does not model (which must not stop decoding).
    static let serverNode = """
    {"apiVersion":"v1","kind":"Node","metadata":{"name":"node1","uid":"5c6e","resourceVersion":"812",
     "labels":{"kubernetes.io/hostname":"node1","node-role.kubernetes.io/control-plane":"true"},
     "creationTimestamp":"2026-11-22T10:00:00Z"},
     "spec":{"podCIDR":"10.42.1.0/24","podCIDRs":["10.42.1.0/24"],"providerID":"k3s://node1",
      "taints":[{"key":"node.kubernetes.io/unreachable","effect":"NoExecute","timeAdded":"2026-11-22T10:05:00Z"}],
      "someFutureField":{"x":1}},
     "status":{"capacity":{"cpu":"2","memory":"8167520Ki","pods":"110","ephemeral-storage":"102626232Ki"},
      "allocatable":{"cpu":"2","memory":"8167520Ki","pods":"110","ephemeral-storage":"99833802265"},
      "conditions":[{"type":"Ready","status":"True","lastHeartbeatTime":"2026-11-22T10:10:00Z",
        "lastTransitionTime":"2026-11-22T10:00:05Z","reason":"KubeletReady","message":"kubelet is posting ready status"}],
      "addresses":[{"type":"InternalIP","address":"10.0.0.11"},{"type":"Hostname","address":"node1"}],
      "daemonEndpoints":{"kubeletEndpoint":{"Port":10250}},
      "nodeInfo":{"machineID":"m1","systemUUID":"u1","bootID":"b1","kernelVersion":"6.1.0-27-amd64",
        "osImage":"Debian GNU/Linux 12 (bookworm)","containerRuntimeVersion":"containerd://1.7.23-k3s2",
        "kubeletVersion":"v1.31.4+k3s1","kubeProxyVersion":"v1.31.4+k3s1","operatingSystem":"linux","architecture":"amd64",
        "swap":{}},
      "images":[{"names":["docker.io/library/busybox:1.36"],"sizeBytes":2160406}],
      "runtimeHandlers":[{"name":"runc","features":{"recursiveReadOnlyMounts":true}}]}}
    """

    @Test func decodesANodeFromAServerIgnoringUnknownFields() throws {
        let node = try JSONDecoder().decode(Node.self, from: Data(Self.serverNode.utf8))
        #expect(node.metadata.name == "node1")
        #expect(node.spec.podCIDR == "10.42.1.0/24")
        #expect(node.spec.taints == [Taint(key: "node.kubernetes.io/unreachable", effect: "NoExecute",
                                           timeAdded: Time(rfc3339: "2026-11-22T10:05:00Z"))])
        #expect(node.status.capacity?["memory"] == (try Quantity("8167520Ki")))
        #expect(node.status.allocatable?["ephemeral-storage"]?.description == "99833802265")
        #expect(node.status.condition("Ready")?.reason == "KubeletReady")
        #expect(node.status.daemonEndpoints?.kubeletEndpoint?.port == 10250)
        #expect(node.status.nodeInfo?.kubeletVersion == "v1.31.4+k3s1")
        #expect(node.status.nodeInfo?.swap == .object([:]))
        #expect(node.status.images?.first?.sizeBytes == 2160406)
    }

    @Test func decodesANodeWithoutSpecOrStatus() throws {
        let node = try JSONDecoder().decode(Node.self, from: Data(#"{"metadata":{"name":"bare"},"status":{"nodeInfo":{}}}"#.utf8))
        #expect(node.spec == NodeSpec())
        #expect(node.status.nodeInfo == NodeSystemInfo())
    }

    @Test func encodesWithKubernetesOmitemptyHabits() throws {
        let node = Node(metadata: ObjectMeta(name: "n"),
                        status: NodeStatus(daemonEndpoints: NodeDaemonEndpoints(kubeletEndpoint: DaemonEndpoint(port: 10250)),
                                           nodeInfo: NodeSystemInfo(architecture: "amd64")))
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let json = String(decoding: try encoder.encode(node), as: UTF8.self)
        // spec is written empty (a Go struct), unset optionals are left out, the endpoint's port
        // is "Port", and nodeInfo's strings are all written (no omitempty upstream).
        #expect(json == #"{"apiVersion":"v1","kind":"Node","metadata":{"name":"n"},"spec":{},"status":{"daemonEndpoints":{"kubeletEndpoint":{"Port":10250}},"nodeInfo":{"architecture":"amd64","bootID":"","containerRuntimeVersion":"","kernelVersion":"","kubeProxyVersion":"","kubeletVersion":"","machineID":"","operatingSystem":"","osImage":"","systemUUID":""}}}"#)
    }

    @Test func nodeRoundTripsThroughJSON() throws {
        let node = try JSONDecoder().decode(Node.self, from: Data(Self.serverNode.utf8))
        let again = try JSONDecoder().decode(Node.self, from: try JSONEncoder().encode(node))
        #expect(again == node)
    }

    @Test func microTimeEncodesSixFractionDigitsInUTC() throws {
        let time = try #require(MicroTime(rfc3339: "2026-11-22T12:00:00.5+02:00"))
        #expect(time.description == "2026-11-22T10:00:00.500000Z")
        #expect(MicroTime(rfc3339: "2026-11-22T10:00:00Z")?.description == "2026-11-22T10:00:00.000000Z")
        // Digits past the microsecond are dropped, not rounded (Go truncates on format).
        #expect(MicroTime(rfc3339: "2026-11-22T10:00:00.123456789Z")?.description == "2026-11-22T10:00:00.123456Z")
        #expect(MicroTime(rfc3339: "2026-11-22T10:00:00.999999Z")?.microseconds == 1_795_341_600_999_999)
        #expect(MicroTime(rfc3339: "2026-11-22T10:00:00.Z") == nil)
        #expect(MicroTime(rfc3339: "2026-11-22 10:00:00Z") == nil)
        #expect(MicroTime(microseconds: -1).description == "1969-12-31T23:59:59.999999Z")
    }

    @Test func leaseRoundTripsWithMicroTimes() throws {
        let json = """
        {"apiVersion":"coordination.k8s.io/v1","kind":"Lease","metadata":{"name":"node1","namespace":"kube-node-lease",
         "ownerReferences":[{"apiVersion":"v1","kind":"Node","name":"node1","uid":"5c6e"}]},
         "spec":{"holderIdentity":"node1","leaseDurationSeconds":40,"renewTime":"2026-11-22T10:10:00.123456Z"}}
        """
        let lease = try JSONDecoder().decode(Lease.self, from: Data(json.utf8))
        #expect(lease.spec.holderIdentity == "node1")
        #expect(lease.spec.leaseDurationSeconds == 40)
        #expect(lease.spec.renewTime?.description == "2026-11-22T10:10:00.123456Z")
        #expect(lease.spec.acquireTime == nil)
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let spec = String(decoding: try encoder.encode(lease.spec), as: UTF8.self)
        #expect(spec == #"{"holderIdentity":"node1","leaseDurationSeconds":40,"renewTime":"2026-11-22T10:10:00.123456Z"}"#)
        #expect(try JSONDecoder().decode(Lease.self, from: try JSONEncoder().encode(lease)) == lease)
    }

    @Test func labelProblemsUseKubernetesMessages() {
        #expect(Node.labelProblems(key: "example.com/disk", value: "ssd").isEmpty)
        #expect(Node.labelProblems(key: "bad key", value: "ok").first?.hasPrefix("key \"bad key\": name part must consist of") == true)
        let long = String(repeating: "v", count: 64)
        #expect(Node.labelProblems(key: "ok", value: long) == ["value \"\(long)\": must be no more than 63 bytes"])
    }

    @Test func taintPrintsAsKubectlDoes() {
        #expect(Taint(key: "dedicated", value: "gpu", effect: "NoSchedule").description == "dedicated=gpu:NoSchedule")
        #expect(Taint(key: "node-role.kubernetes.io/control-plane", effect: "NoSchedule").description
                == "node-role.kubernetes.io/control-plane:NoSchedule")
    }
}
