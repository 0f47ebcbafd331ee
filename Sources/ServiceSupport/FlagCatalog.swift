import Foundation

/// The long flags a command takes, read from ArgumentParser's own description of it
/// (`swiftlet <command> --experimental-dump-help`, the ToolInfo JSON), so the configuration
/// file follows the commands' real flags without a second list to keep in step.
public struct FlagCatalog: Sendable, Equatable {
    public struct Flag: Sendable, Equatable {
        public enum Kind: Sendable, Equatable {
            /// `--name VALUE`.
            case option
            /// `--name` on its own; `inversion` is its `--no-name` form, if it has one.
            case flag(inversion: String?)
        }

        public var name: String
        public var kind: Kind
        /// Can be given several times (an array option).
        public var repeating: Bool

        public init(name: String, kind: Kind, repeating: Bool) {
            self.name = name
            self.kind = kind
            self.repeating = repeating
        }
    }

    /// By long name; an inverted flag is listed under both of its names.
    public var flags: [String: Flag]

    public init(flags: [Flag]) {
        var byName: [String: Flag] = [:]
        for flag in flags {
            byName[flag.name] = flag
            if case .flag(let inversion?) = flag.kind { byName[inversion] = flag }
        }
        self.flags = byName
    }

    /// Reads ArgumentParser's ToolInfo JSON (`serializationVersion` 0): the arguments of its
    /// `command`. Nil when the text is not that document.
    public init?(toolInfoJSON: String) {
        struct Document: Decodable {
            struct Name: Decodable { var kind: String; var name: String }
            struct Argument: Decodable {
                var kind: String
                var names: [Name]?
                var isRepeating: Bool?
            }
            struct Command: Decodable { var arguments: [Argument]? }
            var serializationVersion: Int
            var command: Command
        }
        guard let document = try? JSONDecoder().decode(Document.self, from: Data(toolInfoJSON.utf8)),
              document.serializationVersion == 0 else { return nil }
        var options: [Flag] = []
        var switches: [String] = []
        for argument in document.command.arguments ?? [] where argument.kind == "option" || argument.kind == "flag" {
            let longs = (argument.names ?? []).filter { $0.kind == "long" }.map(\.name)
            if argument.kind == "option" {
                guard let name = longs.first else { continue }
                options.append(Flag(name: name, kind: .option, repeating: argument.isRepeating ?? false))
            } else {
                switches += longs
            }
        }
        // An inverted flag (`--pod-network` / `--no-pod-network`) is dumped as two flags.
        let names = Set(switches)
        let flags = switches.filter { !($0.hasPrefix("no-") && names.contains(String($0.dropFirst(3)))) }.map { name in
            Flag(name: name, kind: .flag(inversion: names.contains("no-" + name) ? "no-" + name : nil), repeating: false)
        }
        self.init(flags: options + flags)
    }

    public subscript(name: String) -> Flag? { flags[name] }
}
