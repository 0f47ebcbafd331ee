@testable import APIMachinery
import KubeAPI
import Testing

/// `SchemaValidator`: unknown fields and JSON types against the built-in types' fields.
@Suite struct SchemaValidatorTests {
    func check(_ json: String, kind: String) throws -> SchemaValidator.Outcome {
        let value = try JSONParser.parse(Array(json.utf8))
        return try #require(try SchemaValidator.check(value, kind: kind))
    }

    @Test func unknownFieldsAreDroppedAndReportedWithTheirPaths() throws {
        let outcome = try check(#"""
            {"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","labelz":{"a":"b"}},
             "spec":{"replicas":2,"foo":1,"selector":{"matchLabels":{"app":"web"}},
                     "template":{"spec":{"containers":[{"name":"c","image":"i","imagePullPolicy":"Always","bogus":true}]}}},
             "Spec":{}}
            """#, kind: "Deployment")
        #expect(outcome.unknownFields == ["Spec", "metadata.labelz", "spec.foo", "spec.template.spec.containers[0].bogus"])
        #expect(outcome.unknownCount == 4)
        #expect(outcome.value["Spec"] == nil)
        #expect(outcome.value["spec"]?["foo"] == nil)
        #expect(outcome.value["spec"]?["replicas"] == .int(2))
        #expect(outcome.value["spec"]?["template"]?["spec"]?["containers"]?.arrayValue?.first?["bogus"] == nil)
        #expect(outcome.value["spec"]?["template"]?["spec"]?["containers"]?.arrayValue?.first?["imagePullPolicy"] == .string("Always"))
    }

    @Test func inlineGoStructsAreReadFromTheEnclosingObject() throws {
        // A Volume's source, a Probe's handler and a key selector's name are inline in JSON.
        let outcome = try check(#"""
            {"spec":{"volumes":[{"name":"v","secret":{"secretName":"s"}},{"name":"w","configMap":{"name":"c"}}],
                     "containers":[{"name":"c","livenessProbe":{"httpGet":{"port":80},"periodSeconds":5},
                                    "env":[{"name":"E","valueFrom":{"secretKeyRef":{"name":"s","key":"k"}}}]}]}}
            """#, kind: "Pod")
        #expect(outcome.unknownFields.isEmpty)
    }

    @Test func anIngressRulesHTTPIsInlineAndItsFieldsAreKnown() throws {
        let outcome = try check(#"""
            {"apiVersion":"networking.k8s.io/v1","kind":"Ingress","metadata":{"name":"i"},
             "spec":{"ingressClassName":"swiftlet","tls":[{"hosts":["a.example.com"],"secretName":"s"}],
                     "defaultBackend":{"resource":{"apiGroup":"g","kind":"K","name":"n"}},
                     "rules":[{"host":"a.example.com","ingressRuleValue":{},"http":{"paths":[
                       {"path":"/","pathType":"Prefix","backend":{"service":{"name":"web","port":{"name":"http","number":80}}},"weight":3}]}}]},
             "status":{"loadBalancer":{"ingress":[{"ip":"10.0.0.1","hostname":"h","ports":[{"port":80,"protocol":"TCP","error":"e"}]}]}}}
            """#, kind: "Ingress")
        // The Go field of the inline struct is not a JSON member.
        #expect(outcome.unknownFields == ["spec.rules[0].http.paths[0].weight", "spec.rules[0].ingressRuleValue"])
        let classOutcome = try check(#"""
            {"metadata":{"name":"c"},"spec":{"controller":"a.io/b","parameters":{"apiGroup":"g","kind":"K","name":"n","scope":"Namespace","namespace":"x"}}}
            """#, kind: "IngressClass")
        #expect(classOutcome.unknownFields.isEmpty)
    }

    @Test func wrongJSONTypesAreErrorsInGoWords() throws {
        let cases: [(String, String, String)] = [
            (#"{"data":{"a":1}}"#, "ConfigMap", "json: cannot unmarshal number 1 into Go struct field ConfigMap.data of type string"),
            (#"{"data":{"a":{"b":"c"}}}"#, "ConfigMap", "json: cannot unmarshal object into Go struct field ConfigMap.data of type string"),
            (#"{"spec":{"replicas":"3"}}"#, "Deployment", "json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type integer"),
            (#"{"spec":{"replicas":1.5}}"#, "Deployment", "json: cannot unmarshal number 1.5 into Go struct field DeploymentSpec.spec.replicas of type integer"),
            (#"{"spec":{"containers":{"name":"c"}}}"#, "Pod", "json: cannot unmarshal object into Go struct field PodSpec.spec.containers of type []v1.Container"),
            (#"{"metadata":[]}"#, "Secret", "json: cannot unmarshal array into Go struct field Secret.metadata of type v1.ObjectMeta"),
            (#"{"kind":5}"#, "Service", "json: cannot unmarshal number 5 into Go struct field Service.kind of type string"),
            (#"{"spec":{"unschedulable":"yes"}}"#, "Node", "json: cannot unmarshal string into Go struct field NodeSpec.spec.unschedulable of type bool"),
        ]
        for (json, kind, message) in cases {
            #expect(throws: SchemaValidator.TypeMismatch.self, "\(json)") { _ = try check(json, kind: kind) }
            do {
                _ = try check(json, kind: kind)
            } catch let mismatch as SchemaValidator.TypeMismatch {
                #expect(mismatch.message == message)
            }
        }
    }

    @Test func nullsIntegralNumbersAndNativeTypesAreAccepted() throws {
        let outcome = try check(#"""
            {"metadata":{"creationTimestamp":null,"labels":{"a":null}},
             "spec":{"replicas":3.0,"strategy":{"rollingUpdate":{"maxSurge":"25%","maxUnavailable":1}},
                     "template":{"spec":{"containers":[{"name":"c","resources":{"limits":{"cpu":1,"memory":"1Gi"}}}]}}},
             "status":null}
            """#, kind: "Deployment")
        #expect(outcome.unknownFields.isEmpty)
        #expect(outcome.value["spec"]?["replicas"] == .int(3))
    }

    @Test func nonFiniteNumbersAreRefusedEvenInRawJSON() throws {
        let value = JSONValue.object(["spec": .object(["priority": .double(.infinity)])])
        #expect(throws: SchemaValidator.TypeMismatch.self) { _ = try SchemaValidator.check(value, kind: "Pod") }
    }

    @Test func kindsOutsideTheSchemaAreNotChecked() throws {
        #expect(try SchemaValidator.check(.object(["x": .int(1)]), kind: "Widget") == nil)
        for kind in ["Namespace", "Node", "Pod", "Service", "Endpoints", "Event", "ConfigMap", "Secret", "ServiceAccount",
                     "Deployment", "ReplicaSet", "Lease"] {
            #expect(SchemaValidator.knows(kind: kind), "\(kind)")
        }
    }
}
