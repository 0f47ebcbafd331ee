/// A streaming tar reader: ustar and GNU headers, GNU long names and links (`L`, `K`), PAX
/// extended and global headers (`x`, `g`), base-256 numbers.
///
/// Call `next()` for each entry and, for regular files, `readData(into:)` to stream the
/// content; unread content is skipped by the following `next()`. Only a 64 KiB buffer is
/// kept, so layers of any size can be read.
/// Formats: https://www.gnu.org/software/tar/manual/html_node/Standard.html and
/// https://pubs.opengroup.org/onlinepubs/9799919799/utilities/pax.html#tag_20_94_13_03
final class TarReader {
    private static let blockSize = 512
    /// Upper bound for GNU long-name and PAX records, which are read into memory.
    private static let maxMetadataSize: Int64 = 1 << 20

    private let source: any ByteSource
    private let buffer: UnsafeMutableRawBufferPointer
    private var bufferStart = 0
    private var bufferEnd = 0
    /// Content bytes of the current entry not yet consumed, and the padding after them.
    private var remaining: Int64 = 0
    private var padding: Int64 = 0
    /// Offset of the next byte in the archive, for error messages.
    private var offset: Int64 = 0
    private var globalRecords: [String: [UInt8]] = [:]
    private var currentPath = ""

