import Foundation
import IngressProxy
import KubeAPI
import NIOCore
import Testing
import TestSupport

/// The proxy with real curl and real backend processes on loopback.
@Suite(.serialized, .ownThreads) struct ProxyTrafficTests {
    @Test func theStorysIngressRoutesByHostAndPathAndUnknownHostsGet404() async throws {
        try await ProxyLab.run { lab in
            let chat = try await lab.startPod("127.0.0.2")
            let api = try await lab.startPod("127.0.0.3")
            let (chatService, chatSlices) = ProxyLab.service("letschat", pods: [chat])
            let (apiService, apiSlices) = ProxyLab.service("api", pods: [api])
            let problems = lab.serve([
                Fixture.ingress("letschat", rules: [Fixture.rule("www.letschat.com", [Fixture.path("/", "Prefix", "letschat")])]),
                Fixture.ingress("api", rules: [Fixture.rule("api.example", [
                    Fixture.path("/v1", "Prefix", "api"), Fixture.path("/health", "Exact", "letschat"),
                ])]),
            ], services: [chatService, apiService], slices: chatSlices + apiSlices)
            #expect(problems.isEmpty, "\(problems)")

            let home = await lab.curl("www.letschat.com", "/rooms/general?x=1")
            #expect(home.code == 200, "\(home.output)")
            #expect(home.server == chat.endpoint)
            #expect(home.json["path"] as? String == "/rooms/general?x=1", "the request target passes unchanged")
            #expect((await lab.curl("api.example", "/v1/users")).server == api.endpoint)
            #expect((await lab.curl("api.example", "/v1")).server == api.endpoint)
            #expect((await lab.curl("api.example", "/health")).server == chat.endpoint)
            let notExact = await lab.curl("api.example", "/health/")
            #expect(notExact.code == 404)
            let string = await lab.curl("api.example", "/v1x")
            #expect(string.code == 404, "/v1 does not match /v1x")
            let unknown = await lab.curl("unknown.example", "/")
            #expect(unknown.code == 404)
            #expect(unknown.body == "404 page not found\n")
        }
    }

    @Test func headersAreForwardedAsAReverseProxyMust() async throws {
        try await ProxyLab.run { lab in
            let pod = try await lab.startPod("127.0.0.2")
            let (service, slices) = ProxyLab.service("web", pods: [pod])
            lab.serve([Fixture.ingress("web", rules: [Fixture.rule("web.example", [Fixture.path("/", "Prefix", "web")])])],
                      services: [service], slices: slices)
            let reply = await lab.curl("web.example", "/h", extra: [
                "-H", "X-Forwarded-For: 203.0.113.7", "-H", "X-Forwarded-Proto: gopher", "-H", "X-Real-IP: 1.1.1.1",
                "-H", "Connection: keep-alive, X-Hop", "-H", "X-Hop: secret", "-H", "Keep-Alive: timeout=5",
                "-H", "Proxy-Authorization: Basic Zm9v", "-H", "Proxy: http://evil.example", "-H", "TE: trailers",
                "-H", "X-Custom: kept",
            ])
            #expect(reply.code == 200, "\(reply.output)")
            #expect(reply.header("host") == ["web.example:\(lab.httpPort)"], "Host passes through")
            #expect(reply.header("x-forwarded-for") == ["203.0.113.7, 127.0.0.1"])
            #expect(reply.header("x-forwarded-proto") == ["http"])
            #expect(reply.header("x-forwarded-host") == ["web.example:\(lab.httpPort)"])
            #expect(reply.header("x-forwarded-port") == ["\(lab.httpPort)"])
            #expect(reply.header("x-real-ip") == ["127.0.0.1"])
            #expect(reply.header("x-custom") == ["kept"])
            for hop in ["x-hop", "keep-alive", "proxy-authorization", "proxy", "te", "connection"] {
                #expect(reply.header(hop).isEmpty, "\(hop) is hop-by-hop: \(reply.header(hop))")
            }
            #expect(reply.json["version"] as? String == "HTTP/1.1")
        }
    }

