import Foundation
import Glibc

/// Debian's `docker-registry` (distribution 2.8) on a test host: TLS from a test CA made with
/// openssl, htpasswd authentication, filesystem storage under the test's directory, images
/// pushed with skopeo. The host is a network namespace: one of its own (the registry at
/// 10.89.0.1 on a veth inside it, reachable only from inside that namespace) or one a test
/// made (a cluster's lan host). `cleanUp` stops the registry by PID and removes what it made.
public final class TestRegistry: @unchecked Sendable {
    public let directory: String
    public let netns: String
    public let ip: String
    public let port: Int
    public let username = "puller"
    public let password = "s3cret-pull"
    private let ownsNetns: Bool
    private(set) var pid: pid_t = -1

    /// `host:port`, as image references name the registry.
    public var host: String { "\(ip):\(port)" }
    /// The test CA's certificate (PEM): what clients must trust.
    public var caFile: String { directory + "/ca.pem" }
    /// A directory with `ca.crt`, as skopeo's --cert-dir wants it.
    public var certDirectory: String { directory + "/certs" }
    /// The registry's access and error log.
    public var logFile: String { directory + "/registry.log" }
    public var log: String { (try? String(contentsOfFile: logFile, encoding: .utf8)) ?? "" }

    /// Requires docker-registry, skopeo, openssl and htpasswd (apache2-utils).
    public static let tools = ["/usr/bin/docker-registry", "/usr/bin/skopeo", "/usr/bin/openssl", "/usr/bin/htpasswd"]
    public static var available: Bool { tools.allSatisfy { FileManager.default.isExecutableFile(atPath: $0) } }

    /// A registry in `directory`; in `netns` at `ip` when given, else in a namespace of its own.
    public init(directory: String, netns: String? = nil, ip: String? = nil, port: Int = 5000) throws {
        guard Self.available else {
            throw FixtureError(message: "the registry tests need \(Self.tools.joined(separator: ", ")): apt-get install docker-registry skopeo openssl apache2-utils")
        }
        self.directory = directory
        self.port = port
        if let netns {
            self.netns = netns
            self.ip = ip ?? "127.0.0.1"
            ownsNetns = false
        } else {
            self.netns = "swl-reg-\(UUID().uuidString.prefix(6).lowercased())"
            self.ip = "10.89.0.1"
            ownsNetns = true
            try TestProcess.run(["/usr/sbin/ip", "netns", "add", self.netns])
            try inNetns(["/usr/sbin/ip", "link", "set", "lo", "up"])
            // A veth pair with both ends inside (the dummy driver may not be loaded): an address
            // that is not loopback, as a registry on another machine has.
            try inNetns(["/usr/sbin/ip", "link", "add", "reg0", "type", "veth", "peer", "name", "reg1"])
            try inNetns(["/usr/sbin/ip", "addr", "add", "\(self.ip)/24", "dev", "reg0"])
            try inNetns(["/usr/sbin/ip", "link", "set", "reg0", "up"])
            try inNetns(["/usr/sbin/ip", "link", "set", "reg1", "up"])
        }
        try FileManager.default.createDirectory(atPath: certDirectory, withIntermediateDirectories: true)
        try makeCertificates()
        try TestProcess.run(["/bin/sh", "-c", "/usr/bin/htpasswd -Bbn '\(username)' '\(password)' > '\(directory)/htpasswd'"])
    }

    deinit { cleanUp() }

    /// `argv` run inside the registry's namespace.
    public func inNetns(_ argv: [String]) throws {
        try TestProcess.run(TestProcess.inNetns(netns, argv))
    }

