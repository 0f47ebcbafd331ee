import Foundation
import TestSupport
import Testing

/// `swiftlet server` refuses impossible flag values before it starts anything, naming the flag.
@Suite struct ServerFlagTests {
    @Test(arguments: [
        (["--event-ttl", "0s"], "--event-ttl 0s: expected a positive duration such as 1h or 90m"),
        (["--event-ttl", "an hour"], "--event-ttl an hour: expected a positive duration"),
        (["--event-ttl=-1h"], "--event-ttl -1h: expected a positive duration"),
        (["--service-cidr", "10.43.0.0/8"], "--service-cidr 10.43.0.0/8: expected an IPv4 network with a prefix of 12 to 30 bits"),
        (["--advertise-address", "127.0.0.1"], "--advertise-address 127.0.0.1: expected an IPv4 address pods can reach"),
        (["--controllers", "*,-servicelb"], #"--controllers *,-servicelb: "servicelb" is not in the list of known controllers (scheduler, "#),
        (["--datastore-endpoint", "mysql://k3s:pw@tcp(db:3306)/k3s"], "swiftlet stores in SQLite or etcd; mysql is not supported"),
        (["--datastore-endpoint", "etcd-1:2379"], #"--datastore-endpoint: etcd endpoint "etcd-1:2379": expected http://HOST:PORT or https://HOST:PORT"#),
        (["--datastore-endpoint", "https://10.0.0.5:2379,"], #"etcd endpoints "https://10.0.0.5:2379,": an empty entry"#),
        (["--datastore-endpoint", "http://10.0.0.5:2379", "--datastore-certfile", "/nonexistent/client.crt"],
         "--datastore-certfile /nonexistent/client.crt: no such readable file"),
        (["--datastore-cafile", "/etc/hostname"], "--datastore-cafile, --datastore-certfile and --datastore-keyfile are for etcd endpoints"),
        (["--token", "two words"], "--token: "),
        (["--token", "K10abc::server:secret"], "the CA hash of a K10 token is 64 hex digits"),
        (["--token-file", "/nonexistent/token"], "--token: cannot read the token file /nonexistent/token"),
    ])
    func impossibleValuesAreRefusedByName(flags: [String], message: String) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("flags-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (status, output) = await TestProcess.runAsync(
            [ServerProcess.binary, "server", "--data-dir", directory, "--http-listen", "127.0.0.1:0", "--disable-agent"] + flags)
        #expect(status != 0)
        #expect(output.contains(message), "output: \(output)")
        #expect(!FileManager.default.fileExists(atPath: directory + "/server/state.db"), "nothing was started")
    }

    /// On SQLite the token is the one the server was made with: another one is refused (k3s
    /// refuses a changed token the same way) and the server still starts with its own.
    @Test func aSQLiteServerRefusesATokenOtherThanItsOwn() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("token-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let arguments = ["--https-listen", "127.0.0.1:0", "--disable-agent", "--write-kubeconfig", directory + "/admin.yaml"]
        let first = try await ServerProcess(dataDirectory: directory + "/data", arguments: arguments + ["--token", "first-secret"])
        await first.stop()
        let token = try String(contentsOfFile: directory + "/data/server/token", encoding: .utf8)
        #expect(token.hasSuffix("::server:first-secret\n"), "\(token)")
        let (status, output) = await TestProcess.runAsync(
            [ServerProcess.binary, "server", "--data-dir", directory + "/data"] + arguments + ["--token", "other-secret"])
        #expect(status != 0)
        #expect(output.contains("--token differs from the token this server was made with"), "output: \(output)")
        let again = try await ServerProcess(dataDirectory: directory + "/data", arguments: arguments + ["--token", token])
        await again.stop()
    }
}
