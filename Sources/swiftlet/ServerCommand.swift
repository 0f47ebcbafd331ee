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
        Serves plain HTTP on --http-listen (TLS, authentication, the scheduler and controllers \
        are not implemented yet). Point kubectl at it with a kubeconfig whose server is \
        http://ADDRESS:PORT. Stops on SIGTERM or SIGINT; everything written is on disk first.
        """
    )

    @Option(name: .long, help: "Directory for the store (created if missing).")
    var dataDir: String = "/var/lib/swiftlet/server"

    @Option(name: .long, help: "Address and port to serve plain HTTP on, as HOST:PORT (port 0 picks a free one).")
    var httpListen: String = "127.0.0.1:6443"

    @Option(name: .long, help: "IPv4 range Service cluster IPs are allocated from.")
    var serviceCIDR: String = "10.43.0.0/16"

    func run() async throws {
        let (host, port) = try Self.parseListen(httpListen)
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
        let server = APIServer(service: service,
                               configuration: APIServerConfiguration(host: host, port: port, gitVersion: SwiftletVersion.kubernetes),
                               logger: logger)
        try await server.run(handleSignals: true) { port in
            // One parseable line for scripts and tests that started us with port 0.
            FileHandle.standardOutput.write(Data("swiftlet server listening on http://\(host):\(port)\n".utf8))
        }
        await storage.close()
    }

    /// `HOST:PORT`, with IPv6 hosts in brackets.
    static func parseListen(_ text: String) throws -> (String, Int) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port) else {
            throw CLIError("--http-listen \(text): expected HOST:PORT such as 127.0.0.1:6443")
        }
        var host = String(text[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return (host.isEmpty ? "0.0.0.0" : host, port)
    }
}
