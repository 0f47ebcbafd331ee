import APIServer
import Foundation
import KubeClient
import Server
import Storage

/// What a server is to its clients: the cluster CA with this server's serving certificate,
/// the cluster's tokens and the service-account signing key.
///
/// On SQLite these live only in DATA-DIR/server. On etcd the datastore holds the cluster's
/// copy (BootstrapData, encrypted with the server token as k3s does) and it wins over local
/// files, so every server started with the same `--token` serves as one cluster: the first
/// server stores its identity, the next ones read it. Data stored under another token stops
/// the server with a message (k3s: "bootstrap data already found and encrypted with different
/// token").
struct ServerIdentity {
    let certificates: ServerCertificates
    let credentials: ClusterCredentials
    let serviceAccounts: ServiceAccountIssuer

    /// Loads (or makes) the identity in `directory` (DATA-DIR/server), agreeing with the
    /// datastore and with `--token` first; `load` reads the files once they are settled.
    static func settle(directory: String, token: JoinToken?, datastore: DatastoreOptions.Datastore,
                       load: () async throws -> ServerIdentity) async throws -> ServerIdentity {
        let joinSecretPath = (directory as NSString).appendingPathComponent("cred/join-secret")
        let localSecret = (try? String(contentsOfFile: joinSecretPath, encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines).nonEmpty
        let identity: ServerIdentity
        switch datastore {
        case .sqlite:
            if let token, let localSecret, localSecret != token.secret {
                throw CLIError("--token differs from the token this server was made with (\(joinSecretPath)); start it without --token, or with that one")
            }
            if let token, localSecret == nil { try writeSecret(token.secret, to: joinSecretPath) }
            identity = try await load()
        case .etcd(let store):
            // The password of --token, else this server's own from an earlier start, else a
            // new one: the first server of a cluster makes the token the others join with.
            if let token { try writeSecret(token.secret, to: joinSecretPath) }
            let passphrase = try token?.secret ?? localSecret ?? ClusterCredentials.loadOrCreate(
                directory: (directory as NSString).appendingPathComponent("cred")).joinSecret
            do {
                if let stored = try await BootstrapData.load(from: store, passphrase: passphrase) {
                    try stored.write(to: directory)
                    identity = try await load()
                } else {
                    let own = try await load()
                    let local = try BootstrapData.read(from: directory)
                    let kept = try await local.store(in: store, passphrase: passphrase)
                    if kept == local {
                        identity = own
                    } else {
                        // Another server stored its identity first: take that one.
                        try kept.write(to: directory)
                        identity = try await load()
                    }
                }
            } catch let error as BootstrapError {
                throw CLIError(error.description)
            }
        }
        return try check(identity, against: token)
    }

    /// A K10 token names the CA it was made for: a server must not serve another one.
    private static func check(_ identity: ServerIdentity, against token: JoinToken?) throws -> ServerIdentity {
        if let expected = token?.caHash, expected != identity.certificates.caHash {
            throw CLIError("--token was made for a cluster CA with sha256 \(expected), but this cluster's CA is \(identity.certificates.caHash): use the token in DATA-DIR/server/token of this cluster's first server")
        }
        return identity
    }

    private static func writeSecret(_ secret: String, to path: String) throws {
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent,
                                                withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        try ServerCommand.write(secret + "\n", to: path)
    }
}

private extension String {
    var nonEmpty: String? { isEmpty ? nil : self }
}
