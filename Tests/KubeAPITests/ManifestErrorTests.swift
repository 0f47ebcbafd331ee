import Foundation
import Testing
@testable import KubeAPI

/// Every kind of decoding error, with the exact path, message and line.
@Suite struct ManifestErrorTests {
    /// The failure thrown by decoding `yaml` as a Pod.
    func failure(_ yaml: String) throws -> DecodingFailure {
        do {
            let pod = try Manifest.decodePod(yaml: yaml)
            Issue.record("decoded unexpectedly: \(pod)")
            throw CancellationError()
        } catch let failure as DecodingFailure {
            return failure
        }
    }

    /// A minimal pod whose first container carries the extra `lines` (indented for it).
    func pod(container lines: String) -> String {
        """
        apiVersion: v1
        kind: Pod
        metadata:
          name: app
        spec:
          containers:
            - name: app
              image: busybox
        \(lines.split(separator: "\n", omittingEmptySubsequences: false).map { "      " + $0 }.joined(separator: "\n"))
        """
    }

    @Test func unknownFieldsAreReportedWithTheirFullPath() throws {
        let yaml = """
        apiVersion: v1
        kind: Pod
        metadata:
          name: app
        spec:
          containers:
            - name: app
              imagee: busybox
        """
        let error = try failure(yaml)
        #expect(error.path == "spec.containers[0].imagee")
        #expect(error.message == "unknown field \"spec.containers[0].imagee\"")
        #expect(error.line == 8)
        #expect(error.description == "line 8: unknown field \"spec.containers[0].imagee\"")
    }

    @Test func theFirstUnknownFieldInDocumentOrderIsReported() throws {
        let yaml = """
        apiVersion: v1
        kind: Pod
        metadata:
          name: app
          colour: blue
        spec:
          containers: [{name: app, image: busybox, sizee: 1}]
        """
        #expect(try failure(yaml).message == "unknown field \"metadata.colour\"")
        #expect(try failure("apiVersion: v1\nkind: Pod\nmetadata: {name: a}\nspec: {containers: []}\nextra: 1").path == "extra")
    }

    @Test func duplicateFieldsNameTheirMap() throws {
        let yaml = pod(container: "image: nginx")
        let error = try failure(yaml)
        #expect(error.path == "spec.containers[0]")
        #expect(error.message == "duplicate field \"image\"")
        #expect(error.line == 9)
        #expect(error.description == "line 9: spec.containers[0]: duplicate field \"image\"")
    }

    @Test func duplicateFieldsAreFoundInJSONAndFlowStyleToo() throws {
        let json = #"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"a","name":"b"},"spec":{"containers":[]}}"#
        do {
            _ = try Manifest.decodePod(json: Data(json.utf8))
            Issue.record("decoded")
        } catch let error as DecodingFailure {
            #expect(error.description == "line 1: metadata: duplicate field \"name\"")
        }
        let flow = "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\nspec: {containers: [{name: a, image: b, image: c}]}"
        #expect(try failure(flow).description == "line 4: spec.containers[0]: duplicate field \"image\"")
        // A key that appears three times, and a second duplicate later on.
        let many = pod(container: "image: one\nimage: two\nargs: []\nargs: []")
        #expect(try failure(many).description == "line 9: spec.containers[0]: duplicate field \"image\"")
        let top = "apiVersion: v1\nkind: Pod\nkind: Pod\nmetadata: {name: a}"
        #expect(try failure(top).description == "line 3: duplicate field \"kind\"")
    }

    @Test func typeErrorsSayWhatWasExpectedAndFound() throws {
        let cases: [(String, String)] = [
            ("ports:\n  - containerPort: http",
             "line 10: spec.containers[0].ports[0].containerPort: expected an integer, got string \"http\""),
            ("ports:\n  - containerPort: \"80\"",
             "line 10: spec.containers[0].ports[0].containerPort: expected an integer, got string \"80\""),
            ("ports:\n  - containerPort: 80.5",
             "line 10: spec.containers[0].ports[0].containerPort: expected an integer, got number 80.5"),
            ("ports:\n  - containerPort: 4294967296",
             "line 10: spec.containers[0].ports[0].containerPort: 4294967296 is out of range for a 32-bit integer (-2147483648 to 2147483647)"),
            ("ports: {containerPort: 80}", "line 9: spec.containers[0].ports: expected a list, got a map"),
            ("args: [a, 5]", "line 9: spec.containers[0].args[1]: expected a string, got number 5"),
            ("workingDir: true", "line 9: spec.containers[0].workingDir: expected a string, got bool true"),
            ("tty: \"true\"", "line 9: spec.containers[0].tty: expected a boolean, got string \"true\""),
            ("env: [{name: A, value: 1.0}]", "line 9: spec.containers[0].env[0].value: expected a string, got number 1.0"),
            ("resources: {limits: {cpu: lots}}",
             "line 9: spec.containers[0].resources.limits.cpu: quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"),
            ("resources: {limits: {nvidia.com/gpu: 1iM}}",
             "line 9: spec.containers[0].resources.limits[nvidia.com/gpu]: unable to parse quantity's suffix"),
            ("livenessProbe: {tcpSocket: {port: [1]}}",
             "line 9: spec.containers[0].livenessProbe.tcpSocket.port: expected an integer, got a list"),
            ("securityContext: [privileged]", "line 9: spec.containers[0].securityContext: expected a map, got a list"),
        ]
        for (lines, expected) in cases {
            #expect(try failure(pod(container: lines)).description == expected, "\(lines)")
        }
    }

