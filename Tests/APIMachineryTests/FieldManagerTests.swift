@testable import APIMachinery
import KubeAPI
import Testing

/// Server-side apply's bookkeeping (`FieldManager`, `StructuredValue`, `FieldSet`) over a
/// schema of the shapes Kubernetes gives a Deployment: granular structs and maps, containers
/// keyed by name, ports keyed by port and protocol (protocol defaulting to TCP), finalizers
/// as a set, args atomic. Expected values follow structured-merge-diff's and
/// k8s.io/apimachinery's managedfields tests.
@Suite struct FieldManagerTests {
    struct DeploymentSchema: MergeSchema {
        func fields(of structure: String) -> [String: MergeShape]? {
            switch structure {
            case "Deployment":
                return ["apiVersion": .leaf, "kind": .leaf, "metadata": .structure("ObjectMeta"),
                        "spec": .structure("DeploymentSpec"), "status": .structure("DeploymentStatus")]
            case "ObjectMeta":
                return ["name": .leaf, "namespace": .leaf, "uid": .leaf, "resourceVersion": .leaf, "generation": .leaf,
                        "labels": .map(.leaf), "annotations": .map(.leaf), "finalizers": .set, "managedFields": .leaf,
                        "creationTimestamp": .leaf]
            case "DeploymentSpec":
                return ["replicas": .leaf, "selector": .leaf, "template": .structure("PodTemplateSpec"), "paused": .leaf]
            case "DeploymentStatus":
                return ["replicas": .leaf, "readyReplicas": .leaf]
            case "PodTemplateSpec":
                return ["metadata": .structure("ObjectMeta"), "spec": .structure("PodSpec")]
            case "PodSpec":
                return ["containers": .keyedList(.structure("Container"), keys: ["name"], defaults: [:]), "restartPolicy": .leaf]
            case "Container":
                return ["name": .leaf, "image": .leaf, "args": .leaf,
                        "ports": .keyedList(.structure("ContainerPort"), keys: ["containerPort", "protocol"], defaults: ["protocol": .string("TCP")]),
                        "env": .keyedList(.structure("EnvVar"), keys: ["name"], defaults: [:])]
            case "ContainerPort":
                return ["containerPort": .leaf, "protocol": .leaf, "name": .leaf]
            case "EnvVar":
                return ["name": .leaf, "value": .leaf]
            default:
                return nil
            }
        }
    }

    let manager = FieldManager(schema: DeploymentSchema(), kind: "Deployment", apiVersion: "apps/v1", subresource: "",
                               ignored: FieldSet([[.field("status")]]))

    func json(_ text: String) throws -> JSONValue { try JSONParser.parse(Array(text.utf8)) }

