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
}