    @Test func errorsFromCustomTypesCarryThePath() throws {
        let yaml = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\n  creationTimestamp: yesterday"
        #expect(try failure(yaml).description
                    == "line 5: metadata.creationTimestamp: expected an RFC 3339 time such as \"2026-11-22T10:00:00Z\", got \"yesterday\"")
    }

    @Test func mapKeysWithDotsAreBracketedInPaths() throws {
        let yaml = """
        apiVersion: v1
        kind: Pod
        metadata:
          name: app
          labels:
            app.kubernetes.io/name: 1
        """
        let error = try failure(yaml)
        #expect(error.path == "metadata.labels[app.kubernetes.io/name]")
        #expect(error.description == "line 6: metadata.labels[app.kubernetes.io/name]: expected a string, got number 1")
    }

    @Test func missingOrNullRequiredFieldsAreRequiredValues() throws {
        let noName = "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\nspec:\n  containers:\n    - image: busybox"
        #expect(try failure(noName).description == "line 6: spec.containers[0].name: Required value")
        let nullContainers = "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\nspec:\n  containers:"
        #expect(try failure(nullContainers).description == "line 5: spec.containers: Required value")
        let noSpec = "apiVersion: v1\nkind: Pod\nmetadata: {name: a}"
        #expect(try failure(noSpec).description == "line 1: spec: Required value")
    }

    @Test func decodePodChecksApiVersionAndKind() throws {
        #expect(try failure("apiVersion: apps/v1\nkind: Deployment").description
                    == "line 1: apiVersion: Unsupported value: \"apps/v1\": supported values: \"v1\"")
        #expect(try failure("apiVersion: v1\nkind: Service").description
                    == "line 2: kind: Unsupported value: \"Service\": supported values: \"Pod\"")
        #expect(try failure("kind: Pod").description == "apiVersion: Required value: a Pod manifest needs apiVersion: v1")
        #expect(try failure("apiVersion: v1").description == "kind: Required value: a Pod manifest needs kind: Pod")
        #expect(try failure("- a\n- b").description == "line 1: expected a map, got a list")
    }

    @Test func malformedYAMLGivesLineAndColumn() throws {
        let yaml = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\n   labels: {}\n"
        let error = try failure(yaml)
        #expect(error.line == 5)
        #expect(error.message.hasPrefix("invalid YAML: mapping values are not allowed in this context (column"))
        let unclosed = try failure("apiVersion: v1\nkind: Pod\nmetadata: {name: a\n")
        #expect(unclosed.message.hasPrefix("invalid YAML:"))
        #expect(unclosed.line != nil)
    }

    @Test func documentCountIsChecked() throws {
        #expect(try failure("").description == "the document is empty")
        #expect(try failure("# nothing\n").description == "the document is empty")
        #expect(try failure(Fixtures.minimalPod + "\n---\n" + Fixtures.minimalPod).message
                    == "expected a single document, found 2 (separated by ---)")
    }

    @Test func errorsInALaterDocumentPointAtItsLine() throws {
        let yaml = Fixtures.minimalPod + "\n---\n" + pod(container: "tty: maybe")
        do {
            _ = try Manifest.decodeAll(Pod.self, yaml: yaml)
            Issue.record("decoded")
        } catch let error as DecodingFailure {
            #expect(error.description == "line 18: spec.containers[0].tty: expected a boolean, got string \"maybe\"")
        }
    }

    @Test func aliasBombsFailCleanly() throws {
        var yaml = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"
        for level in 1...7 {
            let previous = "*a\(level - 1)"
            yaml += "a\(level): &a\(level) [\(Array(repeating: previous, count: 10).joined(separator: ", "))]\n"
        }
        do {
            _ = try Manifest.decode(JSONValue.self, yaml: yaml)
            Issue.record("decoded")
        } catch let error as DecodingFailure {
            // go-yaml's alias ratio stops it long before the agent's absolute node limit.
            #expect(error.message == "yaml: document contains excessive aliasing")
        }
    }
}
