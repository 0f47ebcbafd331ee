import Testing
@testable import ClusterDNS

@Suite struct DNSNameTests {
    @Test func parsesAndPrints() throws {
        let name = try DNSName("Web.Default.svc.cluster.local")
        #expect(name.labelCount == 5)
        #expect(name.description == "Web.Default.svc.cluster.local.")
        #expect(name == (try DNSName("web.default.SVC.cluster.local.")))
        #expect(name.lowercased().description == "web.default.svc.cluster.local.")
        #expect(try DNSName(".") == DNSName.root)
    }
}