    init(_ source: any ByteSource) {
        self.source = source
        buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 16, alignment: 16)
    }

    deinit { buffer.deallocate() }

    /// The next entry, or nil at the end of the archive.
    func next() throws -> TarEntry? {
        try skip(remaining + padding)
        remaining = 0
        padding = 0
        var longName: String?
        var longLink: String?
        var records: [String: [UInt8]] = [:]
        var header = [UInt8](repeating: 0, count: TarReader.blockSize)
        while true {
            let headerOffset = offset
            let n = try header.withUnsafeMutableBytes { try readBuffered(into: $0) }
            if n == 0 {
                // No end-of-archive blocks: tolerated (as GNU tar does), unless metadata dangles.
                if longName != nil || longLink != nil || !records.isEmpty {
                    throw ImageError.invalidTar("archive ends after an extended header at offset \(headerOffset)")
                }
                return nil
            }
            guard n == TarReader.blockSize else {
                throw ImageError.invalidTar("truncated header at offset \(headerOffset)")
            }
            if header.allSatisfy({ $0 == 0 }) { return nil }
            try TarReader.verifyChecksum(header, offset: headerOffset)

            let typeflag = header[156]
            let headerSize = try TarReader.number(header, 124, 12, field: "size", offset: headerOffset)
            switch typeflag {
            case UInt8(ascii: "L"):
                longName = TarReader.cString(try readMetadata(size: headerSize, what: "GNU long name"))
            case UInt8(ascii: "K"):
                longLink = TarReader.cString(try readMetadata(size: headerSize, what: "GNU long link"))
            case UInt8(ascii: "x"):
                records.merge(try TarReader.parsePAX(readMetadata(size: headerSize, what: "PAX header"))) { $1 }
            case UInt8(ascii: "g"):
                globalRecords.merge(try TarReader.parsePAX(readMetadata(size: headerSize, what: "PAX global header"))) { $1 }
            default:
                let pax = globalRecords.merging(records) { $1 }
                let entry = try makeEntry(header, typeflag: typeflag, headerSize: headerSize, offset: headerOffset,
                                          longName: longName, longLink: longLink, pax: pax)
                currentPath = entry.path
                remaining = entry.size
                padding = TarReader.paddingAfter(entry.size)
                return entry
            }
        }
    }

    /// Reads content of the current entry; returns 0 when it is exhausted.
    func readData(into destination: UnsafeMutableRawBufferPointer) throws -> Int {
        guard remaining > 0, destination.count > 0 else { return 0 }
        let want = Int(min(Int64(destination.count), remaining))
        let n = try readBuffered(into: UnsafeMutableRawBufferPointer(rebasing: destination[0..<want]), partial: true)
        guard n > 0 else {
            throw ImageError.invalidTar("archive ends inside the content of \"\(currentPath)\"")
        }
        remaining -= Int64(n)
        return n
    }

    // MARK: - Header decoding

    private func makeEntry(
        _ h: [UInt8], typeflag: UInt8, headerSize: Int64, offset: Int64,
        longName: String?, longLink: String?, pax: [String: [UInt8]]
    ) throws -> TarEntry {
        let isPOSIX = h[257..<263].elementsEqual(Array("ustar\0".utf8))
        var path = TarReader.cString(h[0..<100])
        if isPOSIX {
            let prefix = TarReader.cString(h[345..<500])
            if !prefix.isEmpty { path = prefix + "/" + path }
        }
        if let longName { path = longName }
        if let value = pax["path"] { path = String(decoding: value, as: UTF8.self) }

        var linkName = TarReader.cString(h[157..<257])
        if let longLink { linkName = longLink }
        if let value = pax["linkpath"] { linkName = String(decoding: value, as: UTF8.self) }

        let kind: TarEntry.Kind
        switch typeflag {
        case UInt8(ascii: "0"), UInt8(ascii: "7"): kind = .regular
        case 0: kind = path.hasSuffix("/") ? .directory : .regular  // pre-POSIX directories
        case UInt8(ascii: "1"): kind = .hardLink
        case UInt8(ascii: "2"): kind = .symlink
        case UInt8(ascii: "3"): kind = .characterDevice
        case UInt8(ascii: "4"): kind = .blockDevice
        case UInt8(ascii: "5"): kind = .directory
        case UInt8(ascii: "6"): kind = .fifo
        case UInt8(ascii: "S"):
            throw ImageError.invalidTar("\"\(path)\" is a GNU sparse file, which is not supported")
        default:
            let flag = typeflag >= 0x20 && typeflag < 0x7f ? String(UnicodeScalar(typeflag)) : "\\(\(typeflag))"
            throw ImageError.invalidTar("\"\(path)\" has unsupported entry type '\(flag)' at offset \(offset)")
        }
        if pax.keys.contains(where: { $0.hasPrefix("GNU.sparse.") }) {
            throw ImageError.invalidTar("\"\(path)\" is a PAX sparse file, which is not supported")
        }

        var size = headerSize
        if let value = pax["size"] { size = try TarReader.decimal(value, key: "size", path: path) }
        // Like GNU tar and Go's archive/tar, only regular files carry content.
        if kind != .regular { size = 0 }
        var uid = Int(try TarReader.number(h, 108, 8, field: "uid", offset: offset))
        if let value = pax["uid"] { uid = Int(try TarReader.decimal(value, key: "uid", path: path)) }
        var gid = Int(try TarReader.number(h, 116, 8, field: "gid", offset: offset))
        if let value = pax["gid"] { gid = Int(try TarReader.decimal(value, key: "gid", path: path)) }
        var seconds = try TarReader.number(h, 136, 12, field: "mtime", offset: offset)
        var nanoseconds: Int32 = 0
        if let value = pax["mtime"] { (seconds, nanoseconds) = try TarReader.time(value, path: path) }
        let mode = UInt32(truncatingIfNeeded: try TarReader.number(h, 100, 8, field: "mode", offset: offset)) & 0o7777

        var xattrs: [String: [UInt8]] = [:]
        for (key, value) in pax where key.hasPrefix("SCHILY.xattr.") {
            xattrs[String(key.dropFirst("SCHILY.xattr.".count))] = value
        }
        var major: UInt32 = 0, minor: UInt32 = 0
        if kind == .characterDevice || kind == .blockDevice {
            major = UInt32(truncatingIfNeeded: try TarReader.number(h, 329, 8, field: "devmajor", offset: offset))
            minor = UInt32(truncatingIfNeeded: try TarReader.number(h, 337, 8, field: "devminor", offset: offset))
        }
        return TarEntry(
            path: path, kind: kind, mode: mode, uid: uid, gid: gid, size: size,
            modificationSeconds: seconds, modificationNanoseconds: nanoseconds, linkName: linkName,
            deviceMajor: major, deviceMinor: minor, xattrs: xattrs)
    }

    /// The header checksum: the byte sum with the checksum field read as spaces. Historic
    /// tars summed signed bytes, so either sum is accepted.
    private static func verifyChecksum(_ h: [UInt8], offset: Int64) throws {
        let stored = try number(h, 148, 8, field: "checksum", offset: offset)
        var unsigned: Int64 = 0
        var signed: Int64 = 0
        for (i, byte) in h.enumerated() {
            let b = (148..<156).contains(i) ? 0x20 : byte
            unsigned += Int64(b)
            signed += Int64(Int8(bitPattern: b))
        }
        guard stored == unsigned || stored == signed else {
            throw invalidTarAt(offset, "header checksum mismatch (not a tar archive, or corrupt)")
        }
    }

    /// An octal field, or a base-256 one (high bit set) as GNU tar writes for large values.
    static func number(_ h: [UInt8], _ start: Int, _ length: Int, field: String, offset: Int64) throws -> Int64 {
        let bytes = h[start..<(start + length)]
        if let first = bytes.first, first & 0x80 != 0 {
            guard first == 0x80 else { throw invalidTarAt(offset, "negative or oversized base-256 \(field)") }
            var value: Int64 = 0
            for byte in bytes.dropFirst() {
                guard value < (Int64.max >> 8) else { throw invalidTarAt(offset, "\(field) too large") }
                value = value << 8 | Int64(byte)
            }
            return value
        }
        var value: Int64 = 0
        var seenDigit = false
        for byte in bytes {
            if byte == 0 || (byte == 0x20 && seenDigit) { break }
            if byte == 0x20 { continue }
            guard byte >= 0x30 && byte <= 0x37 else {
                throw invalidTarAt(offset, "invalid octal \(field) field")
            }
            guard value < (Int64.max >> 3) else { throw invalidTarAt(offset, "\(field) too large") }
            value = value << 3 | Int64(byte - 0x30)
            seenDigit = true
        }
        return value
    }

    /// PAX records: `"<length> <key>=<value>\n"`, where length counts the whole record.
    static func parsePAX(_ data: [UInt8]) throws -> [String: [UInt8]] {
        var records: [String: [UInt8]] = [:]
        var index = 0
        while index < data.count {
            guard let space = data[index...].firstIndex(of: 0x20),
                let length = Int(String(decoding: data[index..<space], as: UTF8.self)),
                length > space - index, index + length <= data.count, data[index + length - 1] == 0x0a
            else {
                throw ImageError.invalidTar("malformed PAX record at byte \(index) of an extended header")
            }
            let record = data[(space + 1)..<(index + length - 1)]
            guard let equals = record.firstIndex(of: UInt8(ascii: "=")) else {
                throw ImageError.invalidTar("PAX record without '=' at byte \(index) of an extended header")
            }
            let key = String(decoding: record[record.startIndex..<equals], as: UTF8.self)
            records[key] = Array(record[(equals + 1)...])
            index += length
        }
        return records
    }

    private static func decimal(_ value: [UInt8], key: String, path: String) throws -> Int64 {
        guard let number = Int64(String(decoding: value, as: UTF8.self)), number >= 0 else {
            throw ImageError.invalidTar("\"\(path)\": invalid PAX \(key) \"\(String(decoding: value, as: UTF8.self))\"")
        }
        return number
    }

    /// A PAX time: decimal seconds with an optional fraction, e.g. `1700000000.123456789`.
    private static func time(_ value: [UInt8], path: String) throws -> (Int64, Int32) {
        let text = String(decoding: value, as: UTF8.self)
        let parts = text.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard let seconds = Int64(parts[0]) else {
            throw ImageError.invalidTar("\"\(path)\": invalid PAX mtime \"\(text)\"")
        }
        guard parts.count == 2 else { return (seconds, 0) }
        let digits = parts[1].prefix(9)
        guard digits.allSatisfy(\.isNumber), let fraction = Int32(digits.padding(toLength: 9, withPad: "0", startingAt: 0))
        else { throw ImageError.invalidTar("\"\(path)\": invalid PAX mtime \"\(text)\"") }
        return seconds < 0 && fraction > 0 ? (seconds - 1, 1_000_000_000 - fraction) : (seconds, fraction)
    }

    /// Bytes up to the first NUL, as UTF-8.
    static func cString(_ bytes: some Collection<UInt8>) -> String {
        String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
    }

    private static func paddingAfter(_ size: Int64) -> Int64 {
        let block = Int64(blockSize)
        return (block - size % block) % block
    }

    private static func invalidTarAt(_ offset: Int64, _ reason: String) -> ImageError {
        .invalidTar("\(reason) in the header at offset \(offset)")
    }

    // MARK: - Buffered input

    /// Reads the content of a metadata entry (long name or PAX) plus its padding.
    private func readMetadata(size: Int64, what: String) throws -> [UInt8] {
        guard size <= TarReader.maxMetadataSize else {
            throw ImageError.invalidTar("\(what) of \(size) bytes at offset \(offset) is larger than 1 MiB")
        }
        var data = [UInt8](repeating: 0, count: Int(size))
        let n = try data.withUnsafeMutableBytes { try readBuffered(into: $0) }
        guard n == Int(size) else { throw ImageError.invalidTar("archive ends inside a \(what)") }
        try skip(TarReader.paddingAfter(size))
        return data
    }

    /// Fills `destination` from the buffer and the source; with `partial`, returns after the
    /// first chunk instead of insisting on a full read. Returns less only at the end of input.
    private func readBuffered(into destination: UnsafeMutableRawBufferPointer, partial: Bool = false) throws -> Int {
        guard let target = destination.baseAddress else { return 0 }
        var copied = 0
        while copied < destination.count {
            if bufferStart == bufferEnd {
                let wanted = destination.count - copied
                if wanted >= buffer.count {
                    // Large reads go straight to the caller's memory.
                    let n = try source.read(into: UnsafeMutableRawBufferPointer(start: target + copied, count: wanted))
                    if n == 0 { break }
                    copied += n
                    offset += Int64(n)
                    if partial { break }
                    continue
                }
                bufferStart = 0
                bufferEnd = try source.read(into: buffer)
                if bufferEnd == 0 { break }
            }
            let n = min(bufferEnd - bufferStart, destination.count - copied)
            if let from = buffer.baseAddress {
                (target + copied).copyMemory(from: from + bufferStart, byteCount: n)
            }
            bufferStart += n
            copied += n
            offset += Int64(n)
            if partial { break }
        }
        return copied
    }

    private func skip(_ count: Int64) throws {
        var left = count
        while left > 0 {
            if bufferStart == bufferEnd {
                bufferStart = 0
                bufferEnd = try source.read(into: buffer)
                if bufferEnd == 0 { throw ImageError.invalidTar("archive ends inside the content of \"\(currentPath)\"") }
            }
            let n = Int(min(Int64(bufferEnd - bufferStart), left))
            bufferStart += n
            offset += Int64(n)
            left -= Int64(n)
        }
    }
}
