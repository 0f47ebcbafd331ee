@testable import IngressProxy
import Testing

/// The ClientHello reader of the epoll data path (SNI and ALPN before the handshake), on hellos
/// built byte by byte and on hostile ones. Real clients' hellos go through it in ProxyTLSTests.
@Suite struct TLSClientHelloTests {
    static func u16(_ value: Int) -> [UInt8] { [UInt8(value >> 8 & 0xff), UInt8(value & 0xff)] }
    static func u24(_ value: Int) -> [UInt8] { [UInt8(value >> 16 & 0xff)] + u16(value) }

    static func serverNameExtension(_ name: String) -> [UInt8] {
        let entry = [UInt8(0)] + u16(name.utf8.count) + Array(name.utf8)
        let data = u16(entry.count) + entry
        return u16(0) + u16(data.count) + data
    }

    static func alpnExtension(_ protocols: [String]) -> [UInt8] {
        let list = protocols.flatMap { [UInt8($0.utf8.count)] + Array($0.utf8) }
        let data = u16(list.count) + list
        return u16(16) + u16(data.count) + data
    }

    /// A ClientHello record: TLS 1.2 legacy version, a 32-byte session id, two cipher suites,
    /// null compression, and `extensions` (none at all when nil).
    static func record(extensions: [UInt8]?, handshakeType: UInt8 = 1, recordType: UInt8 = 22) -> [UInt8] {
        var hello: [UInt8] = [3, 3] + [UInt8](repeating: 7, count: 32)
        hello += [32] + [UInt8](repeating: 9, count: 32)
        hello += u16(4) + [0x13, 0x01, 0xc0, 0x2f]
        hello += [1, 0]
        if let extensions { hello += u16(extensions.count) + extensions }
        let message = [handshakeType] + u24(hello.count) + hello
        return [recordType, 3, 1] + u16(message.count) + message
    }

    static func parse(_ bytes: [UInt8]) -> TLSClientHello.Parse {
        bytes.withUnsafeBytes { TLSClientHello.parse($0) }
    }

    @Test func serverNameAndProtocolsAreRead() {
        let browser = Self.record(extensions: Self.serverNameExtension("shop.example") + Self.alpnExtension(["h2", "http/1.1"]))
        #expect(Self.parse(browser) == .hello(TLSClientHello(serverName: "shop.example", hasALPN: true, offersHTTP2: true, offersHTTP11: true)))
        guard case .hello(let h2) = Self.parse(browser) else { return }
        #expect(!h2.staysOnLoop, "a client offering h2 goes to NIO")

        let http11 = Self.record(extensions: Self.alpnExtension(["http/1.1"]) + Self.serverNameExtension("a.example"))
        guard case .hello(let onLoop) = Self.parse(http11) else { Issue.record("not read"); return }
        #expect(onLoop.serverName == "a.example" && onLoop.staysOnLoop)

        // No extensions at all, or no ALPN: the loop, with the default certificate when no SNI.
        #expect(Self.parse(Self.record(extensions: nil)) == .hello(TLSClientHello()))
        guard case .hello(let bare) = Self.parse(Self.record(extensions: [])) else { Issue.record("not read"); return }
        #expect(bare.staysOnLoop && bare.serverName == nil)

        // Only protocols the loop does not speak: NIO answers as it did before.
        guard case .hello(let other) = Self.parse(Self.record(extensions: Self.alpnExtension(["spdy/3", "http/1.0"]))) else { return }
        #expect(!other.staysOnLoop)
        // An unknown extension is skipped.
        let unknown = Self.u16(0xfe0d) + Self.u16(3) + [1, 2, 3]
        guard case .hello(let skipped) = Self.parse(Self.record(extensions: unknown + Self.serverNameExtension("b.example"))) else { return }
        #expect(skipped.serverName == "b.example")
    }

    @Test func everyPrefixOfAHelloIsIncompleteOrOther() {
        let full = Self.record(extensions: Self.serverNameExtension("shop.example") + Self.alpnExtension(["http/1.1"]))
        for length in 0..<full.count {
            let result = Self.parse(Array(full.prefix(length)))
            #expect(result == .incomplete, "a \(length)-byte prefix: \(result)")
        }
        // Bytes after the record (the client's next record) do not matter.
        guard case .hello = Self.parse(full + [23, 3, 3, 0, 1, 0]) else { Issue.record("trailing bytes"); return }
    }

    @Test(arguments: [
        ("not a handshake record", record(extensions: nil, recordType: 23)),
        ("a ServerHello", record(extensions: nil, handshakeType: 2)),
        ("plain HTTP", Array("GET / HTTP/1.1\r\nHost: a\r\n\r\n".utf8)),
        ("SSLv2", [0x80, 0x2e, 0x01, 0x00, 0x02]),
        ("a record over 2^14 bytes", [22, 3, 1] + u16(16385)),
        ("a record of 0 bytes", [22, 3, 1, 0, 0]),
        ("two host names", record(extensions: serverNameExtension("a.example") + serverNameExtension("b.example"))),
        ("a NUL in the host name", record(extensions: serverNameExtension("a\u{0}.example"))),
        ("a non-ASCII host name", record(extensions: serverNameExtension("bücher.example"))),
        ("an empty ALPN list", record(extensions: u16(16) + u16(2) + u16(0))),
        ("an empty protocol name", record(extensions: alpnExtension([""]))),
        ("an extension longer than the hello", record(extensions: u16(0) + u16(200) + [0, 1])),
        ("an ALPN list longer than its extension", record(extensions: u16(16) + u16(3) + u16(9) + [1])),
    ])
    func hostileHellosAreNotRead(_ name: String, _ bytes: [UInt8]) {
        #expect(Self.parse(bytes) == .other, "\(name)")
    }

    /// A hello split over two records (legal, rare): the loop leaves it to NIO.
    @Test func aHelloLongerThanItsRecordIsNotRead() {
        var record = Self.record(extensions: Self.serverNameExtension("shop.example"))
        let cut = record.count - 10
        record = Array(record.prefix(cut))
        record[3...4] = ArraySlice(Self.u16(cut - 5))
        #expect(Self.parse(record) == .other)
    }

    /// Flipped bytes anywhere in a hello: never a crash, never a read past the bytes given.
    @Test func corruptedHellosNeverCrash() {
        let full = Self.record(extensions: Self.serverNameExtension("shop.example") + Self.alpnExtension(["h2", "http/1.1"]))
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<5000 {
            var bytes = full
            for _ in 0..<Int.random(in: 1...4, using: &generator) {
                bytes[Int.random(in: 0..<bytes.count, using: &generator)] = UInt8.random(in: 0...255, using: &generator)
            }
            _ = Self.parse(Array(bytes.prefix(Int.random(in: 0...bytes.count, using: &generator))))
        }
    }
}
