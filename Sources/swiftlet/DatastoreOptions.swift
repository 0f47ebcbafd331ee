import ArgumentParser
import EtcdStorage
import Foundation
import Storage

/// Where `swiftlet server` keeps the cluster's state: the embedded SQLite file (the default) or
/// an etcd cluster, with k3s' flag names (`--datastore-endpoint`, `--datastore-cafile`,
/// `--datastore-certfile`, `--datastore-keyfile`; docs.k3s.io/datastore).
struct DatastoreOptions: ParsableArguments {
    @Option(help: ArgumentHelp(
        "Where the cluster state is kept: sqlite://PATH (default: sqlite://DATA-DIR/server/state.db), or etcd's client URLs, comma-separated (http(s)://HOST:PORT,...), as k3s' --datastore-endpoint.",
        valueName: "endpoint"))
    var datastoreEndpoint: String?

    @Option(help: ArgumentHelp("PEM CA bundle that signed the etcd members' certificates (https endpoints).", valueName: "file"))
    var datastoreCafile: String?

    @Option(help: ArgumentHelp("PEM client certificate for etcd members started with --client-cert-auth.", valueName: "file"))
    var datastoreCertfile: String?

    @Option(help: ArgumentHelp("PEM private key of --datastore-certfile.", valueName: "file"))
    var datastoreKeyfile: String?

    /// An open store, and how to close it.
    enum Datastore {
        case sqlite(SQLiteStorage)
        case etcd(EtcdStorage)

        var storage: any Storage {
            switch self {
            case .sqlite(let store): return store
            case .etcd(let store): return store
            }
        }

        var isEtcd: Bool {
            if case .etcd = self { return true }
            return false
        }

        func close() async {
            switch self {
            case .sqlite(let store): await store.close()
            case .etcd(let store): await store.close()
            }
        }
    }

    /// What the flags name, checked before anything starts.
    enum Target {
        case sqlite(path: String)
        case etcd(EtcdClientSettings)
    }

    func target(defaultSQLitePath: String) throws -> Target {
        let endpoint = datastoreEndpoint ?? "sqlite://" + defaultSQLitePath
        if endpoint.hasPrefix("sqlite://") {
            guard datastoreCafile == nil, datastoreCertfile == nil, datastoreKeyfile == nil else {
                throw CLIError("--datastore-cafile, --datastore-certfile and --datastore-keyfile are for etcd endpoints, not \(endpoint)")
            }
            let path = String(endpoint.dropFirst("sqlite://".count))
            return .sqlite(path: path.isEmpty ? defaultSQLitePath : path)
        }
        for scheme in ["mysql://", "postgres://", "unix://"] where endpoint.hasPrefix(scheme) {
            throw CLIError("--datastore-endpoint \(endpoint): swiftlet stores in SQLite or etcd; \(scheme.dropLast(3)) is not supported")
        }
        let endpoints: [EtcdEndpoint]
        do {
            endpoints = try EtcdEndpoint.list(endpoint)
        } catch {
            throw CLIError("--datastore-endpoint: \(error.description)")
        }
        for (flag, path) in [("--datastore-cafile", datastoreCafile), ("--datastore-certfile", datastoreCertfile),
                             ("--datastore-keyfile", datastoreKeyfile)] {
            if let path, !FileManager.default.isReadableFile(atPath: path) {
                throw CLIError("\(flag) \(path): no such readable file")
            }
        }
        guard (datastoreCertfile == nil) == (datastoreKeyfile == nil) else {
            throw CLIError("--datastore-certfile and --datastore-keyfile go together")
        }
        return .etcd(EtcdClientSettings(endpoints: endpoints, caFile: datastoreCafile,
                                        certFile: datastoreCertfile, keyFile: datastoreKeyfile))
    }

    /// Opens the store `target(defaultSQLitePath:)` named (for etcd: connects and starts its watch feed).
    static func open(_ target: Target) async throws -> Datastore {
        switch target {
        case .sqlite(let path):
            do {
                return .sqlite(try SQLiteStorage(path: path))
            } catch {
                throw CLIError("cannot open the store \(path): \(error)")
            }
        case .etcd(let settings):
            do {
                let client = try EtcdClient(settings: settings)
                return .etcd(try await EtcdStorage(client: client))
            } catch {
                let list = settings.endpoints.map(\.description).joined(separator: ",")
                throw CLIError("cannot open the etcd datastore \(list): \(error)")
            }
        }
    }
}
