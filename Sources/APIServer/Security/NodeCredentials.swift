import APIMachinery
import APIRegistry
import Foundation
import KubeAPI

/// Node passwords and node tokens, kept in Secret `kube-system/<node>.node-password.swiftlet`
/// (k3s: `<node>.node-password.k3s`): `hash` is the salted hash of the node's password,
/// `token-hash` the hash of its current bearer token. Being in the store, they survive
/// server restarts; deleting the Secret lets another machine take the name (k3s' remedy too).
///
/// The first join of a name records the password; a later join must bring the same one, so a
/// second machine with the same host name cannot take over the node. Every join issues a new
/// token (`node:<name>:<secret>`) and the previous one stops working.
struct NodeCredentials: Sendable {
    let service: APIService

    static let secretSuffix = ".node-password.swiftlet"
    /// Where the agent keeps its password by default (named in the rejection message).
    static let agentPasswordPath = "/var/lib/swiftlet/agent/credential/node-password"

    static func secretName(node: String) -> String { node + secretSuffix }

    /// The node of a node token if the token is current; nil otherwise.
    func authenticate(token: String) async -> UserInfo? {
        let parts = token.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 3, parts[0] == "node", !parts[1].isEmpty, !parts[2].isEmpty,
              ObjectValidation.nameErrors(parts[1], rule: .dns1123Subdomain, prefix: false).isEmpty,
              let secrets = try? service.store(group: "", name: "secrets"),
              let secret = try? await secrets.find(namespace: "kube-system", name: Self.secretName(node: parts[1])),
              let stored = BootstrapTokens.decodedData(secret)["token-hash"] else {
            return nil
        }
        return SecretHash.constantTimeEqual(SecretHash.sha256(parts[2]), stored) ? .node(parts[1]) : nil
    }

    /// Checks (or on first join records) the node's password and issues a new token.
    func issue(nodeName: String, password: String) async throws(APIError) -> String {
        let secrets = try service.store(group: "", name: "secrets")
        let name = Self.secretName(node: nodeName)
        let secretValue = SecretHash.randomHex(bytes: 32)
        let token = "node:\(nodeName):\(secretValue)"
        let tokenHash = Data(SecretHash.sha256(secretValue).utf8).base64EncodedString()
        // A create racing another join of the same name, or an update racing any write,
        // is simply tried again against what is stored now.
        for _ in 0..<5 {
            if var existing = try await secrets.find(namespace: "kube-system", name: name) {
                guard let hash = BootstrapTokens.decodedData(existing)["hash"], SecretHash.verify(password, salted: hash) else {
                    throw APIError.forbidden(GroupResource(group: "", resource: "nodes"), name: nodeName,
                        "Node password rejected, duplicate hostname or contents of '\(Self.agentPasswordPath)' may not match server node-passwd entry, try a unique node name with --node-name, or delete Secret kube-system/\(name) if this machine replaced the old one")
                }
                var data = existing.fields["data"]?.objectValue ?? [:]
                data["token-hash"] = .string(tokenHash)
                existing.fields["data"] = .object(data)
                do {
                    _ = try await secrets.update(namespace: "kube-system", name: name, object: existing, subresource: nil,
                                                 context: service.context())
                    return token
                } catch where error.code == 409 || error.code == 404 {
                    continue
                }
            }
            let secret = KubeObject(fields: [
                "apiVersion": .string("v1"), "kind": .string("Secret"),
                "metadata": .object(["name": .string(name), "namespace": .string("kube-system"),
                                     "labels": .object(["swiftlet.io/node": .string(nodeName)])]),
                "type": .string("swiftlet.io/node-password"),
                "data": .object([
                    "hash": .string(Data(SecretHash.salted(password).utf8).base64EncodedString()),
                    "token-hash": .string(tokenHash),
                ]),
            ])
            do {
                _ = try await service.create(secret, resource: secrets.resource, namespace: "kube-system", context: service.context())
                return token
            } catch where error.code == 409 {
                continue
            }
        }
        throw APIError.internalError("the node password Secret kube-system/\(name) kept changing while node \(nodeName) joined; try again")
    }
}
