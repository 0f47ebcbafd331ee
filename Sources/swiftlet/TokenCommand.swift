import ArgumentParser
import APIMachinery
import Foundation
import KubeClient

/// `swiftlet token`: bootstrap tokens agents can join with (k3s' and kubeadm's `token`).
struct TokenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token",
        abstract: "Manage bootstrap tokens that agents join with.",
        discussion: """
        Tokens are Secrets kube-system/bootstrap-token-<id> of type bootstrap.kubernetes.io/token \
        (kubeadm's layout), made through the API server with an admin kubeconfig (--kubeconfig, \
        else $KUBECONFIG, else /etc/swiftlet/swiftlet.yaml). Agents join with \
        `swiftlet agent --server URL --token K10<CA hash>::<id>.<secret>` until the token expires.
        """,
        subcommands: [Create.self, List.self, Delete.self]
    )

    struct Connection: ParsableArguments {
        @Option(help: "The admin kubeconfig (default: $KUBECONFIG, else /etc/swiftlet/swiftlet.yaml).")
        var kubeconfig: String?

        /// Runs `body` with a client of the kubeconfig's server, shut down afterwards.
        func withClient<T: Sendable>(_ body: (APIClient) async throws -> T) async throws -> T {
            let path = Kubeconfig.path(explicit: kubeconfig)
            return try await ClusterJoin.withShutdown(try Kubeconfig.load(path: path).makeClient(), body)
        }
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a bootstrap token and print the join token.")

        @OptionGroup var connection: Connection

        @Option(help: "How long the token is valid, as 90m, 24h or 1h30m; 0 never expires.")
        var ttl = "24h"

        @Option(help: "A description shown by `token list`.")
        var description = ""

        func run() async throws {
            guard let seconds = GoDuration.seconds(ttl) else {
                throw CLIError("--ttl \(ttl): expected a duration such as 30m, 24h or 1h30m (0: never expires)")
            }
            let token = BootstrapToken.generate(ttl: seconds == 0 ? nil : .seconds(seconds), description: description)
            let joinToken = try await connection.withClient { client in
                try await token.create(using: client)
                return token.joinToken(caHash: try await BootstrapToken.caHash(using: client))
            }
            print(joinToken)
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List bootstrap tokens (TOKEN, TTL, EXPIRES, DESCRIPTION).")

        @OptionGroup var connection: Connection

        func run() async throws {
            let tokens = try await connection.withClient { try await BootstrapToken.list(using: $0) }
            print(Self.table(tokens, now: Date()), terminator: "")
        }

        /// kubeadm's columns: TTL `23h`, `<forever>`, or `<invalid>` once expired.
        static func table(_ tokens: [BootstrapToken], now: Date) -> String {
            var rows = [["TOKEN", "TTL", "EXPIRES", "DESCRIPTION"]]
            for token in tokens {
                let ttl: String
                let expires: String
                if let expiration = token.expiration {
                    let remaining = Int(expiration.timeIntervalSince(now))
                    ttl = remaining <= 0 ? "<invalid>" : GoDuration.short(remaining)
                    expires = ISO8601DateFormatter().string(from: expiration)
                } else {
                    ttl = "<forever>"
                    expires = "<never>"
                }
                rows.append([token.token, ttl, expires, token.description.isEmpty ? "<none>" : token.description])
            }
            let widths = (0..<4).map { column in rows.map { $0[column].count }.max() ?? 0 }
            return rows.map { row in
                row.enumerated().map { index, cell in
                    index == row.count - 1 ? cell : cell.padding(toLength: widths[index] + 3, withPad: " ", startingAt: 0)
                }.joined() + "\n"
            }.joined()
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete bootstrap tokens by id (or <id>.<secret>, or the K10 token).")

        @OptionGroup var connection: Connection

        @Argument(help: "Tokens to delete.")
        var tokens: [String]

        func run() async throws {
            try await connection.withClient { client in
                for token in tokens {
                    let id = BootstrapToken.id(of: token)
                    do {
                        try await BootstrapToken.delete(token, using: client)
                    } catch let error as APIClientError where error.isNotFound {
                        throw CLIError("bootstrap token \"\(id)\" not found")
                    }
                    print("bootstrap token \"\(id)\" deleted")
                }
            }
        }
    }
}