    @Test func requestsSpreadRoundRobinOverReadyEndpointsOnKeptAliveConnections() async throws {
        try await ProxyLab.run { lab in
            let a = try await lab.startPod("127.0.0.2")
            let b = try await lab.startPod("127.0.0.3")
            let notReady = try await lab.startPod("127.0.0.4")
            let (service, slices) = ProxyLab.service("web", pods: [a, b], notReady: [notReady])
            lab.serve([Fixture.ingress("web", rules: [Fixture.rule("web.example", [Fixture.path("/", "Prefix", "web")])])],
                      services: [service], slices: slices)
            let before = (await ProxyLab.acceptedConnections(a), await ProxyLab.acceptedConnections(b))
            // One curl, ten requests over one client connection.
            let urls = (0..<10).map { "http://web.example:\(lab.httpPort)/r\($0)" }
            let (status, output) = await TestProcess.runAsync(
                ["/usr/bin/curl", "-sS", "--max-time", "30", "--resolve", "web.example:\(lab.httpPort):127.0.0.1",
                 "-w", "\n"] + urls)
            #expect(status == 0, "\(output)")
            let servers = output.split(separator: "\n").compactMap { line -> String? in
                let json = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any]
                return json?["server"] as? String
            }
            #expect(servers.count == 10, "\(output)")
            #expect(servers.filter { $0 == a.endpoint }.count == 5, "\(servers)")
            #expect(servers.filter { $0 == b.endpoint }.count == 5, "\(servers)")
            #expect(!servers.contains(notReady.endpoint), "a not-ready endpoint gets nothing")
            let after = (await ProxyLab.acceptedConnections(a), await ProxyLab.acceptedConnections(b))
            // Each pod: one connection from the proxy for its five requests, plus the stats query.
            #expect(after.0 - before.0 == 2, "pod a accepted \(after.0 - before.0 - 1) proxy connections")
            #expect(after.1 - before.1 == 2, "pod b accepted \(after.1 - before.1 - 1) proxy connections")
            #expect(await lab.server.backendConnectionsOpened() == 2)
        }
    }

    @Test func backendFailuresAnswer502503And504AndAConnectFailureMovesOn() async throws {
        try await ProxyLab.run(configure: { $0.backendTimeout = .seconds(1) }) { lab in
            let live = try await lab.startPod("127.0.0.2")
            let deadPort = Int(try LoopbackSocket.freePort())
            let dead = ProxyLab.Pod(pid: 0, address: "127.0.0.1", port: deadPort)
            let (empty, emptySlices) = ProxyLab.service("empty", pods: [])
            let (gone, goneSlices) = ProxyLab.service("gone", pods: [dead])
            let (mixed, mixedSlices) = ProxyLab.service("mixed", pods: [dead, live])
            let (slow, slowSlices) = ProxyLab.service("slow", pods: [live])
            lab.serve([Fixture.ingress("errors", rules: [
                Fixture.rule("empty.example", [Fixture.path("/", "Prefix", "empty")]),
                Fixture.rule("gone.example", [Fixture.path("/", "Prefix", "gone")]),
                Fixture.rule("mixed.example", [Fixture.path("/", "Prefix", "mixed")]),
                Fixture.rule("slow.example", [Fixture.path("/", "Prefix", "slow")]),
                Fixture.rule("missing.example", [Fixture.path("/", "Prefix", "nosuch")]),
            ])], services: [empty, gone, mixed, slow], slices: emptySlices + goneSlices + mixedSlices + slowSlices)

            let noEndpoints = await lab.curl("empty.example", "/")
            #expect(noEndpoints.code == 503)
            #expect(noEndpoints.body == "503 service unavailable\n")
            #expect((await lab.curl("missing.example", "/")).code == 503)
            let refused = await lab.curl("gone.example", "/")
            #expect(refused.code == 502)
            #expect(refused.body == "502 bad gateway\n")
            for _ in 0..<4 {
                let reply = await lab.curl("mixed.example", "/")
                #expect(reply.code == 200, "a refused connect is retried on the next endpoint: \(reply.output)")
                #expect(reply.server == live.endpoint)
            }
            let timedOut = await lab.curl("slow.example", "/slow?ms=3000")
            #expect(timedOut.code == 504)
            #expect(timedOut.body == "504 gateway timeout\n")
            let closed = await lab.curl("slow.example", "/close")
            #expect(closed.code == 502)
            #expect((await lab.curl("slow.example", "/after")).code == 200, "the proxy still serves")
        }
    }

    @Test func bodiesStreamBothWaysWithTheirFraming() async throws {
        try await ProxyLab.run { lab in
            let pod = try await lab.startPod("127.0.0.2")
            let (service, slices) = ProxyLab.service("files", pods: [pod])
            lab.serve([Fixture.ingress("files", rules: [Fixture.rule("files.example", [Fixture.path("/", "Prefix", "files")])])],
                      services: [service], slices: slices)
            // A 6 MB upload, with content-length and chunked.
            let upload = lab.root.path + "/upload.bin"
            var bytes = [UInt8](repeating: 0, count: 6 * 1024 * 1024)
            for index in bytes.indices { bytes[index] = UInt8(truncatingIfNeeded: index &* 31 &+ index >> 7) }
            try Data(bytes).write(to: URL(fileURLWithPath: upload))
            let (_, sum) = await TestProcess.runAsync(["/usr/bin/sha256sum", upload])
            let digest = String(sum.prefix(64))
            let posted = await lab.curl("files.example", "/upload", extra: ["--data-binary", "@" + upload])
            #expect(posted.code == 200, "\(posted.output.prefix(300))")
            #expect(posted.json["bodyLength"] as? Int == bytes.count)
            #expect(posted.json["bodySHA256"] as? String == digest)
            let chunked = await lab.curl("files.example", "/upload", extra: ["-H", "Transfer-Encoding: chunked", "--data-binary", "@" + upload])
            #expect(chunked.json["bodyLength"] as? Int == bytes.count)
            #expect(chunked.json["bodySHA256"] as? String == digest)
            #expect(chunked.header("transfer-encoding") == ["chunked"])
            // Expect: 100-continue is answered by the proxy, not left to curl's one-second wait.
            let expecting = await lab.curl("files.example", "/upload", extra: ["-H", "Expect: 100-continue", "--data-binary", "@" + upload])
            #expect(expecting.json["bodyLength"] as? Int == bytes.count)
            #expect(expecting.header("expect").isEmpty)

            // A 30 MB download, counted by curl.
            let download = await lab.curl("files.example", "/big?bytes=31457280", extra: ["-o", "/dev/null"])
            #expect(download.code == 200)
            #expect(download.size == 31_457_280, "\(download.output)")
            // A chunked response, to HTTP/1.1 and to HTTP/1.0 (no chunking there: the end is the close).
            let stream = await lab.curl("files.example", "/stream?chunks=4")
            #expect(stream.body.split(separator: "\n").count == 4, "\(stream.body)")
            let old = await lab.curl("files.example", "/stream?chunks=4", extra: ["--http1.0"])
            #expect(old.code == 200)
            #expect(old.body.split(separator: "\n").count == 4, "\(old.output)")
            // HEAD keeps the backend's content-length and has no body.
            let head = await lab.curl("files.example", "/big?bytes=12345", extra: ["-I"])
            #expect(head.code == 200)
            #expect(head.body.lowercased().contains("content-length: 12345"), "\(head.body)")
        }
    }
}