    func deployment(replicas: Int = 2, image: String = "nginx:1", labels: String = #"{"app":"web"}"#) throws -> JSONValue {
        try json(#"""
            {"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","namespace":"default","labels":\#(labels)},
             "spec":{"replicas":\#(replicas),"selector":{"matchLabels":{"app":"web"}},
                     "template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"name":"nginx","image":"\#(image)"}]}}}}
            """#)
    }

    func entries(_ object: JSONValue) -> [[String: JSONValue]] {
        (object["metadata"]?["managedFields"]?.arrayValue ?? []).compactMap(\.objectValue)
    }

    func fields(_ object: JSONValue, _ name: String, _ operation: String = "Update") throws -> FieldSet {
        let entry = try #require(entries(object).first { $0["manager"]?.stringValue == name && $0["operation"]?.stringValue == operation })
        return try FieldSet(fieldsV1: try #require(entry["fieldsV1"]))
    }

    func withManagedFields(_ object: JSONValue, _ managed: JSONValue?) -> JSONValue {
        FieldManager.setting(managed, on: object)
    }

    // MARK: - fieldsV1

    @Test func fieldsV1ReadsAndWritesUpstreamsFormat() throws {
        // What kube-apiserver records for `kubectl create deployment web --image=nginx`.
        let text = #"""
            {"f:metadata":{"f:labels":{".":{},"f:app":{}}},"f:spec":{"f:replicas":{},"f:template":{"f:spec":{
             "f:containers":{"k:{\"name\":\"nginx\"}":{".":{},"f:image":{},"f:name":{}}}}}}}
            """#
        let set = try FieldSet(fieldsV1: try json(text))
        #expect(set.contains([.field("metadata"), .field("labels")]))
        #expect(set.contains([.field("metadata"), .field("labels"), .field("app")]))
        #expect(!set.contains([.field("metadata")]))
        let container = FieldPathElement.key(["name": .string("nginx")])
        #expect(set.contains([.field("spec"), .field("template"), .field("spec"), .field("containers"), container]))
        #expect(set.contains([.field("spec"), .field("template"), .field("spec"), .field("containers"), container, .field("image")]))
        #expect(try FieldSet(fieldsV1: set.fieldsV1) == set)
        #expect(set.fieldsV1 == (try json(text)))
        #expect(container.serialized == #"k:{"name":"nginx"}"#)
        #expect((try FieldPathElement(serialized: #"k:{"protocol":"TCP","containerPort":80}"#)) ==
                .key(["containerPort": .int(80), "protocol": .string("TCP")]))
        #expect((try FieldPathElement(serialized: #"v:"a""#)) == .value(.string("a")))
        #expect((try FieldPathElement(serialized: "i:3")) == .index(3))
    }

    @Test func malformedFieldsV1IsRefusedAndUnknownElementTypesAreSkipped() throws {
        #expect(try FieldSet(fieldsV1: try json(#"{"x:y":{},"f:a":{}}"#)) == FieldSet([[.field("a")]]))
        #expect(throws: FieldsV1Error.self) { try FieldSet(fieldsV1: try json(#"{"k:not json":{}}"#)) }
        #expect(throws: FieldsV1Error.self) { try FieldSet(fieldsV1: try json(#"{"f:a":1}"#)) }
        #expect(throws: FieldsV1Error.self) { try FieldSet(fieldsV1: try json(#"{"i:x":{}}"#)) }
        #expect(throws: FieldsV1Error.self) { try FieldSet(fieldsV1: try json(#"{"q":{}}"#)) }
        #expect(throws: FieldsV1Error.self) { try FieldSet(fieldsV1: .array([])) }
        var deep: JSONValue = .object([:])
        for _ in 0..<100 { deep = .object(["f:a": deep]) }
        #expect(throws: FieldsV1Error.self) { try FieldSet(fieldsV1: deep) }
    }

    @Test func pathsReadAsConflictsPrintThem() {
        let path: [FieldPathElement] = [.field("spec"), .field("template"), .field("spec"), .field("containers"),
                               .key(["name": .string("nginx")]), .field("ports"),
                               .key(["containerPort": .int(80), "protocol": .string("TCP")]), .field("name")]
        #expect(path.pathDescription == #".spec.template.spec.containers[name="nginx"].ports[containerPort=80,protocol="TCP"].name"#)
        #expect([FieldPathElement.field("metadata"), .field("finalizers"), .value(.string("a"))].pathDescription == #".metadata.finalizers[="a"]"#)
    }

    // MARK: - Update

    @Test func aCreateGivesTheCreatorEveryFieldItSetButStatusAndIdentity() throws {
        var created = try deployment()
        created = withManagedFields(created, manager.update(live: nil, new: created, manager: "kubectl-create", now: "2026-12-03T00:00:00Z"))
        let entry = try #require(entries(created).first)
        #expect(entry["manager"] == .string("kubectl-create"))
        #expect(entry["operation"] == .string("Update"))
        #expect(entry["apiVersion"] == .string("apps/v1"))
        #expect(entry["time"] == .string("2026-12-03T00:00:00Z"))
        #expect(entry["fieldsType"] == .string("FieldsV1"))
        let set = try fields(created, "kubectl-create")
        #expect(set.contains([.field("spec"), .field("replicas")]))
        #expect(set.contains([.field("metadata"), .field("labels"), .field("app")]))
        #expect(!set.contains([.field("metadata"), .field("name")]))
        #expect(!set.contains([.field("apiVersion")]))
        #expect(set.below(.field("metadata")).below(.field("name")).isEmpty)
    }

    @Test func anUpdateTakesTheFieldsItChangesFromTheirOwner() throws {
        let original = try deployment()
        let created = withManagedFields(original, manager.update(live: nil, new: original, manager: "kubectl-create", now: "2026-12-03T00:00:00Z"))
        let scaled = withManagedFields(try deployment(replicas: 5), created["metadata"]?["managedFields"])
        let updated = withManagedFields(scaled, manager.update(live: created, new: scaled, manager: "kubectl-scale", now: "2026-12-03T00:01:00Z"))
        #expect(try fields(updated, "kubectl-scale") == FieldSet([[.field("spec"), .field("replicas")]]))
        #expect(!(try fields(updated, "kubectl-create")).contains([.field("spec"), .field("replicas")]))
        #expect((try fields(updated, "kubectl-create")).contains([.field("spec"), .field("template"), .field("metadata"), .field("labels"), .field("app")]))
        // Nothing changed: nothing recorded, the time stays.
        let again = manager.update(live: updated, new: updated, manager: "kubectl-scale", now: "2026-12-03T00:09:00Z")
        #expect(again == updated["metadata"]?["managedFields"])
    }

    @Test func objectsNobodyManagesStayUnmanagedUntilTheFirstApplyButARequestMayResetThem() throws {
        let live = try deployment()
        #expect(manager.update(live: live, new: try deployment(replicas: 3), manager: "kubectl-edit", now: "t") == nil)
        // A request carrying managedFields sets them (how kubectl moves client-side apply's
        // fields to server-side apply); an empty list or one empty entry clears them.
        let managed = withManagedFields(live, manager.update(live: nil, new: live, manager: "kubectl-create", now: "t"))
        let cleared = withManagedFields(try deployment(replicas: 3), .array([.object([:])]))
        #expect(manager.update(live: managed, new: cleared, manager: "kubectl-edit", now: "t") == nil)
    }

    @Test func theUpdateManagersAreCappedAtTenWithTheOldestMerged() throws {
        var object = withManagedFields(try deployment(), manager.update(live: nil, new: try deployment(), manager: "m0", now: "2026-12-03T00:00:00Z"))
        for index in 1...11 {
            // Each manager adds a label of its own, so each keeps something.
            var next = object
            next.set(.string("x"), at: ["metadata", "labels", "m\(index)"])
            let time = "2026-12-03T00:\(index < 10 ? "0" : "")\(index):00Z"
            object = withManagedFields(next, manager.update(live: object, new: next, manager: "m\(index)", now: time))
        }
        let managers = entries(object).compactMap { $0["manager"]?.stringValue }
        #expect(managers.count == 10)
        #expect(managers.contains("ancient-changes"))
        #expect(!managers.contains("m0"))
        #expect(!managers.contains("m1"))
        #expect(managers.contains("m11"))
        // The bucket holds what the merged managers owned.
        #expect((try fields(object, "ancient-changes")).contains([.field("metadata"), .field("labels"), .field("m1")]))
    }

    // MARK: - Apply

    @Test func applyCreatesTakesOwnershipAndConflictsWithOtherManagersUnlessForced() throws {
        let config = try json(#"""
            {"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","labels":{"app":"web"}},
             "spec":{"replicas":2,"template":{"spec":{"containers":[{"name":"nginx","image":"nginx:1"}]}}}}
            """#)
        let applied = try manager.apply(live: nil, config: config, manager: "kubectl", force: false, now: "2026-12-03T00:00:00Z")
        let set = try fields(applied, "kubectl", "Apply")
        // Apply's fields are the config's: no "." on maps the config names (toFieldSet).
        #expect(set.contains([.field("spec"), .field("replicas")]))
        #expect(!set.contains([.field("metadata"), .field("labels")]))
        #expect(set.contains([.field("spec"), .field("template"), .field("spec"), .field("containers"), .key(["name": .string("nginx")]), .field("name")]))
        #expect(entries(applied).first?["apiVersion"] == .string("apps/v1"))

        // Someone scales it; applying the old replicas now conflicts with them.
        var scaled = applied
        scaled.set(.int(4), at: ["spec", "replicas"])
        scaled = withManagedFields(scaled, manager.update(live: applied, new: scaled, manager: "kubectl-scale", now: "2026-12-03T00:01:00Z"))
        #expect(try fields(scaled, "kubectl-scale") == FieldSet([[.field("spec"), .field("replicas")]]))
        #expect(!(try fields(scaled, "kubectl", "Apply")).contains([.field("spec"), .field("replicas")]))
        do {
            _ = try manager.apply(live: scaled, config: config, manager: "kubectl", force: false, now: "2026-12-03T00:02:00Z")
            Issue.record("the apply should conflict")
        } catch FieldManager.ApplyError.conflicts(let conflicts) {
            #expect(conflicts.count == 1)
            #expect(conflicts.first?.manager.description == #""kubectl-scale" using apps/v1"#)
            #expect(conflicts.first?.path.pathDescription == ".spec.replicas")
        } catch {
            Issue.record("unexpected \(error)")
        }
        // Applying the live value is no conflict; forcing takes the field.
        var agreeing = config
        agreeing.set(.int(4), at: ["spec", "replicas"])
        let shared = try manager.apply(live: scaled, config: agreeing, manager: "kubectl", force: false, now: "2026-12-03T00:02:00Z")
        #expect((try fields(shared, "kubectl", "Apply")).contains([.field("spec"), .field("replicas")]))
        #expect((try fields(shared, "kubectl-scale")).contains([.field("spec"), .field("replicas")]))
        let forced = try manager.apply(live: scaled, config: config, manager: "kubectl", force: true, now: "2026-12-03T00:03:00Z")
        #expect(forced["spec"]?["replicas"] == .int(2))
        #expect(!entries(forced).contains { $0["manager"] == .string("kubectl-scale") })
    }

    @Test func fieldsAnApplierStopsApplyingAreRemovedUnlessSomeoneElseOwnsThem() throws {
        let twoContainers = try json(#"""
            {"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","labels":{"app":"web","tier":"front"}},
             "spec":{"template":{"spec":{"containers":[{"name":"a","image":"a:1"},{"name":"b","image":"b:1","args":["x"]}]}}}}
            """#)
        let first = try manager.apply(live: nil, config: twoContainers, manager: "kubectl", force: false, now: "t1")
        // Another manager adds a label; the applier drops container b, its args and label tier.
        var edited = first
        edited.set(.string("x"), at: ["metadata", "labels", "team"])
        edited = withManagedFields(edited, manager.update(live: first, new: edited, manager: "kubectl-label", now: "t2"))
        let oneContainer = try json(#"""
            {"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","labels":{"app":"web"}},
             "spec":{"template":{"spec":{"containers":[{"name":"a","image":"a:2"}]}}}}
            """#)
        let second = try manager.apply(live: edited, config: oneContainer, manager: "kubectl", force: false, now: "t3")
        let containers = second["spec"]?["template"]?["spec"]?["containers"]?.arrayValue ?? []
        #expect(containers.count == 1)
        #expect(containers.first?["image"] == .string("a:2"))
        #expect(second["metadata"]?["labels"] == .object(["app": .string("web"), "team": .string("x")]))
        // Dropping the labels removes the applier's, not the one another manager set.
        let third = try manager.apply(live: second, config: try json(#"""
            {"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web"},
             "spec":{"template":{"spec":{"containers":[{"name":"a","image":"a:2"}]}}}}
            """#), manager: "kubectl", force: false, now: "t4")
        #expect(third["metadata"]?["labels"] == .object(["team": .string("x")]))
    }

    @Test func listsMergeByKeyKeepingBothOrdersAndSetsUnite() throws {
        let live = try json(#"""
            {"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","finalizers":["a","b"]},
             "spec":{"template":{"spec":{"containers":[{"name":"x","image":"x"},{"name":"y","image":"y"},{"name":"z","image":"z"}]}}}}
            """#)
        let config = try json(#"""
            {"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","finalizers":["c","a"]},
             "spec":{"template":{"spec":{"containers":[{"name":"z","image":"z2"},{"name":"n","image":"n"},{"name":"x","image":"x"}]}}}}
            """#)
        let values = StructuredValue(schema: DeploymentSchema())
        let merged = try values.merge(live, config, shape: .structure("Deployment"))
        let names = merged["spec"]?["template"]?["spec"]?["containers"]?.arrayValue?.compactMap { $0["name"]?.stringValue }
        // typed/merge.go: shared elements in the config's order, live-only ones where they were,
        // new ones after the shared element preceding them in the config.
        #expect(names == ["y", "z", "n", "x"])
        #expect(merged["spec"]?["template"]?["spec"]?["containers"]?.arrayValue?[1]["image"] == .string("z2"))
        #expect(merged["metadata"]?["finalizers"] == .array([.string("c"), .string("a"), .string("b")]))
    }

    @Test func keyFieldsWithDefaultsIdentifyElementsThatLeaveThemOut() throws {
        let config = try json(#"""
            {"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web"},
             "spec":{"template":{"spec":{"containers":[{"name":"c","ports":[{"containerPort":80},{"containerPort":53,"protocol":"UDP"}]}]}}}}
            """#)
        let set = try StructuredValue(schema: DeploymentSchema()).fieldSet(of: config, shape: .structure("Deployment"))
        let ports: [FieldPathElement] = [.field("spec"), .field("template"), .field("spec"), .field("containers"), .key(["name": .string("c")]), .field("ports")]
        #expect(set.contains(ports + [.key(["containerPort": .int(80), "protocol": .string("TCP")])]))
        #expect(set.contains(ports + [.key(["containerPort": .int(53), "protocol": .string("UDP")])]))
        // An element without its key cannot be owned: the apply is refused.
        let keyless = try json(#"""
            {"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web"},"spec":{"template":{"spec":{"containers":[{"image":"c"}]}}}}
            """#)
        #expect(throws: FieldManager.ApplyError.self) {
            _ = try manager.apply(live: nil, config: keyless, manager: "kubectl", force: false, now: "t")
        }
    }

    @Test func theFirstApplyToAnUnmanagedObjectConflictsWithBeforeFirstApply() throws {
        let live = try deployment(replicas: 3)
        do {
            _ = try manager.apply(live: live, config: try deployment(replicas: 1), manager: "deployer", force: false, now: "t")
            Issue.record("the apply should conflict")
        } catch FieldManager.ApplyError.conflicts(let conflicts) {
            #expect(conflicts.map(\.manager.description) == [#""before-first-apply" using apps/v1"#])
            #expect(conflicts.map(\.path.pathDescription) == [".spec.replicas"])
        } catch {
            Issue.record("unexpected \(error)")
        }
        let same = try manager.apply(live: live, config: try deployment(replicas: 3), manager: "deployer", force: false, now: "t")
        #expect(entries(same).compactMap { $0["manager"]?.stringValue }.sorted() == ["before-first-apply", "deployer"])
    }

    @Test func kubectlMovingFromClientSideApplyMayChangeWhatItLastApplied() throws {
        // `kubectl apply` (client side) created it; `kubectl apply --server-side` then changes a
        // value it had applied itself: allowed (lastAppliedManager). A value someone else set
        // since is a conflict.
        var live = try deployment(replicas: 2)
        let lastApplied = String(decoding: JSONSerializer.serialize(live), as: UTF8.self)
        live.set(.string(lastApplied), at: ["metadata", "annotations", FieldManager.lastAppliedAnnotation])
        live = withManagedFields(live, manager.update(live: nil, new: live, manager: "kubectl-client-side-apply", now: "t1"))
        let applied = try manager.apply(live: live, config: try deployment(replicas: 3), manager: "kubectl", force: false, now: "t2")
        #expect(applied["spec"]?["replicas"] == .int(3))
        // The annotation now holds what was applied server-side.
        let annotation = try #require(applied["metadata"]?["annotations"]?[FieldManager.lastAppliedAnnotation]?.stringValue)
        #expect(try json(annotation)["spec"]?["replicas"] == .int(3))

        var image = live
        image.set(.array([.object(["name": .string("nginx"), "image": .string("nginx:2")])]), at: ["spec", "template", "spec", "containers"])
        image = withManagedFields(image, manager.update(live: live, new: image, manager: "kubectl-set", now: "t3"))
        #expect(throws: FieldManager.ApplyError.self) {
            _ = try manager.apply(live: image, config: try deployment(replicas: 3, image: "nginx:3"), manager: "kubectl", force: false, now: "t4")
        }
    }

    @Test func theManagerOfAWriteIsItsFieldManagerOrItsUserAgent() {
        #expect(FieldManager.manager(fieldManager: "helm", userAgent: "kubectl/v1.32.0 (linux/amd64)") == "helm")
        #expect(FieldManager.manager(fieldManager: nil, userAgent: "kubectl/v1.32.0 (linux/amd64) kubernetes/abc") == "kubectl")
        #expect(FieldManager.manager(fieldManager: "", userAgent: "Go-http-client/1.1") == "Go-http-client")
        #expect(FieldManager.manager(fieldManager: nil, userAgent: String(repeating: "a", count: 300)).utf8.count == 128)
        #expect(FieldManager.manager(fieldManager: nil, userAgent: nil) == "")
    }
}
