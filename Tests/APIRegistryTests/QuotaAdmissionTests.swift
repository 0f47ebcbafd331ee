@testable import APIMachinery
@testable import APIRegistry
import APITestSupport
import Foundation
import KubeAPI
import Testing

/// Issue 17: the LimitRanger and ResourceQuota admission plugins on the real store, as
/// kube-apiserver runs them: LimitRange defaults and upstream's annotation, bounds refused
/// with upstream's 403s, quota usage charged on create and refused over quota in upstream's
/// words, constraints on compute resources, dry runs uncharged, and concurrent creates that
/// never overshoot a quota. There is no controller here: the tests write the quota status
/// the resource quota controller would.
@Suite struct QuotaAdmissionTests {
    static func object(_ body: String) throws -> KubeObject {
        guard case .object(let fields) = try json(body) else { throw TestFailure("not a JSON object: \(body)") }
        return KubeObject(fields: fields)
    }

    static func pod(_ name: String, resources: String = "", withInit: Bool = false) -> String {
        let container = #"{"name":"app","image":"busybox"\#(resources.isEmpty ? "" : #","resources":\#(resources)"#)}"#
        let initContainers = withInit ? #""initContainers":[{"name":"setup","image":"busybox"}],"# : ""
        return #"{"metadata":{"name":"\#(name)"},"spec":{\#(initContainers)"containers":[\#(container)]}}"#
    }

    /// Creates a quota and gives it the status the controller would (`used` all zero).
    static func quota(_ api: TestAPI, _ name: String, hard: [String: String], namespace: String = "default",
                      scopes: [String] = []) async throws {
        var spec: [String: JSONValue] = ["hard": .object(hard.mapValues { .string($0) })]
        if !scopes.isEmpty { spec["scopes"] = .array(scopes.map { .string($0) }) }
        var created = try await api.client.create(.resourceQuotas, namespace: namespace, KubeObject(fields: [
            "metadata": .object(["name": .string(name)]), "spec": .object(spec),
        ]))
        created.set(.object(["hard": .object(hard.mapValues { .string($0) }), "used": .object(hard.mapValues { _ in .string("0") })]),
                    at: ["status"])
        _ = try await api.client.update(.resourceQuotas, created, subresource: "status")
    }

    static func used(_ api: TestAPI, _ name: String, namespace: String = "default") async throws -> [String: String] {
        let quota = try await api.client.get(.resourceQuotas, namespace: namespace, name: name)
        return (quota?.value(at: ["status", "used"])?.objectValue ?? [:]).compactMapValues(\.stringValue)
    }

    static func create(_ api: TestAPI, _ ref: ResourceRef, _ body: String, dryRun: Bool = false) async -> Result<KubeObject, APIError> {
        do {
            let object = try Self.object(body)
            let resource = try #require(api.service.registry.resource(group: ref.group, version: ref.group.isEmpty ? "v1" : "v1", name: ref.name))
            return .success(try await api.service.create(object, resource: resource, namespace: "default",
                                                         context: api.service.context(dryRun: dryRun)).0)
        } catch let error as APIError {
            return .failure(error)
        } catch {
            return .failure(APIError.internalError("\(error)"))
        }
    }

    static func message(_ result: Result<KubeObject, APIError>) -> String {
        switch result {
        case .success(let object): return "created \(object.name ?? "")"
        case .failure(let error): return "\(error.code) \(error.message)"
        }
    }

