/// Request bodies built to hurt a server, shared by the hostile-input tests, the fuzzing corpus
/// and the memory test of a `swiftlet server` process.
package enum HostileBodies {
    /// A YAML ConfigMap named `bomb` (a "billion laughs"): `levels` anchors under an unknown
    /// field, each a list of `fanOut` aliases of the one before, so a small body expands to
    /// fanOut^levels nodes. go-yaml (and the server) refuse it: `excessive aliasing`.
    package static func aliasBomb(levels: Int, fanOut: Int = 9) -> String {
        var yaml = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: bomb}\ndata: {}\nx:\n"
        yaml += "  a0: &a0 [" + Array(repeating: "lol", count: fanOut).joined(separator: ",") + "]\n"
        for level in 1...levels {
            yaml += "  a\(level): &a\(level) [" + Array(repeating: "*a\(level - 1)", count: fanOut).joined(separator: ",") + "]\n"
        }
        return yaml
    }
}