    private func makeCertificates() throws {
        let d = directory
        try TestProcess.run(["/usr/bin/openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                             "-nodes", "-keyout", d + "/ca-key.pem", "-out", d + "/ca.pem", "-days", "2",
                             "-subj", "/CN=swiftlet test registry CA",
                             "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"])
        try TestProcess.run(["/usr/bin/openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                             "-keyout", d + "/server-key.pem", "-out", d + "/server.csr", "-subj", "/CN=registry"])
        try "subjectAltName=IP:\(ip),DNS:registry.test\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n"
            .write(toFile: d + "/server.ext", atomically: true, encoding: .utf8)
        try TestProcess.run(["/usr/bin/openssl", "x509", "-req", "-in", d + "/server.csr", "-CA", d + "/ca.pem",
                             "-CAkey", d + "/ca-key.pem", "-CAcreateserial", "-out", d + "/server.pem", "-days", "2",
                             "-extfile", d + "/server.ext"])
        try FileManager.default.copyItem(atPath: d + "/ca.pem", toPath: certDirectory + "/ca.crt")
    }

    /// Starts the registry (TLS always; htpasswd authentication unless `auth` is false) and
    /// waits until it answers.
    public func start(auth: Bool = true) async throws {
        let authSection = auth ? """
            auth:
              htpasswd:
                realm: swiftlet-test
                path: \(directory)/htpasswd
            """ : ""
        let config = """
            version: 0.1
            log:
              level: info
              formatter: text
            storage:
              filesystem:
                rootdirectory: \(directory)/data
              delete:
                enabled: true
            http:
              addr: \(ip):\(port)
              tls:
                certificate: \(directory)/server.pem
                key: \(directory)/server-key.pem
            \(authSection)
            """
        try config.write(toFile: directory + "/config.yml", atomically: true, encoding: .utf8)
        pid = try TestProcess.spawn(TestProcess.inNetns(netns, ["/usr/bin/docker-registry", "serve", directory + "/config.yml"]),
                                    log: logFile)
        let up = await TestProcess.waitFor(20) {
            let (status, _) = await TestProcess.runAsync(TestProcess.inNetns(netns, [
                "/usr/bin/curl", "-s", "-o", "/dev/null", "--cacert", caFile, "https://\(host)/v2/",
            ]))
            return status == 0
        }
        guard up else { throw FixtureError(message: "docker-registry did not start:\n\(log)") }
    }

    /// Pushes the image `source` (a skopeo source such as `oci:/path/layout:tag`) to
    /// `repository:tag` with skopeo, authenticated and verifying the registry's certificate;
    /// `all` copies every platform of an index.
    public func push(_ source: String, to repository: String, tag: String, all: Bool = false) async throws {
        var argv = ["/usr/bin/skopeo", "copy", "--quiet", "--dest-creds", "\(username):\(password)",
                    "--dest-cert-dir", certDirectory]
        if all { argv.append("--all") }
        argv += [source, "docker://\(host)/\(repository):\(tag)"]
        let (status, output) = await TestProcess.runAsync(TestProcess.inNetns(netns, argv))
        guard status == 0 else { throw FixtureError(message: "skopeo push of \(source) failed: \(output)") }
    }

    /// The file the registry serves a blob from (to corrupt it, say).
    public func blobFile(_ digest: String) -> String {
        let hex = digest.hasPrefix("sha256:") ? String(digest.dropFirst(7)) : digest
        return directory + "/data/docker/registry/v2/blobs/sha256/\(hex.prefix(2))/\(hex)/data"
    }

    /// How many `GET /v2/<repository>/blobs/<digest>` requests the registry answered with 200.
    public func blobDownloads(_ digest: String) -> Int {
        log.split(separator: "\n").filter { $0.contains("\"GET /v2/") && $0.contains("/blobs/\(digest) HTTP") && $0.contains("\" 200 ") }.count
    }

    /// Stops the registry and removes its namespace (when it made one). Safe to call twice.
    public func cleanUp() {
        TestProcess.stop(pid, signal: SIGKILL)
        pid = -1
        if ownsNetns { _ = try? TestProcess.run(["/usr/sbin/ip", "netns", "del", netns]) }
    }
}
