import APITestSupport
import Foundation
import ServerTestSupport
import Testing
import TestSupport

/// A watch that ends at its `timeoutSeconds` ends its HTTP response properly (the last chunk)
/// and a client that pools connections (the Python client's urllib3, client-go) gets its next
/// request answered: the server closes the connection after a watch, and says so with
/// `Connection: close`, so the client does not send the next request into a closing socket
/// (issue 17: seen as a race with the Python client).
@Suite struct WatchKeepAliveTests {
    /// Python's http.client on one connection: a watch that times out, read to its end, then a
    /// plain GET on the same connection, many times over. Prints OK or the failure.
    static let script = #"""
        import http.client, json, sys
        port = int(sys.argv[1])
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
        for round in range(int(sys.argv[2])):
            conn.request("GET", "/api/v1/namespaces/default/configmaps?watch=1&timeoutSeconds=1")
            watch = conn.getresponse()
            assert watch.status == 200, watch.status
            assert watch.getheader("Transfer-Encoding") == "chunked", watch.getheaders()
            lines = [l for l in watch.read().split(b"\n") if l]
            assert all(json.loads(l)["type"] in ("ADDED", "BOOKMARK") for l in lines), lines
            # Either the connection stays open, or the server said it closes it (then
            # http.client opens a new one for the next request, as urllib3 and Go do).
            try:
                conn.request("GET", "/api/v1/namespaces/default")
                plain = conn.getresponse()
                body = json.loads(plain.read())
            except Exception as error:
                print("round %d: the connection broke after the watch: %r" % (round, error))
                sys.exit(1)
            assert plain.status == 200 and body["metadata"]["name"] == "default", (plain.status, body)
        print("OK")
        """#

    @Test func aTimedOutWatchLeavesTheConnectionUsable() async throws {
        try await withTestServer { server in
            let path = server.directory + "/keepalive.py"
            try Self.script.write(toFile: path, atomically: true, encoding: .utf8)
            let (status, output) = await TestProcess.runAsync(["/usr/bin/python3", path, "\(server.port)", "5"])
            #expect(status == 0 && output.contains("OK"), "\(output)")
        }
    }
}
