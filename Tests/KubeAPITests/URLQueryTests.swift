import KubeAPI
import Testing

/// `URLQuery`: the query strings the API server and the kubelet API read, including hostile ones.
@Suite struct URLQueryTests {
    @Test(arguments: [
        ("labelSelector=app%3Dweb&limit=500", ["labelSelector": "app=web", "limit": "500"]),
        ("fieldSelector=spec.nodeName%3Dnode+a", ["fieldSelector": "spec.nodeName=node a"]),
        ("watch", ["watch": ""]),
        ("a=1&a=2", ["a": "2"]),
        ("a=b=c", ["a": "b=c"]),
        ("&&a=1&", ["a": "1"]),
        ("bad=%zz&half=%4", ["bad": "%zz", "half": "%4"]),
        ("%E2%9C%93=%E2%9C%93", ["✓": "✓"]),
        ("=x", ["": "x"]),
    ])
    func queriesAreReadAsGoReadsThem(query: String, parameters: [String: String]) {
        #expect(URLQuery.parse(query) == parameters)
    }

    @Test func noQueryIsNoParameters() {
        #expect(URLQuery.parse(nil).isEmpty)
        #expect(URLQuery.parse("").isEmpty)
    }
}
