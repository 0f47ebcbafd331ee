import IngressProxy
import KubeAPI
import Testing

/// The route table without sockets: which backend a request reaches, and what is reported.
@Suite struct RouteTableTests {
    /// Services a, b, c, d each with one ready endpoint, so every rule resolves.
    static func inputs(_ ingresses: [Ingress]) -> IngressRouteInputs {
        let names = ["a", "b", "c", "d", "web", "api", "fallback", "catchall"]
        return IngressRouteInputs(
            ingresses: ingresses,
            ingressClasses: [Fixture.swiftletClass, Fixture.otherClass],
            services: names.map { Fixture.service($0) },
            endpointSlices: names.enumerated().map { Fixture.slice($1, addresses: ["10.42.0.\($0 + 10)"], port: 8080) })
    }

    static func table(_ ingresses: [Ingress]) -> IngressRouteTable {
        IngressRouteTable.build(inputs(ingresses)).table
    }

    /// The service a request reaches, or nil for 404.
    static func serviceFor(_ table: IngressRouteTable, _ host: String, _ path: String) -> String? {
        table.backend(host: host, path: path)?.serviceName
    }

    // Kubernetes' "Examples" table (https://kubernetes.io/docs/concepts/services-networking/ingress/#examples):
    // (kind, [(path, type)], request, matches).
    static let kubernetesExamples: [(String, [(String, String)], String, Bool)] = [
        ("Prefix /", [("/", "Prefix")], "/anything/at/all", true),
        ("Exact /foo, /foo", [("/foo", "Exact")], "/foo", true),
        ("Exact /foo, /bar", [("/foo", "Exact")], "/bar", false),
        ("Exact /foo, /foo/", [("/foo", "Exact")], "/foo/", false),
        ("Exact /foo/, /foo", [("/foo/", "Exact")], "/foo", false),
        ("Prefix /foo, /foo", [("/foo", "Prefix")], "/foo", true),
        ("Prefix /foo, /foo/", [("/foo", "Prefix")], "/foo/", true),
        ("Prefix /foo/, /foo", [("/foo/", "Prefix")], "/foo", true),
        ("Prefix /foo/, /foo/", [("/foo/", "Prefix")], "/foo/", true),
        ("Prefix /aaa/bb, /aaa/bbb", [("/aaa/bb", "Prefix")], "/aaa/bbb", false),
        ("Prefix /aaa/bbb, /aaa/bbb", [("/aaa/bbb", "Prefix")], "/aaa/bbb", true),
        ("Prefix /aaa/bbb/ ignores the trailing slash", [("/aaa/bbb/", "Prefix")], "/aaa/bbb", true),
        ("Prefix /aaa/bbb matches the trailing slash", [("/aaa/bbb", "Prefix")], "/aaa/bbb/", true),
        ("Prefix /aaa/bbb matches a subpath", [("/aaa/bbb", "Prefix")], "/aaa/bbb/ccc", true),
        ("Prefix /aaa/bbb is no string prefix", [("/aaa/bbb", "Prefix")], "/aaa/bbbxyz", false),
        ("Prefix /, /aaa: /aaa/ccc", [("/", "Prefix"), ("/aaa", "Prefix")], "/aaa/ccc", true),
        ("Prefix /, /aaa, /aaa/bbb: /aaa/bbb", [("/", "Prefix"), ("/aaa", "Prefix"), ("/aaa/bbb", "Prefix")], "/aaa/bbb", true),
        ("Prefix /, /aaa, /aaa/bbb: /ccc", [("/", "Prefix"), ("/aaa", "Prefix"), ("/aaa/bbb", "Prefix")], "/ccc", true),
        ("Prefix /aaa: /ccc uses the default backend", [("/aaa", "Prefix")], "/ccc", false),
        ("Mixed /foo Prefix and Exact: /foo", [("/foo", "Prefix"), ("/foo", "Exact")], "/foo", true),
    ]

