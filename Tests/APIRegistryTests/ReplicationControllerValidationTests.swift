@testable import APIMachinery
@testable import APIRegistry
import APITestSupport
import Foundation
import KubeAPI
import Testing

/// core/v1 ReplicationControllers and PodTemplates through the in-process API: the defaults
/// of `SetDefaults_ReplicationController`, `ValidateReplicationController`'s and
/// `ValidatePodTemplate`'s messages and field paths, status and generation handling, and the
/// scale subresource's view.
@Suite struct ReplicationControllerValidationTests {
    static func rc(_ name: String = "web", replicas: String? = "2", selector: String? = #"{"app":"web"}"#,
                   labels: String = #"{"app":"web","tier":"front"}"#, templateSpec: String = #"{"containers":[{"name":"c","image":"busybox"}]}"#,
                   extraSpec: String = "", extraTop: String = "") -> String {
        var spec: [String] = []
        if let replicas { spec.append(#""replicas":\#(replicas)"#) }
        if let selector { spec.append(#""selector":\#(selector)"#) }
        spec.append(#""template":{"metadata":{"labels":\#(labels)},"spec":\#(templateSpec)}"#)
        if !extraSpec.isEmpty { spec.append(extraSpec) }
        return #"{"apiVersion":"v1","kind":"ReplicationController","metadata":{"name":"\#(name)"},"spec":{\#(spec.joined(separator: ","))}\#(extraTop)}"#
    }

    static func object(_ json: String) throws -> KubeObject {
        guard case .object(let fields) = try JSONParser.parse(Array(json.utf8)) else { throw TestFailure("not a JSON object: \(json)") }
        return KubeObject(fields: fields)
    }

    /// The error of creating `json` as `ref`, nil when it was created.
    static func createError(_ api: TestAPI, _ ref: ResourceRef, _ json: String) async throws -> APIError? {
        do {
            _ = try await api.client.create(ref, namespace: "default", try object(json))
            return nil
        } catch let error as APIError {
            return error
        }
    }

    @Test func defaultsSelectorLabelsReplicasAndResetsStatus() async throws {
        try await withTestAPI { api in
            let json = Self.rc(replicas: nil, selector: nil, extraTop: #","status":{"replicas":7,"readyReplicas":7}"#)
            let created = try await api.client.create(.replicationControllers, namespace: "default", try Self.object(json))
            #expect(created.value(at: ["spec", "selector"]) == .object(["app": .string("web"), "tier": .string("front")]))
            #expect(created.labels == ["app": "web", "tier": "front"])
            #expect(created.value(at: ["spec", "replicas"])?.intValue == 1)
            #expect(created.value(at: ["status"]) == .object(["replicas": .int(0)]), "the status a client sends is dropped")
            #expect(created.generation == 1)
            #expect(created.string(at: ["spec", "template", "spec", "restartPolicy"]) == "Always")
            #expect(created.string(at: ["spec", "template", "spec", "dnsPolicy"]) == "ClusterFirst")
            #expect(created.apiVersion == "v1" && created.kind == "ReplicationController")

            // Labels of its own are kept; a selector given is not replaced.
            let own = try await api.client.create(.replicationControllers, namespace: "default",
                                                  try Self.object(Self.rc("own", extraTop: "").replacingOccurrences(
                                                      of: #""metadata":{"name":"own"}"#, with: #""metadata":{"name":"own","labels":{"team":"a"}}"#)))
            #expect(own.labels == ["team": "a"])
            #expect(own.value(at: ["spec", "selector"]) == .object(["app": .string("web")]))
        }
    }

    @Test func refusesWhatKubernetesRefuses() async throws {
        try await withTestAPI { api in
            let mismatch = try await Self.createError(api, .replicationControllers, Self.rc(selector: #"{"app":"other"}"#))
            #expect(mismatch?.code == 422)
            #expect(mismatch?.message == #"ReplicationController "web" is invalid: spec.template.metadata.labels: Invalid value: map[string]string{"app":"web", "tier":"front"}: `selector` does not match template `labels`"#,
                    "\(String(describing: mismatch))")
            let negative = try await Self.createError(api, .replicationControllers, Self.rc(replicas: "-1"))
            #expect(negative?.message == #"ReplicationController "web" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0"#,
                    "\(String(describing: negative))")
            let never = try await Self.createError(api, .replicationControllers,
                                                   Self.rc(templateSpec: #"{"restartPolicy":"Never","containers":[{"name":"c","image":"busybox"}]}"#))
            #expect(never?.message == #"ReplicationController "web" is invalid: spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: "Always""#,
                    "\(String(describing: never))")
            let deadline = try await Self.createError(api, .replicationControllers,
                                                      Self.rc(templateSpec: #"{"activeDeadlineSeconds":5,"containers":[{"name":"c","image":"busybox"}]}"#))
            #expect(deadline?.message.contains("spec.template.spec.activeDeadlineSeconds: Invalid value: 5: must not be specified") == true)
            let minReady = try await Self.createError(api, .replicationControllers, Self.rc(extraSpec: #""minReadySeconds":-3"#))
            #expect(minReady?.message.contains("spec.minReadySeconds: Invalid value: -3: must be greater than or equal to 0") == true)
            // No template labels: nothing to default the selector from.
            let bare = #"{"metadata":{"name":"bare"},"spec":{"replicas":1}}"#
            let required = try await Self.createError(api, .replicationControllers, bare)
            #expect(required?.message == #"ReplicationController "bare" is invalid: [spec.selector: Required value, spec.template: Required value]"#,
                    "\(String(describing: required))")
            let badLabel = try await Self.createError(api, .replicationControllers,
                                                      Self.rc(selector: #"{"app":"-x"}"#, labels: #"{"app":"-x"}"#))
            #expect(badLabel?.message.contains(#"spec.template.labels: Invalid value: "-x": a valid label must be"#) == true,
                    "\(String(describing: badLabel))")
            let badContainer = try await Self.createError(api, .replicationControllers,
                                                          Self.rc(templateSpec: #"{"containers":[{"name":"C_1","image":"busybox"}]}"#))
            #expect(badContainer?.message.contains("spec.template.spec.containers[0].name: Invalid value: \"C_1\"") == true,
                    "\(String(describing: badContainer))")
            #expect(try await api.client.list(.replicationControllers, namespace: "default").items.isEmpty)
        }
    }

    /// Kubernetes decodes `replicas` into an int32: a larger number is a decoding error (400),
    /// on the object and on its scale subresource.
    @Test func refusesReplicaCountsBeyondInt32() async throws {
        try await withTestAPI { api in
            let huge = try await Self.createError(api, .replicationControllers, Self.rc(replicas: "3000000000"))
            #expect(huge?.code == 400)
            #expect(huge?.message == #"ReplicationController in version "v1" cannot be handled as a ReplicationController: json: cannot unmarshal number 3000000000 into Go struct field ReplicationControllerSpec.spec.replicas of type int32"#,
                    "\(String(describing: huge))")
            #expect(try await Self.createError(api, .replicationControllers, Self.rc(replicas: "2147483647")) == nil, "int32's largest is a valid count")

            let resource = try #require(api.service.registry.resource(group: "", version: "v1", name: "replicationcontrollers"))
            do {
                _ = try await api.service.updateScale(resource: resource, namespace: "default", name: "web",
                                                      scale: try Self.object(#"{"spec":{"replicas":4294967296}}"#), context: api.service.context())
                Issue.record("a scale beyond int32 was accepted")
            } catch let error as APIError {
                #expect(error.code == 400)
                #expect(error.message.contains("cannot unmarshal number 4294967296 into Go struct field ScaleSpec.spec.replicas of type int32"))
            }
        }
    }

    /// Hostile and mistaken bodies: an apps/v1-style selector object, numbers as strings, a
    /// selector value that is not a string, a template that is not an object.
    @Test func refusesBodiesOfTheWrongShape() async throws {
        try await withTestAPI { api in
            let appsSelector = try await Self.createError(api, .replicationControllers, Self.rc(selector: #"{"matchLabels":{"app":"web"}}"#))
            #expect(appsSelector?.code == 400)
            #expect(appsSelector?.message == #"ReplicationController in version "v1" cannot be handled as a ReplicationController: json: cannot unmarshal object into Go struct field ReplicationControllerSpec.spec.selector of type string"#,
                    "\(String(describing: appsSelector))")
            let stringReplicas = try await Self.createError(api, .replicationControllers, Self.rc(replicas: #""3""#))
            #expect(stringReplicas?.code == 400)
            // Upstream ends with "of type int32"; the schema tables do not tell int32 from int64 (all kinds).
            #expect(stringReplicas?.message.contains("json: cannot unmarshal string into Go struct field ReplicationControllerSpec.spec.replicas of type") == true,
                    "\(String(describing: stringReplicas))")
            let numberLabel = try await Self.createError(api, .replicationControllers, Self.rc(selector: #"{"app":7}"#))
            #expect(numberLabel?.code == 400, "\(String(describing: numberLabel))")
            let notObject = try await Self.createError(api, .replicationControllers,
                                                       #"{"metadata":{"name":"x"},"spec":{"selector":{"app":"web"},"template":"pod"}}"#)
            #expect(notObject?.code == 400, "\(String(describing: notObject))")
            let fraction = try await Self.createError(api, .replicationControllers, Self.rc(replicas: "1.5"))
            #expect(fraction?.code == 400, "\(String(describing: fraction))")
            let templateName = try await Self.createError(api, .podTemplates, #"{"metadata":{"name":"Not_Valid"},"template":{"spec":{"containers":[{"name":"c","image":"busybox"}]}}}"#)
            #expect(templateName?.code == 422)
            #expect(templateName?.message.contains(#"metadata.name: Invalid value: "Not_Valid""#) == true, "\(String(describing: templateName))")
            #expect(try await api.client.list(.replicationControllers, namespace: "default").items.isEmpty)
        }
    }

    /// Quotas count RCs by their legacy name and by `count/replicationcontrollers`, and
    /// PodTemplates by `count/podtemplates` (upstream's object-count evaluators).
    @Test func quotasCountThem() async throws {
        try await withTestAPI { api in
            try await QuotaAdmissionTests.quota(api, "objects", hard: ["replicationcontrollers": "1", "count/podtemplates": "1"])
            #expect(QuotaAdmissionTests.message(await QuotaAdmissionTests.create(api, .replicationControllers, Self.rc("a"))) == "created a")
            #expect(QuotaAdmissionTests.message(await QuotaAdmissionTests.create(api, .replicationControllers, Self.rc("b")))
                    == #"403 replicationcontrollers "b" is forbidden: exceeded quota: objects, requested: replicationcontrollers=1, used: replicationcontrollers=1, limited: replicationcontrollers=1"#)
            let template = #"{"metadata":{"name":"NAME"},"template":{"spec":{"containers":[{"name":"c","image":"busybox"}]}}}"#
            #expect(QuotaAdmissionTests.message(await QuotaAdmissionTests.create(api, .podTemplates, template.replacingOccurrences(of: "NAME", with: "t1")))
                    == "created t1")
            #expect(QuotaAdmissionTests.message(await QuotaAdmissionTests.create(api, .podTemplates, template.replacingOccurrences(of: "NAME", with: "t2")))
                    == #"403 podtemplates "t2" is forbidden: exceeded quota: objects, requested: count/podtemplates=1, used: count/podtemplates=1, limited: count/podtemplates=1"#)
        }
    }

    @Test func updatesKeepStatusTrackGenerationAndMayChangeTheSelector() async throws {
        try await withTestAPI { api in
            let created = try await api.client.create(.replicationControllers, namespace: "default", try Self.object(Self.rc()))
            var withStatus = created
            withStatus.set(.object(["replicas": .int(2), "readyReplicas": .int(1), "availableReplicas": .int(1),
                                    "fullyLabeledReplicas": .int(2), "observedGeneration": .int(1)]), at: ["status"])
            let statusWritten = try await api.client.update(.replicationControllers, withStatus, subresource: "status")
            #expect(statusWritten.value(at: ["status", "readyReplicas"])?.intValue == 1)
            #expect(statusWritten.generation == 1, "a status write is no spec change")

            // The main resource ignores status and bumps the generation on a spec change.
            let patched = try await api.client.patch(.replicationControllers, namespace: "default", name: "web",
                                                     try JSONParser.parse(Array(#"{"spec":{"replicas":5},"status":{"replicas":9}}"#.utf8)))
            #expect(patched.generation == 2)
            #expect(patched.value(at: ["status", "replicas"])?.intValue == 2)
            // The selector may change (apps/v1's may not), as long as it matches the template.
            let reselected = try await api.client.patch(.replicationControllers, namespace: "default", name: "web",
                                                        try JSONParser.parse(Array(#"{"spec":{"selector":{"app":null,"tier":"front"}}}"#.utf8)))
            #expect(reselected.value(at: ["spec", "selector"]) == .object(["tier": .string("front")]))
            #expect(reselected.generation == 3)

            var bad = reselected
            bad.set(.object(["replicas": .int(1), "readyReplicas": .int(2), "availableReplicas": .int(3)]), at: ["status"])
            do {
                _ = try await api.client.update(.replicationControllers, bad, subresource: "status")
                Issue.record("an impossible status was accepted")
            } catch let error as APIError {
                #expect(error.code == 422)
                #expect(error.message.contains("status.readyReplicas: Invalid value: 2: cannot be greater than status.replicas"), "\(error.message)")
                #expect(error.message.contains("status.availableReplicas: Invalid value: 3: cannot be greater than readyReplicas"), "\(error.message)")
            }
        }
    }

    @Test func scaleSubresourceShowsTheEqualitySelector() async throws {
        try await withTestAPI { api in
            let created = try await api.client.create(.replicationControllers, namespace: "default",
                                                      try Self.object(Self.rc(selector: #"{"tier":"front","app":"web"}"#)))
            let scale = api.service.scale(of: created)
            #expect(scale.string(at: ["status", "selector"]) == "app=web,tier=front")
            #expect(scale.value(at: ["spec", "replicas"])?.intValue == 2)
            let resource = try #require(api.service.registry.resource(group: "", version: "v1", name: "replicationcontrollers"))
            let scaled = try await api.service.updateScale(resource: resource, namespace: "default", name: "web",
                                                           scale: try Self.object(#"{"spec":{"replicas":0}}"#), context: api.service.context())
            #expect(scaled.value(at: ["spec", "replicas"])?.intValue == 0)
            #expect(try await api.client.get(.replicationControllers, namespace: "default", name: "web")?.value(at: ["spec", "replicas"])?.intValue == 0)
        }
    }

    @Test func podTemplatesGetPodDefaultsValidationAndGenerations() async throws {
        try await withTestAPI { api in
            let json = #"{"apiVersion":"v1","kind":"PodTemplate","metadata":{"name":"tpl"},"template":{"metadata":{"labels":{"app":"web"}},"spec":{"restartPolicy":"Never","containers":[{"name":"c","image":"busybox"}]}}}"#
            let created = try await api.client.create(.podTemplates, namespace: "default", try Self.object(json))
            #expect(created.generation == 1)
            #expect(created.string(at: ["template", "spec", "restartPolicy"]) == "Never", "any restart policy is fine in a PodTemplate")
            #expect(created.string(at: ["template", "spec", "terminationMessagePolicy"]) == nil)
            #expect(created.value(at: ["template", "spec", "containers"])?.arrayValue?.first?["terminationMessagePolicy"]?.stringValue == "File")

            let relabelled = try await api.client.patch(.podTemplates, namespace: "default", name: "tpl",
                                                        try JSONParser.parse(Array(#"{"metadata":{"annotations":{"a":"b"}}}"#.utf8)))
            #expect(relabelled.generation == 1, "metadata is not the template")
            let changed = try await api.client.patch(.podTemplates, namespace: "default", name: "tpl",
                                                     try JSONParser.parse(Array(#"{"template":{"metadata":{"labels":{"app":"api"}}}}"#.utf8)))
            #expect(changed.generation == 2)

            let badLabel = try await Self.createError(api, .podTemplates,
                                                      json.replacingOccurrences(of: #""name":"tpl""#, with: #""name":"bad""#)
                                                          .replacingOccurrences(of: #"{"app":"web"}"#, with: #"{"app":"a b"}"#))
            #expect(badLabel?.message.contains(#"PodTemplate "bad" is invalid: template.labels: Invalid value: "a b""#) == true,
                    "\(String(describing: badLabel))")
            let noContainers = try await Self.createError(api, .podTemplates,
                                                          #"{"metadata":{"name":"empty"},"template":{"spec":{"containers":[]}}}"#)
            #expect(noContainers?.message.contains("template.spec.containers: Required value") == true, "\(String(describing: noContainers))")
            let ephemeral = try await Self.createError(api, .podTemplates,
                                                       #"{"metadata":{"name":"eph"},"template":{"spec":{"containers":[{"name":"c","image":"busybox"}],"ephemeralContainers":[{"name":"d","image":"busybox"}]}}}"#)
            #expect(ephemeral?.message.contains("template.spec.ephemeralContainers: Forbidden: ephemeral containers not allowed in pod template") == true,
                    "\(String(describing: ephemeral))")
        }
    }
}
