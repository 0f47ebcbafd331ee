import IngressProxy
import NIOSSL
import KubeAPI
import Testing

/// Certificates by SNI host from the Ingresses' TLS sections, and broken Secrets.
@Suite struct TLSTableTests {
    static func inputs(_ ingresses: [Ingress], secrets: [String: IngressTLSSecret]) -> IngressRouteInputs {
        IngressRouteInputs(ingresses: ingresses, ingressClasses: [Fixture.swiftletClass],
                           services: [Fixture.service("a")],
                           endpointSlices: [Fixture.slice("a", addresses: ["10.42.0.2"], port: 8080)],
                           tlsSecrets: secrets)
    }

    static func site(_ name: String, age: Int = 0, hosts: [String], secret: String, tlsHosts: [String]? = nil) -> Ingress {
        Fixture.ingress(name, age: age, rules: hosts.map { Fixture.rule($0, [Fixture.path("/", "Prefix", "a")]) },
                        tls: [IngressTLS(hosts: tlsHosts ?? hosts, secretName: secret)])
    }

    @Test func certificatesAreChosenByExactHostThenOneLabelWildcard() throws {
        let shop = try TestCertificates.make(["shop.example"])
        let wildcard = try TestCertificates.make(["*.apps.example"])
        let (table, problems) = IngressRouteTable.build(Self.inputs([
            Self.site("shop", hosts: ["shop.example"], secret: "shop-tls"),
            Self.site("apps", hosts: ["*.apps.example"], secret: "apps-tls"),
        ], secrets: ["default/shop-tls": shop, "default/apps-tls": wildcard]))
        #expect(problems.isEmpty, "\(problems)")
        #expect(table.certificates.secretName(serverName: "shop.example") == "default/shop-tls")
        #expect(table.certificates.secretName(serverName: "SHOP.example") == "default/shop-tls")
        #expect(table.certificates.secretName(serverName: "one.apps.example") == "default/apps-tls")
        #expect(table.certificates.secretName(serverName: "two.one.apps.example") == nil)
        #expect(table.certificates.secretName(serverName: "elsewhere.example") == nil)
        #expect(table.certificates.context(serverName: "shop.example") != nil)
        #expect(table.certificates.hosts == ["*.apps.example", "shop.example"])
    }

    @Test func aSectionWithoutHostsCoversTheIngressRules() throws {
        let secret = try TestCertificates.make(["docs.example"])
        let (table, _) = IngressRouteTable.build(Self.inputs([
            Self.site("docs", hosts: ["docs.example"], secret: "docs-tls", tlsHosts: []),
        ], secrets: ["default/docs-tls": secret]))
        #expect(table.certificates.secretName(serverName: "docs.example") == "default/docs-tls")
    }

    @Test func aMissingSecretIsReportedAndItsHostsGetTheDefault() {
        let (table, problems) = IngressRouteTable.build(Self.inputs([
            Self.site("lost", hosts: ["lost.example"], secret: "nowhere"),
        ], secrets: [:]))
        #expect(table.certificates.secretName(serverName: "lost.example") == nil)
        #expect(problems.map(\.reason) == [IngressProblem.tlsSecretNotFound])
        #expect(problems.first?.message.contains("\"default/nowhere\"") == true)
        #expect(table.backend(host: "lost.example", path: "/") != nil, "the rules still serve")
    }

    @Test(arguments: ["garbage key", "mismatched key", "garbage certificate", "empty"])
    func aBrokenSecretIsReportedAndTheRestServes(_ kind: String) throws {
        let good = try TestCertificates.make(["good.example"])
        let other = try TestCertificates.make(["other.example"])
        var broken = try TestCertificates.make(["bad.example"])
        switch kind {
        case "garbage key": broken.keyPEM = Array("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n".utf8)
        case "mismatched key": broken.keyPEM = other.keyPEM
        case "garbage certificate": broken.certificatePEM = Array("not a certificate".utf8)
        default: broken = IngressTLSSecret(certificatePEM: [], keyPEM: [])
        }
        let (table, problems) = IngressRouteTable.build(Self.inputs([
            Self.site("good", age: 2, hosts: ["good.example"], secret: "good-tls"),
            Self.site("bad", age: 1, hosts: ["bad.example"], secret: "bad-tls"),
        ], secrets: ["default/good-tls": good, "default/bad-tls": broken]))
        #expect(problems.map(\.reason) == [IngressProblem.tlsSecretInvalid], "\(problems)")
        #expect(problems.first?.name == "bad")
        #expect(table.certificates.secretName(serverName: "good.example") == "default/good-tls")
        #expect(table.certificates.secretName(serverName: "bad.example") == nil)
        if kind == "mismatched key" {
            #expect(problems.first?.message.contains("does not belong to the certificate") == true, "\(problems)")
        }
    }

    @Test func twoSecretsForOneHostKeepTheOlderIngresss() throws {
        let first = try TestCertificates.make(["same.example"])
        let second = try TestCertificates.make(["same.example"])
        let (table, problems) = IngressRouteTable.build(Self.inputs([
            Self.site("late", age: 1, hosts: ["same.example"], secret: "late-tls"),
            Self.site("early", age: 9, hosts: ["same.example"], secret: "early-tls"),
        ], secrets: ["default/early-tls": first, "default/late-tls": second]))
        #expect(table.certificates.secretName(serverName: "same.example") == "default/early-tls")
        #expect(problems.map(\.reason).contains(IngressProblem.tlsHostConflict))
    }

    @Test func anUnchangedSecretKeepsItsContextAcrossTables() throws {
        let secret = try TestCertificates.make(["keep.example"])
        let inputs = Self.inputs([Self.site("keep", hosts: ["keep.example"], secret: "keep-tls")],
                                 secrets: ["default/keep-tls": secret])
        let first = IngressRouteTable.build(inputs).table
        let second = IngressRouteTable.build(inputs, reusing: first).table
        let a = try #require(first.certificates.context(serverName: "keep.example"))
        let b = try #require(second.certificates.context(serverName: "keep.example"))
        #expect(a === b)
        var changed = inputs
        changed.tlsSecrets["default/keep-tls"] = try TestCertificates.make(["keep.example"])
        let third = IngressRouteTable.build(changed, reusing: second).table
        let c = try #require(third.certificates.context(serverName: "keep.example"))
        #expect(c !== b)
    }
}