    @Test("every example of Kubernetes' path matching table", arguments: 0..<20)
    func kubernetesExample(_ index: Int) {
        let (name, rules, request, matches) = Self.kubernetesExamples[index]
        // Each rule gets its own service so the test sees which one won.
        let services = ["a", "b", "c"]
        let paths = rules.enumerated().map { Fixture.path($1.0, $1.1, services[$0]) }
        let table = Self.table([Fixture.ingress("example", rules: [Fixture.rule("foo.bar.com", paths)])])
        let reached = Self.serviceFor(table, "foo.bar.com", request)
        #expect((reached != nil) == matches, "\(name): \(request) reached \(reached ?? "404")")
    }

    @Test func theMostSpecificRuleWinsInTheExamples() {
        // "Prefix /, /aaa: /aaa/ccc matches /aaa"; "/aaa/bbb matches /aaa/bbb"; "/ccc matches /";
        // "/foo (Prefix), /foo (Exact): prefers Exact".
        let table = Self.table([Fixture.ingress("example", rules: [Fixture.rule("foo.bar.com", [
            Fixture.path("/", "Prefix", "a"), Fixture.path("/aaa", "Prefix", "b"), Fixture.path("/aaa/bbb", "Prefix", "c"),
            Fixture.path("/foo", "Prefix", "a"), Fixture.path("/foo", "Exact", "d"),
        ])])])
        #expect(Self.serviceFor(table, "foo.bar.com", "/aaa/ccc") == "b")
        #expect(Self.serviceFor(table, "foo.bar.com", "/aaa/bbb") == "c")
        #expect(Self.serviceFor(table, "foo.bar.com", "/aaa/bbb/x?q=1") == "c")
        #expect(Self.serviceFor(table, "foo.bar.com", "/ccc") == "a")
        #expect(Self.serviceFor(table, "foo.bar.com", "/foo") == "d")
        #expect(Self.serviceFor(table, "foo.bar.com", "/foo/") == "a")
        #expect(Self.serviceFor(table, "foo.bar.com", "/foo?x=/aaa") == "d")
    }

    @Test func hostsExactThenOneLabelWildcardThenRulesWithoutHost() {
        let table = Self.table([Fixture.ingress("hosts", rules: [
            Fixture.rule("foo.bar.com", [Fixture.path("/", "Prefix", "a")]),
            Fixture.rule("*.bar.com", [Fixture.path("/", "Prefix", "b")]),
            Fixture.rule(nil, [Fixture.path("/", "Prefix", "c")]),
        ])])
        #expect(Self.serviceFor(table, "foo.bar.com", "/") == "a")
        #expect(Self.serviceFor(table, "FOO.Bar.com:8080", "/") == "a", "case and port do not matter")
        #expect(Self.serviceFor(table, "foo.bar.com.", "/") == "a", "a trailing dot does not matter")
        #expect(Self.serviceFor(table, "baz.bar.com", "/") == "b")
        #expect(Self.serviceFor(table, "x.baz.bar.com", "/") == "c", "a wildcard matches one label only")
        #expect(Self.serviceFor(table, "bar.com", "/") == "c", "a wildcard does not match its parent")
        #expect(Self.serviceFor(table, "other.example", "/") == "c")
        #expect(Self.serviceFor(table, "", "/") == "c")
        #expect(Self.serviceFor(table, "[::1]:80", "/") == "c")
    }

    @Test func aHostWithoutAMatchingPathDoesNotFallThroughToOtherHosts() {
        let table = Self.table([Fixture.ingress("hosts", rules: [
            Fixture.rule("foo.bar.com", [Fixture.path("/app", "Prefix", "a")]),
            Fixture.rule(nil, [Fixture.path("/", "Prefix", "c")]),
        ])])
        #expect(Self.serviceFor(table, "foo.bar.com", "/app/x") == "a")
        #expect(Self.serviceFor(table, "foo.bar.com", "/other") == nil, "a host's unmatched path is 404 (ingress-nginx)")
        #expect(Self.serviceFor(table, "elsewhere", "/other") == "c")
    }

