import Testing
@testable import ServiceSupport

struct ConfigArgumentsTests {
    /// An agent-like command: options, a repeatable option, an inverted flag, a plain flag.
    let agent = FlagCatalog(flags: [
        .init(name: "config", kind: .option, repeating: false),
        .init(name: "node-name", kind: .option, repeating: false),
        .init(name: "max-pods", kind: .option, repeating: false),
        .init(name: "node-label", kind: .option, repeating: true),
        .init(name: "pod-network", kind: .flag(inversion: "no-pod-network"), repeating: false),
        .init(name: "join-only", kind: .flag(inversion: nil), repeating: false),
    ])

    func file(_ text: String) throws -> ConfigFile { try ConfigFile(parsing: text, path: "/etc/swiftlet/config.yaml") }

    @Test func valuesBecomeFlagsInFileOrder() throws {
        let flags = try ConfigArguments.flags(from: file("""
            node-name: worker-1
            node-label: [zone=a, disk=ssd]
            max-pods: 50
            pod-network: false
            join-only: true
            """), for: agent, typed: []) { _ in false }
        #expect(flags == ["--node-name=worker-1", "--node-label=zone=a", "--node-label=disk=ssd", "--max-pods=50",
                          "--no-pod-network", "--join-only"])
    }

    @Test func theCommandLineWinsAndRepeatableFlagsAdd() throws {
        let config = try file("""
            node-name: from-file
            node-label: zone=a
            pod-network: false
            max-pods: 50
            """)
        let flags = try ConfigArguments.flags(from: config, for: agent,
                                              typed: ["--node-name", "typed", "--node-label=x=y", "--pod-network", "--max-pods=7"]) { _ in false }
        #expect(flags == ["--node-label=zone=a"])
        // --no-pod-network typed: the file's pod-network is dropped too.
        #expect(try ConfigArguments.flags(from: file("pod-network: true"), for: agent, typed: ["--no-pod-network"]) { _ in false } == [])
        // After "--" nothing is a flag.
        #expect(try ConfigArguments.flags(from: file("node-name: a"), for: agent, typed: ["--", "--node-name"]) { _ in false }
                == ["--node-name=a"])
    }

    @Test func booleansTakeYAMLWordsAndInvertedNames() throws {
        for (text, expected) in [("pod-network: yes", ["--pod-network"]), ("pod-network: off", ["--no-pod-network"]),
                                 ("no-pod-network: true", ["--no-pod-network"]), ("no-pod-network: false", ["--pod-network"]),
                                 ("pod-network:", ["--pod-network"]), ("join-only: false", [])] {
            #expect(try ConfigArguments.flags(from: file(text), for: agent, typed: []) { _ in false } == expected, "\(text)")
        }
    }

    @Test func otherCommandsKeysAreSkippedAndUnknownKeysRefused() throws {
        #expect(try ConfigArguments.flags(from: file("tls-san: [a]\nnode-name: n"), for: agent, typed: []) { $0 == "tls-san" }
                == ["--node-name=n"])
        #expect(throws: ConfigFileError(path: "/etc/swiftlet/config.yaml", line: 2, "unknown key node-nmae: no swiftlet command has a --node-nmae flag")) {
            try ConfigArguments.flags(from: file("max-pods: 3\nnode-nmae: n"), for: agent, typed: []) { _ in false }
        }
    }

    @Test(arguments: [
        ("node-name: [a, b]", "node-name takes one value, not a list"),
        ("node-name:", "node-name needs a value"),
        ("node-label:", "node-label needs a value"),
        ("pod-network: maybe", "pod-network is an on/off flag: true or false, not \"maybe\""),
        ("pod-network: [true]", "pod-network is an on/off flag: true or false, not a list"),
        ("config: /etc/other.yaml", "config cannot name another configuration file"),
    ])
    func wrongValuesNameTheKeyAndLine(text: String, problem: String) throws {
        #expect(throws: ConfigFileError(path: "/etc/swiftlet/config.yaml", line: 1, problem)) {
            try ConfigArguments.flags(from: file(text), for: agent, typed: []) { _ in false }
        }
    }

    @Test func theFileComesFromTheCommandLineTheEnvironmentOrTheDefault() {
        #expect(ConfigArguments.locate(arguments: ["agent", "--config", "/a.yaml"], environment: ["SWIFTLET_CONFIG_FILE": "/b.yaml"]) == ("/a.yaml", true))
        #expect(ConfigArguments.locate(arguments: ["agent", "--config=/a.yaml"], environment: [:]) == ("/a.yaml", true))
        #expect(ConfigArguments.locate(arguments: ["agent"], environment: ["SWIFTLET_CONFIG_FILE": "/b.yaml"]) == ("/b.yaml", true))
        #expect(ConfigArguments.locate(arguments: ["agent", "--", "--config", "/x"], environment: [:]) == ("/etc/swiftlet/config.yaml", false))
        #expect(ConfigArguments.locate(arguments: [], environment: ["SWIFTLET_CONFIG_FILE": ""]) == ("/etc/swiftlet/config.yaml", false))
    }

    @Test func theCatalogReadsArgumentParsersToolInfo() throws {
        let json = """
            {"serializationVersion":0,"command":{"commandName":"agent","arguments":[
              {"kind":"option","names":[{"kind":"long","name":"node-name"}],"isRepeating":false},
              {"kind":"option","names":[{"kind":"long","name":"node-label"}],"isRepeating":true},
              {"kind":"flag","names":[{"kind":"long","name":"pod-network"}]},
              {"kind":"flag","names":[{"kind":"long","name":"no-pod-network"}]},
              {"kind":"flag","names":[{"kind":"long","name":"no-cache"}]},
              {"kind":"flag","names":[{"kind":"short","name":"f"},{"kind":"long","name":"follow"}]},
              {"kind":"positional","names":[{"kind":"long","name":"pod"}]},
              {"kind":"flag","names":[{"kind":"short","name":"h"}]}
            ]}}
            """
        let catalog = try #require(FlagCatalog(toolInfoJSON: json))
        #expect(catalog["node-name"] == .init(name: "node-name", kind: .option, repeating: false))
        #expect(catalog["node-label"]?.repeating == true)
        #expect(catalog["pod-network"]?.kind == .flag(inversion: "no-pod-network"))
        #expect(catalog["no-pod-network"]?.name == "pod-network")
        #expect(catalog["follow"]?.kind == .flag(inversion: nil))
        // A flag whose name starts with no- but has no positive form is a flag of its own.
        #expect(catalog["no-cache"] == .init(name: "no-cache", kind: .flag(inversion: nil), repeating: false))
        #expect(catalog["pod"] == nil)
        #expect(FlagCatalog(toolInfoJSON: "not json") == nil)
        #expect(FlagCatalog(toolInfoJSON: #"{"serializationVersion":9,"command":{}}"#) == nil)
    }
}
