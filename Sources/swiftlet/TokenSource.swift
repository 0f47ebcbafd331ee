import Foundation

/// Where a command's token comes from, in k3s' order: `--token`, else `$SWIFTLET_TOKEN`
/// (k3s: K3S_TOKEN), else the file of `--token-file` or `$SWIFTLET_TOKEN_FILE`.
enum TokenSource {
    static func resolve(token: String?, tokenFile: String?,
                        environment: [String: String] = ProcessInfo.processInfo.environment) throws -> String? {
        if let token = token ?? environment["SWIFTLET_TOKEN"].flatMap({ $0.isEmpty ? nil : $0 }) { return token }
        guard let file = tokenFile ?? environment["SWIFTLET_TOKEN_FILE"].flatMap({ $0.isEmpty ? nil : $0 }) else { return nil }
        do {
            return try String(contentsOfFile: file, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        } catch {
            throw CLIError("cannot read the token file \(file): \(error.localizedDescription)")
        }
    }
}
