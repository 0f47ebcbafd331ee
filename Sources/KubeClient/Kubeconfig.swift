import Foundation
import Yams

/// The parts of a kubeconfig a token-authenticated client needs: the current context's
/// server, CA and bearer token (what `swiftlet server` writes to /etc/swiftlet/swiftlet.yaml).
public struct Kubeconfig: Sendable, Equatable {
    public let server: String
    public let caPEM: String
    public let token: String?

    public init(server: String, caPEM: String, token: String?) {
        self.server = server
        self.caPEM = caPEM
        self.token = token
    }

    /// Which kubeconfig to use: `explicit`, else `$KUBECONFIG` (its first path), else
    /// swiftlet's admin kubeconfig.
    public static func path(explicit: String?, environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let explicit, !explicit.isEmpty { return explicit }
        if let variable = environment["KUBECONFIG"]?.split(separator: ":").first, !variable.isEmpty { return String(variable) }
        return "/etc/swiftlet/swiftlet.yaml"
    }

    /// Reads the current context of the kubeconfig at `path`.
    public static func load(path: String) throws -> Kubeconfig {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw KubeconfigError("cannot read the kubeconfig \(path): \(error.localizedDescription); give one with --kubeconfig or $KUBECONFIG")
        }
        return try parse(text, path: path)
    }

    static func parse(_ text: String, path: String) throws -> Kubeconfig {
        let root: [String: Any]
        do {
            guard let loaded = try Yams.load(yaml: text) as? [String: Any] else {
                throw KubeconfigError("the kubeconfig \(path) is not a YAML mapping")
            }
            root = loaded
        } catch let error as KubeconfigError {
            throw error
        } catch {
            throw KubeconfigError("the kubeconfig \(path) is not valid YAML: \(error)")
        }
        func named(_ list: String, _ name: String?) -> [String: Any]? {
            let entries = root[list] as? [[String: Any]] ?? []
            let entry = name.flatMap { wanted in entries.first { $0["name"] as? String == wanted } } ?? (entries.count == 1 ? entries.first : nil)
            return entry
        }
        let contextName = root["current-context"] as? String
        let context = named("contexts", contextName)?["context"] as? [String: Any]
        guard let cluster = named("clusters", context?["cluster"] as? String)?["cluster"] as? [String: Any],
              let server = cluster["server"] as? String else {
            throw KubeconfigError("the kubeconfig \(path) has no cluster server for its current context \(contextName ?? "(none)")")
        }
        var caPEM: String?
        if let data = cluster["certificate-authority-data"] as? String, let decoded = Data(base64Encoded: data) {
            caPEM = String(data: decoded, encoding: .utf8)
        } else if let file = cluster["certificate-authority"] as? String {
            let resolved = file.hasPrefix("/") ? file : ((path as NSString).deletingLastPathComponent as NSString).appendingPathComponent(file)
            caPEM = try? String(contentsOfFile: resolved, encoding: .utf8)
        }
        guard let caPEM else {
            throw KubeconfigError("the kubeconfig \(path) has no certificate-authority-data (or readable certificate-authority) for \(server)")
        }
        let user = named("users", context?["user"] as? String)?["user"] as? [String: Any]
        return Kubeconfig(server: server, caPEM: caPEM, token: user?["token"] as? String)
    }

    /// A client of the kubeconfig's server as its user. Call `shutdown()` on it when done.
    public func makeClient() throws -> APIClient {
        try APIClient(server: server, caPEM: caPEM, bearerToken: token)
    }
}

/// A kubeconfig that cannot be used, saying why and which file.
public struct KubeconfigError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
