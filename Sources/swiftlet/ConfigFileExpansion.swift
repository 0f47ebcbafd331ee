import ArgumentParser
import Foundation
import ServiceSupport

/// Applies the configuration file to a command line before ArgumentParser sees it: finds which
/// command the arguments name, reads that command's flags from ArgumentParser's own description
/// of it (`--experimental-dump-help`), and inserts the file's flags after the command's name
/// (`ConfigArguments`). Commands without `--config` are left alone.
enum ConfigFileExpansion {
    static func expand(_ typed: [String], environment: [String: String]) throws -> [String] {
        let (names, command) = commandPath(typed)
        guard let catalog = catalog(names: names, command: command), catalog["config"] != nil else { return typed }
        let (path, explicit) = ConfigArguments.locate(arguments: typed, environment: environment)
        guard explicit || FileManager.default.fileExists(atPath: path) else { return typed }
        let file = try ConfigFile(contentsOf: path)
        let rest = Array(typed.dropFirst(names.count))
        // Every command's flags are looked up only for a key this command lacks, and once.
        var others: Set<String>?
        let flags = try ConfigArguments.flags(from: file, for: catalog, typed: rest) { key in
            if others == nil { others = allConfigurableFlags() }
            return others?.contains(key) ?? false
        }
        return names + flags + rest
    }

    /// The subcommand names at the start of `typed` and the command they lead to (its default
    /// subcommand when it has one: `images` is `images ls`).
    static func commandPath(_ typed: [String]) -> ([String], ParsableCommand.Type) {
        var command: ParsableCommand.Type = Swiftlet.self
        var names: [String] = []
        for argument in typed {
            guard let next = command.configuration.subcommands.first(where: { $0._commandName == argument }) else { break }
            names.append(argument)
            command = next
        }
        if let fallback = command.configuration.defaultSubcommand {
            command = fallback
        }
        return (names, command)
    }

    /// The flags of `command`, reached through `names` (plus its name when it is a default
    /// subcommand the user did not type).
    static func catalog(names: [String], command: ParsableCommand.Type) -> FlagCatalog? {
        var path = names
        if let last = path.last, last != command._commandName {
            path.append(command._commandName)
        } else if path.isEmpty && command != Swiftlet.self {
            path.append(command._commandName)
        }
        do {
            _ = try Swiftlet.parseAsRoot(path + ["--experimental-dump-help"])
            return nil
        } catch {
            return FlagCatalog(toolInfoJSON: Swiftlet.message(for: error))
        }
    }

    /// Every long flag of every command that reads the configuration file: a key one of them
    /// knows is skipped by the others, any other key is a mistake.
    static func allConfigurableFlags() -> Set<String> {
        var flags: Set<String> = []
        func visit(_ command: ParsableCommand.Type, path: [String]) {
            let subcommands = command.configuration.subcommands
            if subcommands.isEmpty {
                if let catalog = catalog(names: path, command: command), catalog["config"] != nil {
                    flags.formUnion(catalog.flags.keys)
                }
                return
            }
            for sub in subcommands { visit(sub, path: path + [sub._commandName]) }
        }
        visit(Swiftlet.self, path: [])
        return flags
    }
}
