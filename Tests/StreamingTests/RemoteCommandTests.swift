import NIOCore
import Testing
@testable import Streaming

/// What kubelet writes on the error channel, reads on the resize channel and accepts as options.
@Suite struct RemoteCommandTests {
    @Test func statusesAsKubeletWritesThem() {
        #expect(String(decoding: RemoteCommandStatus.success.json, as: UTF8.self) == #"{"metadata":{},"status":"Success"}"#)
        let exit = RemoteCommandStatus.exit(code: 3, command: ["sh", "-c", "exit 3"])
        // client-go's errorDecoderV4 reads reason NonZeroExitCode and the ExitCode cause.
        #expect(String(decoding: exit.json, as: UTF8.self) == #"{"details":{"causes":[{"message":"3","reason":"ExitCode"}]},"message":"command terminated with non-zero exit code: error executing command [sh -c exit 3], exit code 3","metadata":{},"reason":"NonZeroExitCode","status":"Failure"}"#)
        #expect(RemoteCommandStatus.exit(code: 0, command: ["true"]) == .success)
        let failed = RemoteCommandStatus.internalError("boom")
        #expect(String(decoding: failed.json, as: UTF8.self).contains(#""message":"Internal error occurred: boom""#))
        // The v1-v3 protocols: a failure's text, nothing for a success.
        #expect(RemoteCommandStatus.success.text.isEmpty)
        #expect(String(decoding: exit.text, as: UTF8.self).hasPrefix("command terminated with non-zero exit code"))
    }

    @Test func resizesSplitAnywhereAndInAnyCase() throws {
        var decoder = TerminalSizeDecoder()
        #expect(try decoder.feed(ByteBuffer(string: #"{"Width":80,"He"#)).isEmpty)
        #expect(try decoder.feed(ByteBuffer(string: #"ight":24} {"width":100,"height":40,"x":"}"}"#))
                == [RemoteTerminalSize(width: 80, height: 24), RemoteTerminalSize(width: 100, height: 40)])
        #expect(try decoder.feed(ByteBuffer(string: "\n{}")) == [RemoteTerminalSize(width: 0, height: 0)])
    }

    @Test func resizeGarbageIsAnError() {
        func fails(_ text: String) -> Bool {
            var decoder = TerminalSizeDecoder(maxPending: 64)
            return (try? decoder.feed(ByteBuffer(string: text))) == nil
        }
        #expect(fails("80x24"))
        #expect(fails(#"{"Width":70000,"Height":1}"#))
        #expect(fails(#"{"Width":-1,"Height":1}"#))
        #expect(fails(#"{"Width":1.5,"Height":1}"#))
        #expect(fails(#"{"Width":"80","Height":1}"#))
        #expect(fails(#"{"Width":true,"Height":1}"#))
        #expect(fails("{" + String(repeating: " ", count: 100)))
    }

    @Test func optionsAsKubeletReadsThem() {
        func parse(_ pairs: [(String, String)]) -> RemoteCommandOptions? {
            try? RemoteCommandOptions.parse(pairs.map { (name: $0.0, value: $0.1) }).get()
        }
        #expect(parse([("stdout", "1"), ("stderr", "1")]) == RemoteCommandOptions(stdin: false, stdout: true, stderr: true, tty: false))
        // Only "1" is true; a terminal has no stderr of its own.
        #expect(parse([("stdout", "true"), ("stdin", "1")]) == RemoteCommandOptions(stdin: true, stdout: false, stderr: false, tty: false))
        #expect(parse([("stdout", "1"), ("stderr", "1"), ("tty", "1")])?.stderr == false)
        #expect(parse([("tty", "1")]) == nil)
    }
}
