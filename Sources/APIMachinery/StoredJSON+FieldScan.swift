extension StoredJSON {
    /// Whether the stored bytes may hold a member `key` whose value is `value` (a JSON string
    /// `"value"`, or the bare literal for a number or boolean), at any depth: false only when
    /// no such member is written anywhere, so an entry this rules out cannot match a field
    /// selector's `key=value` term, and need not be parsed to find that out. A field selector
    /// on `spec.nodeName` (every agent's pod list, and the Node authorizer asking which pods a
    /// node runs) otherwise parses every pod of the cluster to keep the node's own few.
    ///
    /// Whitespace between the tokens is allowed; a value that JSON would have to escape
    /// (quotes, backslashes, control characters) is never ruled out, since it could be written
    /// escaped. A match elsewhere in the object (another member with the same key) only means
    /// the entry is parsed as before.
    package static func mayHave(_ stored: [UInt8], key: String, value: String) -> Bool {
        let valueBytes = Array(value.utf8)
        if valueBytes.isEmpty || valueBytes.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) {
            return true
        }
        let needle = Array("\"\(key)\"".utf8)
        guard needle.count <= stored.count else { return false }
        return stored.withUnsafeBufferPointer { bytes -> Bool in
            var start = 0
            while let found = firstIndex(of: needle, in: bytes, from: start) {
                start = found + 1
                var i = skipSpaces(bytes, from: found + needle.count)
                guard i < bytes.count, bytes[i] == UInt8(ascii: ":") else { continue }
                i = skipSpaces(bytes, from: i + 1)
                let quoted = i < bytes.count && bytes[i] == UInt8(ascii: "\"")
                if quoted { i += 1 }
                guard i + valueBytes.count <= bytes.count,
                      valueBytes.indices.allSatisfy({ bytes[i + $0] == valueBytes[$0] }) else { continue }
                i += valueBytes.count
                if quoted {
                    if i < bytes.count, bytes[i] == UInt8(ascii: "\"") { return true }
                } else if i == bytes.count || [UInt8(ascii: ","), UInt8(ascii: "}"), UInt8(ascii: "]"), 0x20, 0x0A, 0x0D, 0x09].contains(bytes[i]) {
                    return true
                }
            }
            return false
        }
    }

    private static func skipSpaces(_ bytes: UnsafeBufferPointer<UInt8>, from index: Int) -> Int {
        var i = index
        while i < bytes.count, bytes[i] == 0x20 || bytes[i] == 0x0A || bytes[i] == 0x0D || bytes[i] == 0x09 { i += 1 }
        return i
    }

    private static func firstIndex(of needle: [UInt8], in bytes: UnsafeBufferPointer<UInt8>, from start: Int) -> Int? {
        guard let first = needle.first, needle.count <= bytes.count else { return nil }
        var i = start
        let last = bytes.count - needle.count
        while i <= last {
            if bytes[i] == first {
                var j = 1
                while j < needle.count, bytes[i + j] == needle[j] { j += 1 }
                if j == needle.count { return i }
            }
            i += 1
        }
        return nil
    }
}
