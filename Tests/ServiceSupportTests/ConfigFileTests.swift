import Foundation
import Testing
@testable import ServiceSupport

struct ConfigFileTests {
    @Test func scalarsListsAndEmptyValuesInFileOrder() throws {
        let file = try ConfigFile(parsing: """
            # a comment
            node-name: worker-1
            max-pods: 50
            node-label:
              - zone=a
              - disk=ssd
            pod-network: false
            disable-agent:
            tls-san: [10.0.0.1, "example.com"]
            token: "K10abc::node:secret"
            """, path: "/etc/swiftlet/config.yaml")
        #expect(file.entries.map(\.key) == ["node-name", "max-pods", "node-label", "pod-network", "disable-agent", "tls-san", "token"])
        #expect(file.entries[0].value == .scalar("worker-1"))
        #expect(file.entries[1].value == .scalar("50"))
        #expect(file.entries[2].value == .list(["zone=a", "disk=ssd"]))
        #expect(file.entries[3].value == .scalar("false"))
        #expect(file.entries[4].value == .empty)
        #expect(file.entries[5].value == .list(["10.0.0.1", "example.com"]))
        #expect(file.entries[6].value == .scalar("K10abc::node:secret"))
        #expect(file.entries[2].line == 4)
    }

    @Test func anEmptyFileOrOnlyCommentsConfiguresNothing() throws {
        #expect(try ConfigFile(parsing: "", path: "c").entries.isEmpty)
        #expect(try ConfigFile(parsing: "# nothing yet\n", path: "c").entries.isEmpty)
    }

    @Test func anEmptyQuotedStringIsAValue() throws {
        #expect(try ConfigFile(parsing: "node-ip: \"\"", path: "c").entries.first?.value == .scalar(""))
    }

    @Test func aliasesResolveToTheirValue() throws {
        #expect(try ConfigFile(parsing: "node-name: &n x\nnode-ip: *n", path: "c").entries.map(\.value) == [.scalar("x"), .scalar("x")])
    }

    @Test func dashedKeysAreAccepted() throws {
        #expect(try ConfigFile(parsing: "--node-name: a", path: "c").entries.first?.key == "node-name")
    }

    @Test(arguments: [
        ("- a\n- b", "expected a mapping of flag names to values"),
        ("just text", "expected a mapping of flag names to values"),
        ("node-name: [a: b]", "a list may only hold plain values"),
        ("node-name:\n  nested: value", "expected a value or a list, not a mapping"),
        ("node name: x", "is not a flag name"),
        ("node_name: x", "is not a flag name"),
        ("\"--\": x", "is not a flag name"),
        ("1abc: x", "is not a flag name"),
        ("node-name: a\nnode-name: b", "duplicated key(s): 'node-name'"),
        ("\"node-name\": a\n--node-name: b", "node-name is given twice"),
        ("node-name: [unclosed", "not valid YAML"),
        ("? [a, b]\n: c", "every key must be a flag name"),
    ])
    func hostileFilesAreRefusedNamingTheProblem(text: String, problem: String) {
        do {
            let file = try ConfigFile(parsing: text, path: "/etc/swiftlet/config.yaml")
            Issue.record("accepted \(text): \(file.entries)")
        } catch {
            #expect(error.description.hasPrefix("configuration file /etc/swiftlet/config.yaml"))
            #expect(error.description.contains(problem), "\(error.description)")
        }
    }

    @Test func aHugeFileIsRefusedBeforeParsing() {
        let text = String(repeating: "# padding\n", count: ConfigFile.maximumSize / 10 + 1)
        #expect(throws: ConfigFileError(path: "c", line: nil, "the file is larger than \(ConfigFile.maximumSize) bytes")) {
            try ConfigFile(parsing: text, path: "c")
        }
    }

    @Test func aMissingOrUnreadableFileSaysWhich() throws {
        do {
            _ = try ConfigFile(contentsOf: "/nonexistent/swiftlet/config.yaml")
            Issue.record("read a missing file")
        } catch {
            #expect(error.description.contains("/nonexistent/swiftlet/config.yaml"))
            #expect(error.description.hasSuffix("it does not exist"))
        }
        let directory = try TemporaryDirectory()
        let binary = directory.path + "/binary.yaml"
        try Data([0xff, 0xfe, 0x00, 0x80]).write(to: URL(fileURLWithPath: binary))
        #expect(throws: ConfigFileError(path: binary, line: nil, "not UTF-8 text")) { try ConfigFile(contentsOf: binary) }
    }
}
