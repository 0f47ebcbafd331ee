@testable import APIMachinery
@testable import APIRegistry
import APITestSupport
import KubeAPI
import Testing

@Suite struct StrategicMergePatchTests {
    let deployment = """
        {"metadata":{"name":"web","finalizers":["a"]},"spec":{"template":{"spec":{"containers":[
          {"name":"web","image":"nginx:1.25","ports":[{"containerPort":80},{"containerPort":443}],"env":[{"name":"A","value":"1"}]},
          {"name":"side","image":"busybox"}]}}}}
        """

    @Test func containersMergeByNameAndPortsByNumber() throws {
        let patched = try StrategicMergePatch.apply(try json("""
            {"spec":{"template":{"spec":{"containers":[{"name":"side","image":"busybox:1.36"},
              {"name":"web","ports":[{"containerPort":8080}],"env":[{"name":"B","value":"2"}]}]}}}}
            """), to: try json(deployment), kind: "Deployment")
        let containers = patched["spec"]?["template"]?["spec"]?["containers"]?.arrayValue ?? []
        #expect(containers.compactMap { $0["name"]?.stringValue } == ["web", "side"])
        #expect(containers[1]["image"] == .string("busybox:1.36"))
        #expect(containers[0]["image"] == .string("nginx:1.25"))
        #expect(containers[0]["ports"]?.arrayValue?.compactMap { $0["containerPort"]?.intValue } == [80, 443, 8080])
        #expect(containers[0]["env"]?.arrayValue?.compactMap { $0["name"]?.stringValue } == ["A", "B"])
    }

    @Test func directives() throws {
        let patched = try StrategicMergePatch.apply(try json("""
            {"metadata":{"$deleteFromPrimitiveList/finalizers":["a"]},
             "spec":{"template":{"spec":{
               "$setElementOrder/containers":[{"name":"side"},{"name":"web"}],
               "containers":[{"name":"web","$patch":"delete"},{"name":"new","image":"x"}]}}}}
            """), to: try json(deployment), kind: "Deployment")
        #expect(patched["metadata"]?["finalizers"] == .array([]))
        let names = patched["spec"]?["template"]?["spec"]?["containers"]?.arrayValue?.compactMap { $0["name"]?.stringValue }
        #expect(names == ["side", "new"])

        let replaced = try StrategicMergePatch.apply(try json("""
            {"spec":{"template":{"spec":{"containers":[{"$patch":"replace"},{"name":"only","image":"y"}]}}}}
            """), to: try json(deployment), kind: "Deployment")
        #expect(replaced["spec"]?["template"]?["spec"]?["containers"]?.arrayValue?.count == 1)

        let retained = try StrategicMergePatch.apply(try json("""
            {"spec":{"strategy":{"$retainKeys":["type"],"type":"Recreate"}}}
            """), to: try json(#"{"spec":{"strategy":{"type":"RollingUpdate","rollingUpdate":{"maxSurge":1}}}}"#), kind: "Deployment")
        #expect(retained["spec"]?["strategy"] == .object(["type": .string("Recreate")]))
    }

    @Test func listsWithoutAMergeKeyAreReplacedAndNullsRemove() throws {
        let patched = try StrategicMergePatch.apply(try json(#"{"spec":{"tolerations":[{"key":"b"}],"nodeName":null}}"#),
                                                    to: try json(#"{"spec":{"tolerations":[{"key":"a"}],"nodeName":"n"}}"#), kind: "Pod")
        #expect(patched["spec"] == .object(["tolerations": .array([.object(["key": .string("b")])])]))
    }

    @Test func aMissingMergeKeyIsABadRequest() throws {
        #expect(throws: APIError.self) {
            try StrategicMergePatch.apply(try json(#"{"spec":{"containers":[{"image":"x"}]}}"#),
                                          to: try json(#"{"spec":{"containers":[]}}"#), kind: "Pod")
        }
    }

    /// The merge keys come from the types' `patchStrategy`/`patchMergeKey` markers, for every
    /// kind: what the hand-written table had, and the kinds it never listed.
    @Test func mergeKeysFollowTheGoStructTags() {
        let pod = StrategicMergeSchema.rules(for: "Pod")
        #expect(pod["spec.containers"] == .init(mergeKey: "name"))
        #expect(pod["spec.containers.ports"] == .init(mergeKey: "containerPort"))
        #expect(pod["spec.initContainers.volumeMounts"] == .init(mergeKey: "mountPath"))
        #expect(pod["metadata.finalizers"] == .init(mergeKey: nil))
        #expect(pod["metadata.ownerReferences"] == .init(mergeKey: "uid"))
        #expect(pod["status.conditions"] == .init(mergeKey: "type"))
        #expect(pod["spec.tolerations"] == nil)
        #expect(StrategicMergeSchema.rules(for: "Deployment")["spec.template.spec.containers.env"] == .init(mergeKey: "name"))
        #expect(StrategicMergeSchema.rules(for: "Service")["spec.ports"] == .init(mergeKey: "port"))
        #expect(StrategicMergeSchema.rules(for: "Node")["status.addresses"] == .init(mergeKey: "type"))
        #expect(StrategicMergeSchema.rules(for: "Node")["spec.podCIDRs"] == .init(mergeKey: nil))
        #expect(StrategicMergeSchema.rules(for: "PodDisruptionBudget", group: "policy")["status.conditions"] == .init(mergeKey: "type"))
    }
}
