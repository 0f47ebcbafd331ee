import Foundation

/// What an agent needs to talk to its server: where it is, the CA to trust, and the node's
/// bearer token (identity `system:node:<name>`).
///
/// Kept in `<agent data dir>/credential/` as `server`, `ca.crt`, `token` and `node-name`
/// (mode 0600), beside `node-password`, the node's secret that proves it is the same machine
/// when it joins again (k3s' `/etc/rancher/node/password`), and `servers`, the API servers the
/// agent learned (`ServerListFile`, written by `ServerPool`).
public struct NodeCredential: Sendable, Equatable {
    /// `https://host:port`.
    public let server: String
    /// The cluster CA bundle, PEM.
    public let caPEM: String
    /// The node's bearer token.
    public let token: String
    public let nodeName: String

    public init(server: String, caPEM: String, token: String, nodeName: String) {
        self.server = server
        self.caPEM = caPEM
        self.token = token
        self.nodeName = nodeName
    }

    /// A client of the server authenticated as this node. Call `shutdown()` on it when done.
    public func makeClient() throws -> APIClient {
        try APIClient(server: server, caPEM: caPEM, bearerToken: token)
    }

    /// A client of the cluster's servers as the pool picks them, authenticated as this node.
    /// Call `shutdown()` on it when done.
    public func makeClient(pool: ServerPool) throws -> APIClient {
        try APIClient(pool: pool, caPEM: caPEM, bearerToken: token)
    }

    /// `<dataDirectory>/credential`.
    public static func directory(dataDirectory: String) -> String {
        (dataDirectory as NSString).appendingPathComponent("credential")
    }

    /// The credential stored by an earlier join, if there is a complete one.
    public static func load(dataDirectory: String) -> NodeCredential? {
        let directory = directory(dataDirectory: dataDirectory)
        func read(_ name: String) -> String? {
            guard let text = try? String(contentsOfFile: directory + "/" + name, encoding: .utf8) else { return nil }
            let trimmed = name == "ca.crt" ? text : text.trimmingCharacters(in: .whitespacesAndNewlines)
            return trimmed.isEmpty ? nil : trimmed
        }
        guard let server = read("server"), let ca = read("ca.crt"), let token = read("token"), let node = read("node-name") else {
            return nil
        }
        return NodeCredential(server: server, caPEM: ca, token: token, nodeName: node)
    }

    /// Stores the credential (each file replaced atomically, mode 0600).
    public func save(dataDirectory: String) throws {
        let directory = Self.directory(dataDirectory: dataDirectory)
        try SecretFile.makeDirectory(directory)
        try SecretFile.write(caPEM, to: directory + "/ca.crt")
        try SecretFile.write(server + "\n", to: directory + "/server")
        try SecretFile.write(nodeName + "\n", to: directory + "/node-name")
        // The token last: a credential with a token is complete.
        try SecretFile.write(token + "\n", to: directory + "/token")
    }
}

/// Files only their owner may read, written whole or not at all.
enum SecretFile {
    static func makeDirectory(_ path: String) throws {
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o700])
        } catch {
            throw JoinError.failed("cannot create \(path) for the node credential: \(error.localizedDescription)")
        }
    }

    /// Writes `text` to a temporary file of mode 0600 and renames it over `path`.
    static func write(_ text: String, to path: String) throws {
        let temporary = path + ".tmp"
        guard FileManager.default.createFile(atPath: temporary, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600]) else {
            throw JoinError.failed("cannot write \(temporary): permission denied or the disk is full")
        }
        // createFile keeps the mode of a file that was already there.
        guard chmod(temporary, 0o600) == 0, rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw JoinError.failed("cannot store \(path): \(reason)")
        }
    }
}
