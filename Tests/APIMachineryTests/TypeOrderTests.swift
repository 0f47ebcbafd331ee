@testable import APIMachinery
import KubeAPI
import Testing

/// `serializeInTypeOrder`: responses in kube-apiserver's member order.
@Suite struct TypeOrderTests {
    func text(_ json: String) throws -> String {
        String(decoding: JSONSerializer.serializeInTypeOrder(try JSONParser.parse(Array(json.utf8))), as: UTF8.self)
    }

    @Test func objectsFollowTheirGoStructOrder() throws {
        let pod = try text(#"""
            {"status":{"phase":"Running"},"spec":{"restartPolicy":"Always","containers":[{"image":"nginx","name":"web","ports":[{"protocol":"TCP","containerPort":80}]}]},
             "metadata":{"uid":"u","namespace":"default","name":"web","labels":{"z":"1","a":"2"}},"apiVersion":"v1","kind":"Pod"}
            """#)
        #expect(pod == #"""
            {"kind":"Pod","apiVersion":"v1","metadata":{"name":"web","namespace":"default","uid":"u","labels":{"a":"2","z":"1"}},\#
            "spec":{"containers":[{"name":"web","image":"nginx","ports":[{"containerPort":80,"protocol":"TCP"}]}],"restartPolicy":"Always"},\#
            "status":{"phase":"Running"}}
            """#)
    }

    @Test func listsStatusAndUnknownMembers() throws {
        let list = try text(#"""
            {"items":[{"spec":{"replicas":1},"metadata":{"name":"d"},"kind":"Deployment","apiVersion":"apps/v1"}],"metadata":{"resourceVersion":"5"},"kind":"DeploymentList","apiVersion":"apps/v1"}
            """#)
        #expect(list == #"""
            {"kind":"DeploymentList","apiVersion":"apps/v1","metadata":{"resourceVersion":"5"},"items":[{"kind":"Deployment","apiVersion":"apps/v1","metadata":{"name":"d"},"spec":{"replicas":1}}]}
            """#)
        let status = try text(#"{"code":404,"reason":"NotFound","message":"m","status":"Failure","metadata":{},"apiVersion":"v1","kind":"Status"}"#)
        #expect(status == #"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"m","reason":"NotFound","code":404}"#)
        // Members the type does not declare come last, sorted; unknown types keep the stored order.
        let extra = try text(#"{"zeta":1,"metadata":{"name":"c"},"alpha":2,"apiVersion":"v1","kind":"ConfigMap","data":{"b":"1","a":"2"}}"#)
        #expect(extra == #"{"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":"c"},"data":{"a":"2","b":"1"},"alpha":2,"zeta":1}"#)
        let unknown = try text(#"{"b":1,"metadata":{},"a":2,"kind":"Table","apiVersion":"meta.k8s.io/v1"}"#)
        #expect(unknown == #"{"kind":"Table","apiVersion":"meta.k8s.io/v1","metadata":{},"a":2,"b":1}"#)
    }
}
