import Foundation
import Yams

/// `/etc/swiftlet/config.yaml`: k3s' configuration file (`/etc/rancher/k3s/config.yaml`,
/// https://docs.k3s.io/installation/configuration#configuration-file) for swiftlet. Its keys
/// are the long flag names without dashes, its values what the flag would take:
///
///     node-name: worker-1
///     node-label: [zone=a, disk=ssd]   # a repeatable flag: a list, or one value
///     pod-network: false               # an on/off flag: true or false
///     max-pods: 50
///
/// One file serves every command that takes `--config` (`server`, `agent`, `pods`, `logs`,
/// `node`, `run`, `images`): each uses the keys it has a flag for and ignores the others (k3s
/// does the same for server-only keys under `k3s agent`), while a key no command knows is an
/// error, so a typo is not silently dropped.
public struct ConfigFile: Sendable, Equatable {
    /// One key of the file with its value(s), in file order.
    public struct Entry: Sendable, Equatable {
        public enum Value: Sendable, Equatable {
            /// A scalar, as written (`50`, `worker-1`, `true`).
            case scalar(String)
            /// A YAML sequence of scalars.
            case list([String])
            /// `key:` with no value.
            case empty
        }

        public var key: String
        public var value: Value
        /// 1-based line of the key, for messages.
        public var line: Int

        public init(key: String, value: Value, line: Int) {
            self.key = key
            self.value = value
            self.line = line
        }
    }

    /// The default location, as k3s' /etc/rancher/k3s/config.yaml.
    public static let defaultPath = "/etc/swiftlet/config.yaml"
    /// The environment variable naming another file (k3s: K3S_CONFIG_FILE).
    public static let environmentVariable = "SWIFTLET_CONFIG_FILE"
    /// Files larger than this are refused: a configuration is a few hundred bytes.
    public static let maximumSize = 1 << 20

    public var path: String
    public var entries: [Entry]

    public init(path: String, entries: [Entry]) {
        self.path = path
        self.entries = entries
    }

    /// Parses the text of a configuration file; `path` only names it in errors.
    public init(parsing text: String, path: String) throws(ConfigFileError) {
        self.path = path
        guard text.utf8.count <= Self.maximumSize else {
            throw ConfigFileError(path: path, line: nil, "the file is larger than \(Self.maximumSize) bytes")
        }
        let node: Node?
        do {
            node = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            throw ConfigFileError(path: path, line: nil, "not valid YAML: \(error)")
        } catch {
            throw ConfigFileError(path: path, line: nil, "not valid YAML: \(error)")
        }
        guard let node else {
            entries = []
            return
        }
        guard let mapping = node.mapping else {
            throw ConfigFileError(path: path, line: node.mark.map { $0.line }, "expected a mapping of flag names to values, e.g. node-name: worker-1")
        }
        var entries: [Entry] = []
        var seen: Set<String> = []
        for (keyNode, valueNode) in mapping {
            let line = keyNode.mark.map { $0.line } ?? 0
            guard let key = keyNode.scalar?.string, !key.isEmpty else {
                throw ConfigFileError(path: path, line: line, "every key must be a flag name")
            }
            let name = key.hasPrefix("--") ? String(key.dropFirst(2)) : key
            guard name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }), name.first?.isLetter == true else {
                throw ConfigFileError(path: path, line: line, "\"\(key)\" is not a flag name (letters, digits and dashes, as in node-name)")
            }
            guard seen.insert(name).inserted else {
                throw ConfigFileError(path: path, line: line, "\(name) is given twice; give a repeatable flag a list instead")
            }
            let value: Entry.Value
            switch valueNode {
            case .scalar(let scalar):
                if scalar.string.isEmpty && scalar.style == .plain {
                    value = .empty
                } else {
                    value = .scalar(scalar.string)
                }
            case .sequence(let sequence):
                var items: [String] = []
                for item in sequence {
                    guard let text = item.scalar?.string else {
                        throw ConfigFileError(path: path, line: line, "\(name): a list may only hold plain values")
                    }
                    items.append(text)
                }
                value = .list(items)
            case .mapping:
                throw ConfigFileError(path: path, line: line, "\(name): expected a value or a list, not a mapping")
            case .alias:
                throw ConfigFileError(path: path, line: line, "\(name): YAML aliases are not supported here")
            }
            entries.append(Entry(key: name, value: value, line: line))
        }
        self.entries = entries
    }

    /// Reads and parses `path`.
    public init(contentsOf path: String) throws(ConfigFileError) {
        guard FileManager.default.fileExists(atPath: path) else {
            throw ConfigFileError(path: path, line: nil, "it does not exist")
        }
        let data: Data
        do {
            let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
            defer { try? handle.close() }
            data = try handle.read(upToCount: Self.maximumSize + 1) ?? Data()
        } catch {
            throw ConfigFileError(path: path, line: nil, "cannot read it: \((error as NSError).localizedDescription)")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ConfigFileError(path: path, line: nil, "not UTF-8 text")
        }
        try self.init(parsing: text, path: path)
    }
}

/// A configuration file that cannot be used: which file, which line, what is wrong.
public struct ConfigFileError: Error, CustomStringConvertible, Equatable, Sendable {
    public var path: String
    public var line: Int?
    public var problem: String

    public init(path: String, line: Int?, _ problem: String) {
        self.path = path
        self.line = line
        self.problem = problem
    }

    public var description: String {
        "configuration file \(path)\(line.map { ", line \($0)" } ?? ""): \(problem)"
    }
}
