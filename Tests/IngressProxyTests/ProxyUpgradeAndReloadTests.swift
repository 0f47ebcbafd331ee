import Foundation
import IngressProxy
import KubeAPI
import NIOCore
import Testing
import TestSupport

/// WebSocket through the proxy, and route changes while requests are in flight.
@Suite(.serialized, .ownThreads) struct ProxyUpgradeAndReloadTests {
    @Test func aWebSocketEchoesThroughTheProxy() async throws {
        try await ProxyLab.run { lab in
            let pod = try await lab.startPod("127.0.0.2")
            let (service, slices) = ProxyLab.service("chat", pods: [pod])
            lab.serve([Fixture.ingress("chat", rules: [Fixture.rule("chat.example", [Fixture.path("/", "Prefix", "chat")])])],
                      services: [service], slices: slices)
            for _ in 0..<3 {
                let (status, output) = await ProxyLab.python("ws_client.py", ["\(lab.httpPort)", "chat.example"])
                #expect(status == 0, "\(output)")
                #expect(output.hasPrefix("OK \(pod.endpoint)"), "\(output)")
            }
            // Over TLS: the epoll loop does the handshake and relays the upgraded connection to NIO.
            let (status, output) = await ProxyLab.python("ws_client.py", ["\(lab.httpsPort)", "chat.example", "tls"])
            #expect(status == 0, "\(output)")
            #expect(output.hasPrefix("OK \(pod.endpoint)"), "\(output)")
            #expect(lab.server.dataPathTLSCounts == (1, 1))
            // The connections are tunnels now, not pooled HTTP: plain requests still work.
            #expect((await lab.curl("chat.example", "/")).server == pod.endpoint)
        }
    }

    @Test func aRouteChangeAppliesToTheNextRequestAndInFlightOnesFinish() async throws {
        try await ProxyLab.run { lab in
            let old = try await lab.startPod("127.0.0.2")
            let new = try await lab.startPod("127.0.0.3")
            let (oldService, oldSlices) = ProxyLab.service("old", pods: [old])
            let (newService, newSlices) = ProxyLab.service("new", pods: [new])
            let services = [oldService, newService]
            let slices = oldSlices + newSlices
            lab.serve([Fixture.ingress("site", rules: [Fixture.rule("site.example", [Fixture.path("/", "Prefix", "old")])])],
                      services: services, slices: slices)
            #expect((await lab.curl("site.example", "/")).server == old.endpoint)
            let listening = lab.server.httpAddresses

            // Two slow requests in flight (one over HTTP/2) when the rules change: the change
            // waits until the old pod is answering both (curl may take a while to start on a
            // loaded machine), and they last long enough for the change to land meanwhile.
            async let slow = lab.curl("site.example", "/slow?ms=3000")
            async let slowH2 = lab.curl("site.example", "/slow?ms=3000", tls: true, extra: ["--http2"])
            let inFlight = await TestProcess.waitFor(20) { await ProxyLab.slowInProgress(old) == 2 }
            #expect(inFlight, "both slow requests reached the old pod")
            lab.serve([Fixture.ingress("site", rules: [Fixture.rule("site.example", [Fixture.path("/", "Prefix", "new")])])],
                      services: services, slices: slices)
            let next = await lab.curl("site.example", "/")
            #expect(next.server == new.endpoint, "the next request follows the new rules")
            let (finished, finishedH2) = await (slow, slowH2)
            #expect(finished.code == 200, "\(finished.output)")
            #expect(finished.server == old.endpoint, "the request in flight finished on its backend")
            #expect(finishedH2.code == 200, "\(finishedH2.output)")
            #expect(finishedH2.server == old.endpoint)
            #expect(lab.server.httpAddresses == listening, "no listener was restarted")

            // Endpoints change the same way: the old pod leaves, the new one serves.
            lab.serve([Fixture.ingress("site", rules: [Fixture.rule("site.example", [Fixture.path("/", "Prefix", "old")])])],
                      services: services, slices: ProxyLab.service("old", pods: [new]).1 + newSlices)
            #expect((await lab.curl("site.example", "/")).server == new.endpoint)
        }
    }

    @Test func shutdownLetsTheResponseInProgressFinishAndStopsListening() async throws {
        try await ProxyLab.run { lab in
            let pod = try await lab.startPod("127.0.0.2")
            let (service, slices) = ProxyLab.service("web", pods: [pod])
            lab.serve([Fixture.ingress("web", rules: [Fixture.rule("web.example", [Fixture.path("/", "Prefix", "web")])])],
                      services: [service], slices: slices)
            // The shutdown starts once the pod is answering the slow request (a fixed 300 ms did
            // not always give curl time to start on a loaded machine); under 3 s of answer remain, well
            // within the 5 s grace period.
            // Over plain HTTP, over TLS on the epoll loop, and over TLS relayed to NIO (a body).
            async let slow = lab.curl("web.example", "/slow?ms=3000")
            async let slowTLS = lab.curl("web.example", "/slow?ms=3000", tls: true, extra: ["--http1.1"])
            async let slowRelayed = lab.curl("web.example", "/slow?ms=3000", tls: true, extra: ["--http1.1", "--data-binary", "x"])
            let inFlight = await TestProcess.waitFor(20) { await ProxyLab.slowInProgress(pod) == 3 }
            #expect(inFlight, "the slow requests reached the pod")
            await lab.server.shutdown(gracePeriod: .seconds(5))
            for finished in [await slow, await slowTLS, await slowRelayed] {
                #expect(finished.code == 200, "\(finished.output)")
                #expect(finished.server == pod.endpoint)
            }
            #expect(lab.server.dataPathTLSCounts == (2, 1))
            #expect(lab.server.connectionCount == 0)
            let refused = await lab.curl("web.example", "/")
            #expect(refused.code == 0, "nothing listens any more: \(refused.output)")
            let refusedTLS = await lab.curl("web.example", "/", tls: true)
            #expect(refusedTLS.code == 0, "\(refusedTLS.output)")
        }
    }
}