    @Test func defaultBackendsPerHostAndCatchAll() {
        let table = Self.table([
            Fixture.ingress("catchall", age: 100, defaultBackend: Fixture.backend("catchall")),
            Fixture.ingress("site", age: 50, rules: [Fixture.rule("site.example", [Fixture.path("/app", "Prefix", "a")])],
                            defaultBackend: Fixture.backend("fallback")),
            Fixture.ingress("plain", age: 10, rules: [Fixture.rule("plain.example", [Fixture.path("/app", "Prefix", "b")])]),
        ])
        #expect(Self.serviceFor(table, "site.example", "/app") == "a")
        #expect(Self.serviceFor(table, "site.example", "/else") == "fallback", "the Ingress's own defaultBackend")
        #expect(Self.serviceFor(table, "plain.example", "/else") == "catchall", "the oldest defaultBackend catches the rest")
        #expect(Self.serviceFor(table, "unknown.example", "/") == "catchall")
    }

    @Test func withoutAnyDefaultBackendUnknownHostsAre404() {
        let table = Self.table([Fixture.ingress("site", rules: [Fixture.rule("site.example", [Fixture.path("/", "Prefix", "a")])])])
        if case .notFound = table.route(host: "unknown.example", target: "/") {} else {
            Issue.record("an unknown host must be 404")
        }
    }

    @Test func ingressesOfTheSameHostMergeAndTheOldestWinsAConflict() {
        let (table, problems) = IngressRouteTable.build(Self.inputs([
            Fixture.ingress("newer", age: 10, rules: [Fixture.rule("shop.example", [
                Fixture.path("/cart", "Prefix", "b"), Fixture.path("/api", "Prefix", "c"),
            ])]),
            Fixture.ingress("older", age: 20, rules: [Fixture.rule("shop.example", [Fixture.path("/cart", "Prefix", "a")])]),
        ]))
        #expect(Self.serviceFor(table, "shop.example", "/cart") == "a", "the older Ingress keeps /cart")
        #expect(Self.serviceFor(table, "shop.example", "/api/v1") == "c", "the newer Ingress's other paths merge in")
        #expect(problems.count == 1)
        let problem = problems.first
        #expect(problem?.name == "newer")
        #expect(problem?.reason == IngressProblem.pathConflict)
        #expect(problem?.message.contains("default/older") == true, "\(problem?.message ?? "")")
    }

    @Test func equalTimestampsBreakTiesByNamespaceAndName() {
        let (table, problems) = IngressRouteTable.build(Self.inputs([
            Fixture.ingress("zz", namespace: "default", age: 5, rules: [Fixture.rule("t.example", [Fixture.path("/", "Prefix", "b")])]),
            Fixture.ingress("aa", namespace: "default", age: 5, rules: [Fixture.rule("t.example", [Fixture.path("/", "Prefix", "a")])]),
        ]))
        #expect(Self.serviceFor(table, "t.example", "/") == "a")
        #expect(problems.map(\.name) == ["zz"])
    }

    @Test func trailingSlashVariantsOfAPrefixAreTheSameRule() {
        let (_, problems) = IngressRouteTable.build(Self.inputs([
            Fixture.ingress("one", age: 2, rules: [Fixture.rule("x.example", [Fixture.path("/foo", "Prefix", "a")])]),
            Fixture.ingress("two", age: 1, rules: [Fixture.rule("x.example", [Fixture.path("/foo/", "Prefix", "b")])]),
        ]))
        #expect(problems.map(\.reason) == [IngressProblem.pathConflict])
    }

    @Test func implementationSpecificIsServedAsPrefix() {
        let table = Self.table([Fixture.ingress("impl", rules: [Fixture.rule("i.example", [
            Fixture.path("/docs", "ImplementationSpecific", "a"), Fixture.path(nil, "ImplementationSpecific", "b"),
        ])])])
        #expect(Self.serviceFor(table, "i.example", "/docs/intro") == "a")
        #expect(Self.serviceFor(table, "i.example", "/docsx") == "b", "element-wise like Prefix; an empty path is /")
    }

