import Foundation
@testable import Images

/// Builds tar archives byte by byte, so tests can make entries no well-behaved tar tool
/// writes (absolute paths, `..`, links out of the tree) and exercise PAX and GNU records.
struct TarBuilder {
    private(set) var bytes: [UInt8] = []

    enum TypeFlag: UInt8 {
        case regular = 0x30, hardLink = 0x31, symlink = 0x32, characterDevice = 0x33, blockDevice = 0x34
        case directory = 0x35, fifo = 0x36, pax = 0x78, paxGlobal = 0x67, gnuLongName = 0x4c, gnuLongLink = 0x4b
    }

    mutating func file(_ path: String, _ content: String = "", mode: Int = 0o644, uid: Int = 0, gid: Int = 0,
                       mtime: Int = 1_600_000_000, pax: [String: String] = [:]) {
        entry(path, .regular, content: Array(content.utf8), mode: mode, uid: uid, gid: gid, mtime: mtime, pax: pax)
    }

    mutating func directory(_ path: String, mode: Int = 0o755, uid: Int = 0, gid: Int = 0, mtime: Int = 1_600_000_000) {
        entry(path, .directory, mode: mode, uid: uid, gid: gid, mtime: mtime)
    }

    mutating func symlink(_ path: String, to target: String) {
        entry(path, .symlink, mode: 0o777, link: target)
    }

    mutating func hardLink(_ path: String, to target: String) {
        entry(path, .hardLink, link: target)
    }

    /// Adds a PAX extended header (records as given), then the entry itself.
    mutating func entry(
        _ path: String, _ type: TypeFlag, content: [UInt8] = [], mode: Int = 0o644, uid: Int = 0, gid: Int = 0,
        mtime: Int = 1_600_000_000, link: String = "", pax: [String: String] = [:], major: Int = 0, minor: Int = 0,
        rawUID: [UInt8]? = nil
    ) {
        if !pax.isEmpty {
            let records = pax.sorted { $0.key < $1.key }.map { TarBuilder.paxRecord($0.key, $0.value) }.joined()
            raw(name: "PaxHeaders/entry", type: .pax, content: Array(records.utf8))
        }
        raw(name: path, type: type, content: content, mode: mode, uid: uid, gid: gid, mtime: mtime, link: link,
            major: major, minor: minor, rawUID: rawUID)
    }

    /// A GNU `L` record carrying a long name for the next entry.
    mutating func gnuLongName(_ name: String) {
        raw(name: "././@LongLink", type: .gnuLongName, content: Array(name.utf8) + [0])
    }

    mutating func gnuLongLink(_ name: String) {
        raw(name: "././@LongLink", type: .gnuLongLink, content: Array(name.utf8) + [0])
    }

    mutating func paxGlobal(_ records: [String: String]) {
        let text = records.sorted { $0.key < $1.key }.map { TarBuilder.paxRecord($0.key, $0.value) }.joined()
        raw(name: "GlobalHead", type: .paxGlobal, content: Array(text.utf8))
    }

    /// One header block (name truncated to 100 bytes, as the field holds) plus padded content.
    mutating func raw(
        name: String, type: TypeFlag, content: [UInt8] = [], mode: Int = 0o644, uid: Int = 0, gid: Int = 0,
        mtime: Int = 1_600_000_000, link: String = "", major: Int = 0, minor: Int = 0, rawUID: [UInt8]? = nil,
        corruptChecksum: Bool = false
    ) {
        var h = [UInt8](repeating: 0, count: 512)
        func put(_ s: String, _ offset: Int, _ length: Int) {
            for (i, b) in Array(s.utf8).prefix(length).enumerated() { h[offset + i] = b }
        }
        func octal(_ value: Int, _ offset: Int, _ length: Int) {
            put(String(format: "%0\(length - 1)o", value), offset, length - 1)
        }
        put(name, 0, 100)
        octal(mode, 100, 8)
        if let rawUID { for (i, b) in rawUID.enumerated() { h[108 + i] = b } } else { octal(uid, 108, 8) }
        octal(gid, 116, 8)
        octal(content.count, 124, 12)
        octal(mtime, 136, 12)
        h[156] = type.rawValue
        put(link, 157, 100)
        put("ustar\0", 257, 6)
        put("00", 263, 2)
        octal(major, 329, 8)
        octal(minor, 337, 8)
        for i in 148..<156 { h[i] = 0x20 }
        var sum = h.reduce(0) { $0 + Int($1) }
        if corruptChecksum { sum += 1 }
        put(String(format: "%06o", sum), 148, 6)
        h[154] = 0
        bytes += h
        bytes += content
        bytes += [UInt8](repeating: 0, count: (512 - content.count % 512) % 512)
    }

    /// The archive with its two zero end blocks.
    var archive: [UInt8] { bytes + [UInt8](repeating: 0, count: 1024) }

    func write(to path: String) throws {
        try Data(archive).write(to: URL(fileURLWithPath: path))
    }

    static func paxRecord(_ key: String, _ value: String) -> String {
        let body = " \(key)=\(value)\n"
        var length = body.utf8.count + 1
        while String(length).count + body.utf8.count != length { length += 1 }
        return "\(length)\(body)"
    }
}

/// A `ByteSource` over bytes in memory, handing out at most `chunk` bytes per read to shake
/// out buffering bugs.
final class MemorySource: ByteSource {
    let data: [UInt8]
    let chunk: Int
    var position = 0
    init(_ data: [UInt8], chunk: Int = 1 << 20) {
        self.data = data
        self.chunk = chunk
    }
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let n = min(buffer.count, chunk, data.count - position)
        guard n > 0 else { return 0 }
        data.withUnsafeBytes { raw in
            buffer.baseAddress?.copyMemory(from: raw.baseAddress! + position, byteCount: n)
        }
        position += n
        return n
    }
}
