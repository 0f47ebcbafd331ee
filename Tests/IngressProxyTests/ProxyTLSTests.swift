import Foundation
import IngressProxy
import KubeAPI
import Testing
import TestSupport

/// TLS with certificates chosen by SNI, HTTP/2 by ALPN, with real curl.
@Suite(.serialized, .ownThreads) struct ProxyTLSTests {
    /// The subject curl printed for the server's certificate ("subject: CN=...").
    static func subject(_ output: String) -> String {
        output.split(separator: "\n").first { $0.contains("subject:") }.map { String($0) } ?? ""
    }

    /// The Secrets both paths are tested with: one host's, a wildcard's, and one whose key belongs
    /// to another certificate.
    static func siteCertificates() throws -> [String: IngressTLSSecret] {
        var broken = try TestCertificates.make(["broken.example"])
        broken.keyPEM = try TestCertificates.make(["someone.else"]).keyPEM
        return ["default/shop-tls": try TestCertificates.make(["shop.example"]),
                "default/apps-tls": try TestCertificates.make(["*.apps.example"]), "default/broken-tls": broken]
    }

    @Test func certificatesBySNIOverHTTP2AndHTTP1() async throws {
        try await ProxyLab.run { lab in
            let pod = try await lab.startPod("127.0.0.2")
            let (service, slices) = ProxyLab.service("shop", pods: [pod])
            let site = try Self.siteCertificates()
            let problems = lab.serve([
                Fixture.ingress("shop", rules: [
                    Fixture.rule("shop.example", [Fixture.path("/", "Prefix", "shop")]),
                    Fixture.rule("*.apps.example", [Fixture.path("/", "Prefix", "shop")]),
                    Fixture.rule("broken.example", [Fixture.path("/", "Prefix", "shop")]),
                ], tls: [
                    IngressTLS(hosts: ["shop.example"], secretName: "shop-tls"),
                    IngressTLS(hosts: ["*.apps.example"], secretName: "apps-tls"),
                    IngressTLS(hosts: ["broken.example"], secretName: "broken-tls"),
                ]),
            ], services: [service], slices: slices,
               secrets: site)
            #expect(problems.map(\.reason) == [IngressProblem.tlsSecretInvalid], "\(problems)")

            let h2 = await lab.curl("shop.example", "/cart", tls: true, extra: ["--http2"])
            #expect(h2.code == 200, "\(h2.output)")
            #expect(h2.version == "2")
            #expect(h2.server == pod.endpoint)
            #expect(h2.header("x-forwarded-proto") == ["https"])
            #expect(h2.header("x-forwarded-port") == ["\(lab.httpsPort)"])
            #expect(h2.header("host") == ["shop.example:\(lab.httpsPort)"], "HTTP/2's :authority becomes Host")
            let h1 = await lab.curl("shop.example", "/cart", tls: true, extra: ["--http1.1"])
            #expect(h1.code == 200)
            #expect(h1.version == "1.1")

            let shopCertificate = await lab.curl("shop.example", "/", tls: true, extra: ["-v", "-o", "/dev/null"])
            #expect(Self.subject(shopCertificate.output).contains("CN=shop.example"), "\(Self.subject(shopCertificate.output))")
            let appCertificate = await lab.curl("one.apps.example", "/", tls: true, extra: ["-v", "-o", "/dev/null"])
            #expect(Self.subject(appCertificate.output).contains("CN=*.apps.example"))
            #expect(appCertificate.code == 200)
            // No certificate of its own, or a broken one: the default certificate, and still served.
            for host in ["unknown.example", "broken.example"] {
                let reply = await lab.curl(host, "/", tls: true, extra: ["-v", "-o", "/dev/null"])
                #expect(Self.subject(reply.output).contains("Kubernetes Ingress Controller Fake Certificate"),
                        "\(host): \(Self.subject(reply.output))")
                #expect(reply.code == (host == "unknown.example" ? 404 : 200))
            }
            // An HTTP/2 POST with a body and a large download over one stream.
            let posted = await lab.curl("shop.example", "/order", tls: true, extra: ["--http2", "--data-binary", "item=42"])
            #expect(posted.json["bodyLength"] as? Int == 7)
            #expect(posted.json["method"] as? String == "POST")
            let big = await lab.curl("shop.example", "/big?bytes=5000000", tls: true, extra: ["--http2", "-o", "/dev/null"])
            #expect(big.size == 5_000_000, "\(big.output)")
            // Routing follows Host (:authority), not SNI, as with ingress-nginx.
            let other = await lab.curl("shop.example", "/", tls: true, extra: ["--http2", "-H", "Host: nowhere.example"])
            #expect(other.code == 404, "\(other.output)")
        }
    }

    /// HTTP/1.1-only clients (curl --http1.1, wrk, Python) are served by the epoll loop, which
    /// does the handshake itself with BoringSSL: the same certificates by SNI, the same headers; a
    /// request it does not serve is relayed to NIO on the same connection.
    @Test func http11ClientsGetTheSameServiceOnTheEpollLoop() async throws {
        try await ProxyLab.run { lab in
            let pod = try await lab.startPod("127.0.0.2")
            let (service, slices) = ProxyLab.service("shop", pods: [pod])
            let site = try Self.siteCertificates()
            let rsa = try await Self.rsaCertificate(lab, "rsa.example")
            // A chain: the leaf and one more certificate after it, sent as the chain.
            var chain = try TestCertificates.make(["chain.example"])
            chain.certificatePEM += Array("\n".utf8) + (try TestCertificates.make(["intermediate.example"]).certificatePEM)
            let hosts = ["shop.example", "*.apps.example", "broken.example", "rsa.example", "chain.example"]
            let secrets = site.merging(["default/rsa-tls": rsa, "default/chain-tls": chain]) { $1 }
            let ingress = Fixture.ingress("shop", rules: hosts.map { Fixture.rule($0, [Fixture.path("/", "Prefix", "shop")]) },
                                          tls: zip(hosts, ["shop-tls", "apps-tls", "broken-tls", "rsa-tls", "chain-tls"]).map {
                                              IngressTLS(hosts: [$0.0], secretName: $0.1)
                                          })
            let problems = lab.serve([ingress], services: [service], slices: slices, secrets: secrets)
            #expect(problems.map(\.reason) == [IngressProblem.tlsSecretInvalid], "\(problems)")

            let h1 = await lab.curl("shop.example", "/cart", tls: true, extra: ["--http1.1"])
            #expect(h1.code == 200 && h1.version == "1.1", "\(h1.output)")
            #expect(h1.server == pod.endpoint)
            #expect(h1.header("x-forwarded-proto") == ["https"])
            #expect(h1.header("x-forwarded-port") == ["\(lab.httpsPort)"])
            #expect(h1.header("x-forwarded-for") == ["127.0.0.1"])
            let shown = await lab.curl("shop.example", "/", tls: true, extra: ["--http1.1", "-v", "-o", "/dev/null"])
            #expect(shown.output.contains("ALPN: server accepted http/1.1"), "\(shown.output)")
            #expect(Self.subject(shown.output).contains("CN=shop.example"))
            #expect(lab.server.dataPathTLSCounts == (2, 0), "the loop did the handshakes and served the requests")

            for (host, subject, code) in [("one.apps.example", "CN=*.apps.example", 200), ("rsa.example", "CN=rsa.example", 200),
                                          ("unknown.example", "Kubernetes Ingress Controller Fake Certificate", 404),
                                          ("broken.example", "Kubernetes Ingress Controller Fake Certificate", 200)] {
                let reply = await lab.curl(host, "/", tls: true, extra: ["--http1.1", "-v", "-o", "/dev/null"])
                #expect(Self.subject(reply.output).contains(subject), "\(host): \(Self.subject(reply.output))")
                #expect(reply.code == code, "\(host): \(reply.output)")
            }
            // The 404 came from NIO, relayed: the loop serves only requests with a route.
            #expect(lab.server.dataPathTLSCounts == (6, 1))
            let (_, chainShown) = await TestProcess.runAsync(["/bin/sh", "-c",
                "openssl s_client -connect 127.0.0.1:\(lab.httpsPort) -servername chain.example -showcerts </dev/null 2>/dev/null"])
            #expect(chainShown.components(separatedBy: "BEGIN CERTIFICATE").count - 1 == 2, "leaf and chain: \(chainShown.prefix(400))")

            // TLS 1.2 (its handshake runs the other way round at the end), and TLS 1.1 refused.
            let tls12 = await lab.curl("shop.example", "/", tls: true, extra: ["--http1.1", "--tls-max", "1.2", "-v", "-o", "/dev/null"])
            #expect(tls12.code == 200 && tls12.output.contains("TLSv1.2"), "\(tls12.output)")
            let tls11 = await lab.curl("shop.example", "/", tls: true, extra: ["--http1.1", "--tlsv1.1", "--tls-max", "1.1"])
            #expect(tls11.code == 0 && tls11.exit != 0, "\(tls11.output)")
            // A session resumed from the ticket of an earlier one.
            let session = lab.root.path + "/session.pem"
            let connect = "openssl s_client -connect 127.0.0.1:\(lab.httpsPort) -servername shop.example"
            let (_, resumed) = await TestProcess.runAsync(["/bin/sh", "-c",
                // TLS 1.3 tickets go out with the server's first write (BoringSSL defers them over
                // TCP): the first client asks for a page and stays long enough to read them.
                "(printf 'GET / HTTP/1.1\\r\\nHost: shop.example\\r\\n\\r\\n'; sleep 0.5) | \(connect) -sess_out \(session) >/dev/null 2>&1; "
                + "\(connect) -sess_in \(session) </dev/null 2>&1"])
            #expect(resumed.contains("Reused, TLSv1.3"), "\(resumed.prefix(600))")

            // A 5 MB download on the loop, and a HEAD.
            let big = await lab.curl("shop.example", "/big?bytes=5000000", tls: true, extra: ["--http1.1", "-o", "/dev/null"])
            #expect(big.size == 5_000_000, "\(big.output)")
            let head = await lab.curl("shop.example", "/", tls: true, extra: ["--http1.1", "-I"])
            #expect(head.code == 200)

            // One connection: pipelined GETs and a GET on the loop, then a POST and what follows it relayed.
            let before = lab.server.dataPathTLSCounts
            let (status, output) = await ProxyLab.python("tls_requests.py", ["\(lab.httpsPort)", "shop.example", "3000000"])
            #expect(status == 0, "\(output)")
            let lines = output.split(separator: "\n").map(String.init)
            // p1, p2, /first, the POST's response, what the pod saw of it, the download, the
            // upload's response and what the pod saw of it, DONE.
            #expect(lines.count == 9, "\(output)")
            #expect(lines.prefix(4).allSatisfy { $0.hasPrefix("200 \(pod.endpoint) ") }, "\(output)")
            #expect(lines.count == 9 && lines[4] == "SENT POST 7" && lines[5] == "200 - 3000000", "\(output)")
            #expect(lines.count == 9 && lines[6].hasPrefix("200 \(pod.endpoint) "), "\(output)")
            #expect(lines.suffix(2) == ["SENT PUT 3000000", "DONE"], "\(output)")
            let after = lab.server.dataPathTLSCounts
            #expect(after.handshakes - before.handshakes == 1 && after.relays - before.relays == 1)
            // The same with the ClientHello in two segments: the loop waits for the rest.
            let (splitStatus, splitOutput) = await ProxyLab.python("tls_requests.py", ["\(lab.httpsPort)", "shop.example", "300000", "split"])
            #expect(splitStatus == 0 && splitOutput.hasSuffix("SENT PUT 300000\nDONE\n"), "\(splitOutput)")
            #expect(lab.server.dataPathTLSCounts.handshakes - after.handshakes == 1, "the loop did the split handshake")

            // A new certificate in the Secret applies to the next handshake.
            let renewed = try TestCertificates.make(["shop.example", "renewed.shop.example"])
            var newSecrets = secrets
            newSecrets["default/shop-tls"] = renewed
            lab.serve([ingress], services: [service], slices: slices, secrets: newSecrets)
            let (_, renewedOut) = await TestProcess.runAsync(["/bin/sh", "-c",
                "openssl s_client -connect 127.0.0.1:\(lab.httpsPort) -servername shop.example </dev/null 2>/dev/null | openssl x509 -noout -ext subjectAltName"])
            #expect(renewedOut.contains("renewed.shop.example"), "\(renewedOut)")

            // Browsers offer h2: NIO does those handshakes.
            let handshakes = lab.server.dataPathTLSCounts.handshakes
            let h2 = await lab.curl("shop.example", "/", tls: true, extra: ["--http2"])
            #expect(h2.version == "2" && h2.code == 200)
            #expect(lab.server.dataPathTLSCounts.handshakes == handshakes)
        }
    }

    /// An RSA certificate and key made by openssl (the tests' own are ECDSA).
    static func rsaCertificate(_ lab: ProxyLab, _ host: String) async throws -> IngressTLSSecret {
        let key = lab.root.path + "/rsa.key", certificate = lab.root.path + "/rsa.crt"
        let (status, output) = await TestProcess.runAsync(["/usr/bin/openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                                                           "-subj", "/CN=\(host)", "-days", "1", "-keyout", key, "-out", certificate])
        #expect(status == 0, "\(output)")
        return IngressTLSSecret(certificatePEM: Array(try Data(contentsOf: URL(fileURLWithPath: certificate))),
                                keyPEM: Array(try Data(contentsOf: URL(fileURLWithPath: key))))
    }

    @Test func manyHTTP2StreamsOnOneConnectionReachTheBackends() async throws {
        try await ProxyLab.run { lab in
            let a = try await lab.startPod("127.0.0.2")
            let b = try await lab.startPod("127.0.0.3")
            let (service, slices) = ProxyLab.service("web", pods: [a, b])
            lab.serve([Fixture.ingress("web", rules: [Fixture.rule("web.example", [Fixture.path("/", "Prefix", "web")])])],
                      services: [service], slices: slices)
            let urls = (0..<20).map { "https://web.example:\(lab.httpsPort)/s\($0)" }
            let (status, output) = await TestProcess.runAsync(
                ["/usr/bin/curl", "-sS", "-k", "--http2", "--parallel", "--parallel-max", "20", "--max-time", "30",
                 "--resolve", "web.example:\(lab.httpsPort):127.0.0.1", "-w", "\n"] + urls)
            #expect(status == 0, "\(output)")
            // curl --parallel mixes its progress lines into stdout: pick the pods' answers out.
            let servers = output.components(separatedBy: "{\"server\": \"").dropFirst().compactMap { rest in
                rest.split(separator: "\"", maxSplits: 1).first.map(String.init)
            }
            #expect(servers.count == 20, "\(output)")
            #expect(Set(servers) == [a.endpoint, b.endpoint])
        }
    }

    @Test func http2UploadsStreamWithAndWithoutALength() async throws {
        try await ProxyLab.run { lab in
            let pod = try await lab.startPod("127.0.0.2")
            let (service, slices) = ProxyLab.service("files", pods: [pod])
            lab.serve([Fixture.ingress("files", rules: [Fixture.rule("files.example", [Fixture.path("/", "Prefix", "files")])])],
                      services: [service], slices: slices)
            let upload = lab.root.path + "/upload.bin"
            var bytes = [UInt8](repeating: 0, count: 3 * 1024 * 1024 + 7)
            for index in bytes.indices { bytes[index] = UInt8(truncatingIfNeeded: index &* 7 &+ index >> 9) }
            try Data(bytes).write(to: URL(fileURLWithPath: upload))
            let (_, sum) = await TestProcess.runAsync(["/usr/bin/sha256sum", upload])
            let digest = String(sum.prefix(64))
            // With content-length, and streamed without one (HTTP/2 DATA frames, chunked to the pod).
            for extra in [["--data-binary", "@" + upload], ["-H", "Transfer-Encoding: chunked", "--data-binary", "@" + upload]] {
                let reply = await lab.curl("files.example", "/up", tls: true, extra: ["--http2"] + extra)
                #expect(reply.version == "2")
                #expect(reply.json["bodyLength"] as? Int == bytes.count, "\(reply.output.prefix(300))")
                #expect(reply.json["bodySHA256"] as? String == digest)
            }
            let unframed = await lab.curl("files.example", "/up", tls: true,
                                          extra: ["--http2", "-H", "Transfer-Encoding: chunked", "--data-binary", "@" + upload])
            #expect(unframed.header("transfer-encoding") == ["chunked"], "no length: chunked to the pod")
            #expect(unframed.header("content-length").isEmpty)
        }
    }
}
