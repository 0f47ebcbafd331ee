import Storage

/// Reading and storing the shared server identity, as k3s' pkg/cluster/storage.go does:
/// the first server stores its identity under the key of its token; a server started later
/// with the same token reads it back; data stored for another token means the datastore
/// belongs to another cluster (or the token is wrong), and the server refuses to start.
extension BootstrapData {
    /// The data stored for `passphrase`, or nil when the datastore holds none (the first
    /// server). Throws when the datastore holds bootstrap data of another token.
    public static func load(from storage: any Storage, passphrase: String) async throws -> BootstrapData? {
        if let stored = try await storage.get(storageKey(passphrase: passphrase)) {
            return try decrypt(stored.value, passphrase: passphrase)
        }
        let others = try await storage.list(prefix: "/bootstrap/").objects.map(\.key).filter(isStorageKey)
        guard others.isEmpty else {
            // k3s: "bootstrap data already found and encrypted with different token".
            throw BootstrapError("the datastore already holds the bootstrap data of a cluster with another token (\(others.joined(separator: ", "))): start this server with that cluster's --token (DATA-DIR/server/token on its first server), or use a datastore of its own")
        }
        return nil
    }

    /// Stores this identity for `passphrase` unless another server stored one first, and
    /// returns the identity that is now the cluster's: this one, or the one that won the race
    /// (never serve with an identity the datastore does not hold).
    public func store(in storage: any Storage, passphrase: String) async throws -> BootstrapData {
        let key = Self.storageKey(passphrase: passphrase)
        do {
            _ = try await storage.create(key, value: try encrypted(passphrase: passphrase))
            return self
        } catch StorageError.alreadyExists {
            guard let theirs = try await storage.get(key) else {
                throw BootstrapError("the bootstrap data at \(key) was created and deleted while this server started: start it again")
            }
            return try Self.decrypt(theirs.value, passphrase: passphrase)
        }
    }
}