    @Test func onlyIngressesOfSwiftletsClassesAreServed() {
        var classless = Fixture.ingress("classless", className: nil, rules: [Fixture.rule("none.example", [Fixture.path("/", "Prefix", "a")])])
        classless.spec.ingressClassName = nil
        let legacy = Fixture.ingress("legacy", className: nil, annotations: [IngressClass.legacyClassAnnotation: "swiftlet"],
                                     rules: [Fixture.rule("legacy.example", [Fixture.path("/", "Prefix", "a")])])
        let nginx = Fixture.ingress("nginx", className: "nginx", rules: [Fixture.rule("nginx.example", [Fixture.path("/", "Prefix", "a")])])
        let legacyNginx = Fixture.ingress("legacy-nginx", className: nil, annotations: [IngressClass.legacyClassAnnotation: "nginx"],
                                          rules: [Fixture.rule("legacy-nginx.example", [Fixture.path("/", "Prefix", "a")])])
        let missingClass = Fixture.ingress("missing", className: "gone", rules: [Fixture.rule("gone.example", [Fixture.path("/", "Prefix", "a")])])
        let table = Self.table([classless, legacy, nginx, legacyNginx, missingClass])
        #expect(table.ruleHosts == ["legacy.example"])
    }

    @Test func aClassIsOursByItsControllerNotItsName() {
        var inputs = Self.inputs([Fixture.ingress("custom", className: "edge",
                                                  rules: [Fixture.rule("edge.example", [Fixture.path("/", "Prefix", "a")])])])
        inputs.ingressClasses.append(IngressClass(metadata: ObjectMeta(name: "edge"),
                                                  spec: IngressClassSpec(controller: IngressClass.swiftletController)))
        #expect(IngressRouteTable.build(inputs).table.ruleHosts == ["edge.example"])
    }

    @Test func endpointsAreTheReadyAddressesOfTheServicePortsSlices() throws {
        let inputs = IngressRouteInputs(
            ingresses: [Fixture.ingress("web", rules: [Fixture.rule("web.example", [
                Fixture.path("/", "Prefix", "web", portName: "http"),
                Fixture.path("/metrics", "Prefix", "web", 9090),
            ])])],
            ingressClasses: [Fixture.swiftletClass],
            services: [Fixture.service("web", ports: [ServicePort(name: "http", port: 80, targetPort: .string("web")),
                                                      ServicePort(name: "metrics", port: 9090)])],
            endpointSlices: [
                // A named targetPort resolves per pod: two slices with different numbers.
                Fixture.slice("web", name: "web-1", addresses: ["10.42.0.5", "10.42.0.6"], notReady: ["10.42.0.7"], port: 8080, portName: "http"),
                Fixture.slice("web", name: "web-2", addresses: ["10.42.1.5"], port: 8081, portName: "http"),
                Fixture.slice("web", name: "web-3", addresses: ["10.42.0.5"], port: 9100, portName: "metrics"),
                Fixture.slice("other", name: "other-1", addresses: ["10.42.9.9"], port: 8080, portName: "http"),
            ])
        let (table, problems) = IngressRouteTable.build(inputs)
        #expect(problems.isEmpty, "\(problems)")
        let web = try #require(table.backend(host: "web.example", path: "/"))
        #expect(web.endpoints.map(\.description) == ["10.42.0.5:8080", "10.42.0.6:8080", "10.42.1.5:8081"])
        let metrics = try #require(table.backend(host: "web.example", path: "/metrics"))
        #expect(metrics.endpoints.map(\.description) == ["10.42.0.5:9100"])
    }

    @Test func rulesNamingTheSameServicePortShareOneBackend() throws {
        let table = Self.table([Fixture.ingress("share", rules: [
            Fixture.rule("one.example", [Fixture.path("/", "Prefix", "a")]),
            Fixture.rule("two.example", [Fixture.path("/x", "Exact", "a")]),
        ])])
        let one = try #require(table.backend(host: "one.example", path: "/"))
        let two = try #require(table.backend(host: "two.example", path: "/x"))
        #expect(one === two, "round-robin spreads over both rules' requests")
    }

