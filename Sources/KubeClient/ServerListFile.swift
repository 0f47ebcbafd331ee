import Foundation
import Logging

/// The API servers an agent learned, kept in `<agent data>/credential/servers` so that a
/// restarted agent can reach a surviving server when the one it joined is gone. k3s keeps
/// its load balancer's list the same way (pkg/agent/loadbalancer/config.go, written to
/// `<data>/etc/<service>.json`) and reuses it only when the saved `ServerURL` is the server
/// it starts with: a node pointed at another server must not wander back to old addresses.
///
/// JSON: `{"server": "https://10.0.0.1:6443", "servers": ["https://10.0.0.1:6443", ...]}`,
/// mode 0600, replaced atomically. A file that is too large, not this JSON, for another
/// server, or that holds anything but `https://host:port` addresses is ignored with a log
/// line: the agent then starts from its `--server` alone, as on first start.
struct ServerListFile: Codable, Equatable {
    /// The server the node joined (`--server`), canonical.
    var server: String
    /// The servers learned from the `default/kubernetes` Endpoints, canonical.
    var servers: [String]

    /// More than any cluster has servers; a longer list is not one this agent wrote.
    static let maximumServers = 32
    /// Bytes read at most: 32 addresses of the longest form fit many times over.
    static let maximumBytes = 64 * 1024

    /// `<credential directory>/servers`.
    static func path(directory: String) -> String {
        (directory as NSString).appendingPathComponent("servers")
    }

    /// The servers saved for `server` at `path`; empty when there is no usable file.
    static func load(path: String, server: String, logger: Logger) -> [String] {
        guard let handle = FileHandle(forReadingAtPath: path) else { return [] }
        defer { try? handle.close() }
        let data: Data
        do {
            data = try handle.read(upToCount: maximumBytes + 1) ?? Data()
        } catch {
            logger.warning("ignoring the saved API server list: cannot read it", metadata: ["file": "\(path)", "error": "\(error)"])
            return []
        }
        guard data.count <= maximumBytes else {
            logger.warning("ignoring the saved API server list: larger than \(maximumBytes) bytes", metadata: ["file": "\(path)"])
            return []
        }
        let saved: ServerListFile
        do {
            saved = try JSONDecoder().decode(ServerListFile.self, from: data)
        } catch {
            logger.warning("ignoring the saved API server list: not a server list",
                           metadata: ["file": "\(path)", "error": "\(APIClient.describe(decoding: error))"])
            return []
        }
        guard ServerAddress.normalize(saved.server) == server else {
            logger.info("ignoring the saved API server list: it was learned through another server",
                        metadata: ["file": "\(path)", "savedFor": "\(saved.server.prefix(ServerAddress.maximumLength))", "server": "\(server)"])
            return []
        }
        guard saved.servers.count <= maximumServers else {
            logger.warning("ignoring the saved API server list: more than \(maximumServers) servers", metadata: ["file": "\(path)"])
            return []
        }
        var servers: [String] = []
        for entry in saved.servers {
            guard let address = ServerAddress.normalize(entry) else {
                logger.warning("ignoring the saved API server list: an entry is not https://HOST:PORT",
                               metadata: ["file": "\(path)", "entry": "\(entry.prefix(ServerAddress.maximumLength))"])
                return []
            }
            if !servers.contains(address) { servers.append(address) }
        }
        return servers
    }

    /// Writes the list (a temporary file renamed over `path`, mode 0600).
    func save(path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = try encoder.encode(self)
        try SecretFile.write(String(decoding: data, as: UTF8.self) + "\n", to: path)
    }
}