    @Test func limitRangerDefaultsContainersAndAnnotatesThePodAsUpstream() async throws {
        try await withTestAPI { api in
            _ = try await api.client.create(.limitRanges, namespace: "default", Self.object(#"""
                {"metadata":{"name":"defaults"},"spec":{"limits":[{"type":"Container",
                 "default":{"cpu":"200m","memory":"128Mi"},"defaultRequest":{"cpu":"100m","memory":"64Mi"}}]}}
                """#))
            let pod = try await Self.create(api, .pods, Self.pod("web", resources: #"{"limits":{"memory":"256Mi"}}"#, withInit: true)).get()
            let containers = pod.value(at: ["spec", "containers"])?.arrayValue ?? []
            // Upstream defaults a limit's request before admission: memory's request is its limit.
            #expect(containers.first?["resources"] == (try json(#"{"limits":{"cpu":"200m","memory":"256Mi"},"requests":{"cpu":"100m","memory":"256Mi"}}"#)))
            let initContainer = pod.value(at: ["spec", "initContainers"])?.arrayValue?.first
            #expect(initContainer?["resources"] == (try json(#"{"limits":{"cpu":"200m","memory":"128Mi"},"requests":{"cpu":"100m","memory":"64Mi"}}"#)))
            #expect(pod.annotations["kubernetes.io/limit-ranger"]
                    == "LimitRanger plugin set: cpu request for container app; cpu limit for container app; cpu, memory request for init container setup; cpu, memory limit for init container setup")
            // A pod that declares everything is not annotated.
            let full = try await Self.create(api, .pods, Self.pod("full", resources: #"{"limits":{"cpu":"1","memory":"1Gi"},"requests":{"cpu":"1","memory":"1Gi"}}"#)).get()
            #expect(full.annotations["kubernetes.io/limit-ranger"] == nil)
        }
    }

    @Test func limitRangerRefusesContainersAndPodsOutOfBoundsWithUpstreamsMessages() async throws {
        try await withTestAPI { api in
            _ = try await api.client.create(.limitRanges, namespace: "default", Self.object(#"""
                {"metadata":{"name":"bounds"},"spec":{"limits":[
                 {"type":"Container","max":{"cpu":"500m","memory":"512Mi"},"min":{"cpu":"50m"},"default":{"cpu":"200m"},"maxLimitRequestRatio":{"cpu":"4"}},
                 {"type":"Pod","max":{"memory":"600Mi"}}]}}
                """#))
            let big = await Self.create(api, .pods, Self.pod("big", resources: #"{"limits":{"cpu":"1","memory":"1Gi"}}"#))
            #expect(Self.message(big) == #"403 pods "big" is forbidden: [maximum cpu usage per Container is 500m, but limit is 1, maximum memory usage per Container is 512Mi, but limit is 1Gi, maximum memory usage per Pod is 600Mi, but limit is 1Gi]"#)
            let small = await Self.create(api, .pods, Self.pod("small", resources: #"{"requests":{"cpu":"10m"},"limits":{"cpu":"100m","memory":"64Mi"}}"#))
            #expect(Self.message(small) == #"403 pods "small" is forbidden: [minimum cpu usage per Container is 50m, but request is 10m, cpu max limit to request ratio per Container is 4, but provided ratio is 10.000000]"#)
            // The defaults fit: cpu 200m as given, memory's default limit and request from its max.
            let fits = try await Self.create(api, .pods, Self.pod("fits")).get()
            #expect(fits.value(at: ["spec", "containers"])?.arrayValue?.first?["resources"]
                    == (try json(#"{"limits":{"cpu":"200m","memory":"512Mi"},"requests":{"cpu":"200m","memory":"512Mi"}}"#)))
            #expect(try await api.client.list(.pods, namespace: "default").items.compactMap(\.name) == ["fits"])
        }
    }

    @Test func podsAreChargedAndRefusedOverQuotaInUpstreamsWords() async throws {
        try await withTestAPI { api in
            // A quota the controller has not seen yet (no status.hard) restricts nothing, as
            // upstream matches quotas on status.hard; one with limits but no usage figures
            // cannot be checked.
            var fresh = try await api.client.create(.resourceQuotas, namespace: "default", Self.object(#"{"metadata":{"name":"fresh"},"spec":{"hard":{"pods":"5"}}}"#))
            _ = try await Self.create(api, .pods, Self.pod("early")).get()
            fresh.set(try json(#"{"hard":{"pods":"5"}}"#), at: ["status"])
            _ = try await api.client.update(.resourceQuotas, fresh, subresource: "status")
            #expect(Self.message(await Self.create(api, .pods, Self.pod("early2")))
                    == #"403 pods "early2" is forbidden: status unknown for quota: fresh, resources: pods"#)
            _ = try await api.client.delete(.resourceQuotas, namespace: "default", name: "fresh")

            try await Self.quota(api, "q", hard: ["pods": "2", "requests.cpu": "1", "count/configmaps": "1"])
            #expect(Self.message(await Self.create(api, .pods, Self.pod("bare")))
                    == #"403 pods "bare" is forbidden: failed quota: q: must specify requests.cpu for: app"#)
            for name in ["p1", "p2"] {
                _ = try await Self.create(api, .pods, Self.pod(name, resources: #"{"requests":{"cpu":"300m"}}"#)).get()
            }
            #expect(try await Self.used(api, "q") == ["pods": "2", "requests.cpu": "600m", "count/configmaps": "0"])
            #expect(Self.message(await Self.create(api, .pods, Self.pod("p3", resources: #"{"requests":{"cpu":"300m"}}"#)))
                    == #"403 pods "p3" is forbidden: exceeded quota: q, requested: pods=1, used: pods=2, limited: pods=2"#)
            // Over two resources at once: both named, in name order.
            try await Self.quota(api, "tight", hard: ["pods": "1", "requests.cpu": "100m"])
            #expect(Self.message(await Self.create(api, .pods, Self.pod("p4", resources: #"{"requests":{"cpu":"500m"}}"#)))
                    == #"403 pods "p4" is forbidden: exceeded quota: q, requested: pods=1,requests.cpu=500m, used: pods=2,requests.cpu=600m, limited: pods=2,requests.cpu=1"#)
            _ = try await api.client.delete(.resourceQuotas, namespace: "default", name: "q")
            #expect(Self.message(await Self.create(api, .pods, Self.pod("p5", resources: #"{"requests":{"cpu":"500m"}}"#)))
                    == #"403 pods "p5" is forbidden: exceeded quota: tight, requested: requests.cpu=500m, used: requests.cpu=0, limited: requests.cpu=100m"#)
            #expect(try await api.client.list(.pods, namespace: "default").items.compactMap(\.name).sorted() == ["early", "p1", "p2"])
        }
    }

    @Test func objectCountsServicesAndDryRuns() async throws {
        try await withTestAPI { api in
            try await Self.quota(api, "objects", hard: ["count/configmaps": "1", "configmaps": "5", "services.nodeports": "2", "services": "3"])
            _ = try await Self.create(api, .configMaps, #"{"metadata":{"name":"c1"}}"#).get()
            #expect(Self.message(await Self.create(api, .configMaps, #"{"metadata":{"name":"c2"}}"#))
                    == #"403 configmaps "c2" is forbidden: exceeded quota: objects, requested: count/configmaps=1, used: count/configmaps=1, limited: count/configmaps=1"#)
            let nodePort = #"{"metadata":{"name":"NAME"},"spec":{"type":"NodePort","ports":[{"name":"a","port":80},{"name":"b","port":81}]}}"#
            // A dry run is checked but charges nothing.
            _ = try await Self.create(api, .services, nodePort.replacingOccurrences(of: "NAME", with: "dry"), dryRun: true).get()
            #expect(try await Self.used(api, "objects")["services.nodeports"] == "0")
            _ = try await Self.create(api, .services, nodePort.replacingOccurrences(of: "NAME", with: "np")).get()
            #expect(try await Self.used(api, "objects") == ["count/configmaps": "1", "configmaps": "1", "services.nodeports": "2", "services": "1"])
            #expect(Self.message(await Self.create(api, .services, nodePort.replacingOccurrences(of: "NAME", with: "dry2"), dryRun: true))
                    == #"403 services "dry2" is forbidden: exceeded quota: objects, requested: services.nodeports=2, used: services.nodeports=2, limited: services.nodeports=2"#)
            // A ClusterIP service needs no node port.
            var plain = try await Self.create(api, .services, #"{"metadata":{"name":"plain"},"spec":{"ports":[{"port":80}]}}"#).get()
            #expect(try await Self.used(api, "objects")["services"] == "2")
            // Services are charged on update too: turning this one NodePort needs a node port.
            plain.set(.string("NodePort"), at: ["spec", "type"])
            do {
                _ = try await api.client.update(.services, plain)
                Issue.record("a NodePort over quota was stored")
            } catch let error as APIError {
                #expect("\(error.code) \(error.message)" == #"403 services "plain" is forbidden: exceeded quota: objects, requested: services.nodeports=1, used: services.nodeports=2, limited: services.nodeports=2"#)
            } catch {
                Issue.record("\(error)")
            }
            #expect(try await api.client.get(.services, namespace: "default", name: "plain")?.string(at: ["spec", "type"]) == "ClusterIP")
            // Within quota the change is charged only what grew.
            var np = try #require(try await api.client.get(.services, namespace: "default", name: "np"))
            np.set(.string("LoadBalancer"), at: ["spec", "type"])
            _ = try await api.client.update(.services, np)
            #expect(try await Self.used(api, "objects") == ["count/configmaps": "1", "configmaps": "1", "services.nodeports": "2", "services": "2"])
        }
    }

    @Test func scopedQuotasCountOnlyThePodsInTheirScopes() async throws {
        try await withTestAPI { api in
            try await Self.quota(api, "besteffort", hard: ["pods": "1"], scopes: ["BestEffort"])
            try await Self.quota(api, "deadline", hard: ["pods": "1"], scopes: ["Terminating"])
            _ = try await Self.create(api, .pods, Self.pod("be1")).get()
            #expect(Self.message(await Self.create(api, .pods, Self.pod("be2")))
                    == #"403 pods "be2" is forbidden: exceeded quota: besteffort, requested: pods=1, used: pods=1, limited: pods=1"#)
            // Not best effort, no deadline: no quota covers it.
            _ = try await Self.create(api, .pods, Self.pod("burst", resources: #"{"requests":{"memory":"1Mi"}}"#)).get()
            #expect(try await Self.used(api, "besteffort") == ["pods": "1"])
            #expect(try await Self.used(api, "deadline") == ["pods": "0"])
        }
    }

    /// Twenty creates racing for five pods: exactly five are stored and charged; the others
    /// are refused with the quota's message, never by a conflict.
    @Test func concurrentCreatesNeverOvershootTheQuota() async throws {
        try await withTestAPI { api in
            try await Self.quota(api, "five", hard: ["pods": "5"])
            let results = await withTaskGroup(of: Result<KubeObject, APIError>.self) { group in
                for index in 0..<20 {
                    group.addTask { await Self.create(api, .pods, Self.pod("racer-\(index)")) }
                }
                var all: [Result<KubeObject, APIError>] = []
                for await result in group { all.append(result) }
                return all
            }
            let created = results.filter { if case .success = $0 { return true } else { return false } }
            #expect(created.count == 5)
            for case .failure(let error) in results {
                #expect(error.code == 403 && error.message.hasSuffix("is forbidden: exceeded quota: five, requested: pods=1, used: pods=5, limited: pods=5"),
                        "\(error.code) \(error.message)")
            }
            #expect(try await api.client.list(.pods, namespace: "default").items.count == 5)
            #expect(try await Self.used(api, "five") == ["pods": "5"])
        }
    }
}