    @Test func brokenBackendsAreReportedAndTheRestServes() throws {
        let inputs = IngressRouteInputs(
            ingresses: [Fixture.ingress("broken", rules: [Fixture.rule("b.example", [
                Fixture.path("/ok", "Prefix", "a"),
                Fixture.path("/missing", "Prefix", "nosuch"),
                Fixture.path("/badport", "Prefix", "a", 81),
                Fixture.path("/badname", "Prefix", "a", portName: "grpc"),
                Fixture.path("/external", "Prefix", "ext"),
                Fixture.path("relative", "Prefix", "a"),
                Fixture.path("/weird", "Regex", "a"),
                HTTPIngressPath(path: "/resource", pathType: "Prefix",
                                backend: IngressBackend(resource: TypedLocalObjectReference(apiGroup: "k8s.example.com", kind: "Bucket", name: "assets"))),
            ])])],
            ingressClasses: [Fixture.swiftletClass],
            services: [Fixture.service("a"), Fixture.service("ext", type: "ExternalName")],
            endpointSlices: [Fixture.slice("a", addresses: ["10.42.0.9"], port: 8080)])
        let (table, problems) = IngressRouteTable.build(inputs)
        #expect(table.backend(host: "b.example", path: "/ok")?.endpoints.count == 1)
        for path in ["/missing", "/badport", "/badname", "/external", "/resource"] {
            let target = try #require(table.backend(host: "b.example", path: path), "\(path) still routes (to a 503)")
            #expect(target.unavailableReason != nil, "\(path)")
        }
        #expect(table.backend(host: "b.example", path: "/relative") == nil)
        let reasons = problems.map(\.reason)
        #expect(reasons.filter { $0 == IngressProblem.serviceNotFound }.count == 1)
        #expect(reasons.filter { $0 == IngressProblem.servicePortNotFound }.count == 2)
        #expect(reasons.filter { $0 == IngressProblem.unsupportedBackend }.count == 2)
        #expect(reasons.filter { $0 == IngressProblem.invalidRule }.count == 2)
        #expect(problems.allSatisfy { $0.namespace == "default" && $0.name == "broken" })
        #expect(problems.first { $0.reason == IngressProblem.serviceNotFound }?.message.contains("\"default/nosuch\"") == true)
    }

    @Test func aServiceWithoutReadyEndpointsRoutesTo503NotAProblem() throws {
        let inputs = IngressRouteInputs(
            ingresses: [Fixture.ingress("idle", rules: [Fixture.rule("idle.example", [Fixture.path("/", "Prefix", "a")])])],
            ingressClasses: [Fixture.swiftletClass],
            services: [Fixture.service("a")],
            endpointSlices: [Fixture.slice("a", addresses: [], notReady: ["10.42.0.3"], port: 8080)])
        let (table, problems) = IngressRouteTable.build(inputs)
        #expect(problems.isEmpty)
        let target = try #require(table.backend(host: "idle.example", path: "/"))
        #expect(target.endpoints.isEmpty)
        #expect(target.unavailableReason == nil)
    }

    @Test func requestPathsAreNormalisedBeforeMatching() {
        let table = Self.table([Fixture.ingress("norm", rules: [Fixture.rule("n.example", [
            Fixture.path("/public", "Prefix", "a"), Fixture.path("/admin", "Exact", "b"), Fixture.path("/", "Prefix", "c"),
        ])])])
        #expect(Self.serviceFor(table, "n.example", "/public/../admin") == "b", "dot segments resolve (nginx)")
        #expect(Self.serviceFor(table, "n.example", "/public/%2e%2e/admin") == "b", "escapes decode first")
        #expect(Self.serviceFor(table, "n.example", "//public///x") == "a", "slashes merge")
        #expect(Self.serviceFor(table, "n.example", "/%70ublic/x") == "a")
        #expect(Self.serviceFor(table, "n.example", "/public/./x/") == "a")
        #expect(Self.serviceFor(table, "n.example", "http://n.example/admin") == "b", "absolute form")
        for bad in ["/../etc/passwd", "/%zz", "/%0", "/a%00b", "*", "relative"] {
            if case .badRequest = table.route(host: "n.example", target: bad) {} else {
                Issue.record("\(bad) must be a 400")
            }
        }
    }

    @Test func aDefaultBackendOfAnIngressWithoutRulesLosesToAnOlderOne() {
        let (table, problems) = IngressRouteTable.build(Self.inputs([
            Fixture.ingress("first", age: 20, defaultBackend: Fixture.backend("a")),
            Fixture.ingress("second", age: 10, defaultBackend: Fixture.backend("b")),
        ]))
        #expect(Self.serviceFor(table, "any.example", "/") == "a")
        #expect(problems.map(\.reason) == [IngressProblem.defaultBackendConflict])
        #expect(problems.map(\.name) == ["second"])
    }
}
