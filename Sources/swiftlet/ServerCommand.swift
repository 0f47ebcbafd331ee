import ArgumentParser
import Foundation
import Logging
import Server

/// `swiftlet server`: the Kubernetes API server over the embedded SQLite store.
struct ServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "server",
        abstract: "Run the control plane: a Kubernetes API server backed by an embedded SQLite store.",
        discussion: """
        Serves HTTPS on --https-listen (default 0.0.0.0:6443) with a cluster CA made on first \
        start, bearer-token authentication, an admin kubeconfig written to --write-kubeconfig \
        and the agents' join token in DATA-DIR/token. --http-listen alone serves plain HTTP \
        without authentication instead, for local tests. The scheduler and controllers are not \
        implemented yet. Stops on SIGTERM or SIGINT; everything acknowledged is on disk first.
        """
    )

    @Option(name: .long, help: "Directory for the store, CA and tokens (created if missing).")
    var dataDir: String = "/var/lib/swiftlet/server"

    @Option(name: .long, help: "Serve HTTPS on HOST:PORT (default 0.0.0.0:6443 unless only --http-listen is given).")
    var httpsListen: String?

    @Option(name: .long, help: "Serve plain, unauthenticated HTTP on HOST:PORT (port 0 picks a free one); for local tests only.")
    var httpListen: String?

    @Option(name: .long, help: "Where to write the admin kubeconfig (mode 0600).")
    var writeKubeconfig: String = "/etc/swiftlet/swiftlet.yaml"

    @Option(name: .long, help: "Extra name or IP address for the serving certificate (repeatable).")
    var tlsSan: [String] = []

    @Option(name: .long, help: "IPv4 range Service cluster IPs are allocated from.")
    var serviceCIDR: String = "10.43.0.0/16"

    @Option(name: .customLong("cluster-cidr"), help: "IPv4 network of the pods; each node gets a /24 of it.")
    var clusterCIDR: String = "10.42.0.0/16"

    func run() async throws {
        let https = try httpsListen.map(Self.parseListen) ?? (httpListen == nil ? ("0.0.0.0", 6443) : nil)
        let http = try httpListen.map(Self.parseListen)
        do {
            try FileManager.default.createDirectory(atPath: dataDir, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o700])
        } catch {
            throw CLIError("cannot create the data directory \(dataDir): \(error.localizedDescription)")
        }
        let storePath = (dataDir as NSString).appendingPathComponent("state.db")
        let storage: SQLiteStorage
        do {
            storage = try SQLiteStorage(path: storePath)
        } catch {
            throw CLIError("cannot open the store \(storePath): \(error)")
        }
        let service = try APIService(storage: storage, serviceCIDR: serviceCIDR)
        try await service.bootstrap()
        var logger = Logger(label: "swiftlet.server")
        logger.logLevel = .info

        var servers: [APIServer] = []
        var kubeconfigWriter: (@Sendable (Int) -> Void)?
        if let (host, port) = https {
            let certificates = try await ServerCertificates.loadOrCreate(
                directory: (dataDir as NSString).appendingPathComponent("tls"),
                dnsNames: [ProcessInfo.processInfo.hostName] + tlsSan.filter { ServerCertificatesNames.isName($0) },
                ipAddresses: [host, "10.43.0.1"].filter { $0 != "0.0.0.0" && $0 != "::" && ServerCertificatesNames.isAddress($0) }
                    // Listening everywhere: agents may dial any of this host's addresses.
                    + (host == "0.0.0.0" || host == "::" ? HostAddresses.ipv4() : [])
                    + tlsSan.filter(ServerCertificatesNames.isAddress))
            let credentials = try ClusterCredentials.loadOrCreate(directory: (dataDir as NSString).appendingPathComponent("cred"))
            let tokenPath = (dataDir as NSString).appendingPathComponent("token")
            try Self.write(credentials.joinToken(caHash: certificates.caHash) + "\n", to: tokenPath)
            servers.append(APIServer(service: service, configuration: APIServerConfiguration(
                host: host, port: port, gitVersion: SwiftletVersion.kubernetes,
                tls: TLSMaterial(certificatePEM: certificates.servingCertificatePEM, keyPEM: certificates.servingKeyPEM),
                authenticator: Authenticator(credentials: credentials),
                caCertificatePEM: certificates.caCertificatePEM), logger: logger))
            let kubeconfigPath = writeKubeconfig
            let clientHost = host == "0.0.0.0" || host == "::" ? "127.0.0.1" : host
            kubeconfigWriter = { port in
                let server = clientHost.contains(":") ? "https://[\(clientHost)]:\(port)" : "https://\(clientHost):\(port)"
                do {
                    try FileManager.default.createDirectory(atPath: (kubeconfigPath as NSString).deletingLastPathComponent,
                                                            withIntermediateDirectories: true)
                    try Self.write(credentials.adminKubeconfig(server: server, caPEM: certificates.caCertificatePEM), to: kubeconfigPath)
                } catch {
                    FileHandle.standardError.write(Data("swiftlet server: cannot write the admin kubeconfig \(kubeconfigPath): \(error)\n".utf8))
                }
            }
        }
        if let (host, port) = http {
            servers.append(APIServer(service: service, configuration: APIServerConfiguration(
                host: host, port: port, gitVersion: SwiftletVersion.kubernetes), logger: logger))
        }
        let controllers = ControllerManager(service: service, settings: controllerSettings(), logger: logger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await controllers.run() }
            for server in servers {
                let scheme = server.configuration.tls == nil ? "http" : "https"
                let host = server.configuration.host
                let writer = server.configuration.tls == nil ? nil : kubeconfigWriter
                group.addTask {
                    try await server.run(handleSignals: true) { port in
                        writer?(port)
                        // One parseable line for scripts and tests that started us with port 0.
                        FileHandle.standardOutput.write(Data("swiftlet server listening on \(scheme)://\(host):\(port)\n".utf8))
                    }
                }
            }
            // The first server to stop (a signal stops all of them) ends the command; the
            // controllers only stop when cancelled.
            try await group.next()
            group.cancelAll()
        }
        await storage.close()
    }

    /// The controllers' settings from the command line.
    func controllerSettings() -> ControllerSettings {
        var settings = ControllerSettings()
        settings.clusterCIDR = clusterCIDR
        return settings
    }

    /// Writes a secret-bearing file readable by its owner only.
    static func write(_ text: String, to path: String) throws {
        guard FileManager.default.createFile(atPath: path, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600]) else {
            throw CLIError("cannot write \(path)")
        }
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path)
    }

    /// `HOST:PORT`, with IPv6 hosts in brackets.
    static func parseListen(_ text: String) throws -> (String, Int) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port) else {
            throw CLIError("\(text): expected HOST:PORT such as 127.0.0.1:6443")
        }
        var host = String(text[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return (host.isEmpty ? "0.0.0.0" : host, port)
    }
}

/// Sorting `--tls-san` values into names and addresses.
enum ServerCertificatesNames {
    static func isAddress(_ text: String) -> Bool {
        var v4 = in_addr(), v6 = in6_addr()
        return inet_pton(AF_INET, text, &v4) == 1 || inet_pton(AF_INET6, text, &v6) == 1
    }

    static func isName(_ text: String) -> Bool {
        !isAddress(text)
    }
}
