/// Turns a configuration file into command-line flags, k3s' way (pkg/configfilearg): the file's
/// flags go right after the command's name, before the ones typed, so that a flag on the
/// command line replaces the file's value and a repeatable flag adds to the file's list.
public enum ConfigArguments {
    /// Which configuration file applies: `--config FILE` / `--config=FILE` on the command line,
    /// else `$SWIFTLET_CONFIG_FILE`, else the default path. `explicit` is false only for the
    /// default, which may be missing.
    public static func locate(arguments: [String], environment: [String: String]) -> (path: String, explicit: Bool) {
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            if argument == "--" { break }
            if argument == "--config", index + 1 < arguments.count { return (arguments[index + 1], true) }
            if argument.hasPrefix("--config=") { return (String(argument.dropFirst("--config=".count)), true) }
            index += 1
        }
        if let path = environment[ConfigFile.environmentVariable], !path.isEmpty { return (path, true) }
        return (ConfigFile.defaultPath, false)
    }

    /// The flags the file gives `catalog`'s command, skipping those the command line sets.
    ///
    /// - Parameters:
    ///   - typed: the arguments after the command's name, as typed.
    ///   - knownElsewhere: whether a key the command has no flag for is another command's flag
    ///     (then it is skipped; otherwise it is an error naming the line).
    public static func flags(from file: ConfigFile, for catalog: FlagCatalog, typed: [String],
                             knownElsewhere: (String) -> Bool) throws(ConfigFileError) -> [String] {
        let given = Set(typed.prefix { $0 != "--" }.compactMap { argument -> String? in
            guard argument.hasPrefix("--") else { return nil }
            let name = argument.dropFirst(2)
            return String(name.split(separator: "=", maxSplits: 1).first ?? name)
        })
        var flags: [String] = []
        for entry in file.entries {
            let fail = { (problem: String) -> ConfigFileError in ConfigFileError(path: file.path, line: entry.line, problem) }
            if entry.key == "config" { throw fail("config cannot name another configuration file") }
            guard let flag = catalog[entry.key] else {
                if knownElsewhere(entry.key) { continue }
                throw fail("unknown key \(entry.key): no swiftlet command has a --\(entry.key) flag")
            }
            switch flag.kind {
            case .option:
                if flag.repeating {
                    switch entry.value {
                    case .scalar(let value): flags.append("--\(flag.name)=\(value)")
                    case .list(let values): flags += values.map { "--\(flag.name)=\($0)" }
                    case .empty: throw fail("\(entry.key) needs a value")
                    }
                } else {
                    // The command line wins over the file (k3s: later flags override).
                    if given.contains(flag.name) { continue }
                    switch entry.value {
                    case .scalar(let value): flags.append("--\(flag.name)=\(value)")
                    case .list: throw fail("\(entry.key) takes one value, not a list")
                    case .empty: throw fail("\(entry.key) needs a value")
                    }
                }
            case .flag(let inversion):
                if given.contains(flag.name) || inversion.map(given.contains) == true { continue }
                let on: Bool
                switch entry.value {
                case .empty:
                    on = true
                case .scalar(let text):
                    guard let value = boolean(text) else { throw fail("\(entry.key) is an on/off flag: true or false, not \"\(text)\"") }
                    on = entry.key == flag.name ? value : !value
                case .list:
                    throw fail("\(entry.key) is an on/off flag: true or false, not a list")
                }
                if on {
                    flags.append("--\(flag.name)")
                } else if let inversion {
                    flags.append("--\(inversion)")
                }
            }
        }
        return flags
    }

    /// YAML 1.1's booleans, which is what a user writing `yes` means.
    static func boolean(_ text: String) -> Bool? {
        switch text.lowercased() {
        case "true", "yes", "on", "y": return true
        case "false", "no", "off", "n": return false
        default: return nil
        }
    }
}
