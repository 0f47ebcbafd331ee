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
        var flags: [Flag] = []
        for argument in document.command.arguments ?? [] where argument.kind == "option" || argument.kind == "flag" {
            let longs = (argument.names ?? []).filter { $0.kind == "long" }.map(\.name)
            guard let name = longs.first(where: { !$0.hasPrefix("no-") }) ?? longs.first else { continue }
            if argument.kind == "option" {
                flags.append(Flag(name: name, kind: .option, repeating: argument.isRepeating ?? false))
            } else {
                let inversion = longs.first { $0 == "no-" + name }
                flags.append(Flag(name: name, kind: .flag(inversion: inversion), repeating: false))
            }
        }
        self.init(flags: flags)
    }

    public subscript(name: String) -> Flag? { flags[name] }
}
