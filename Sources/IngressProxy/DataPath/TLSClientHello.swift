/// What the epoll data path reads from a TLS ClientHello before the handshake: the server name
/// (SNI, RFC 6066 §3), which picks the certificate, and the ALPN protocols offered (RFC 7301
/// §3.1), which pick the path. A client offering h2 goes to NIO's TLS pipeline, which serves
/// HTTP/2; an HTTP/1.1-only client (or one without ALPN) stays on the loop.
///
/// Only a ClientHello that fits in its first record is read (`.incomplete` until that record is
/// all there); anything else (fragmented over records, SSLv2, not TLS at all) is `.other` and
/// goes to NIO with its bytes, which reads it as before (it answers with an alert or closes).
struct TLSClientHello: Equatable {
    /// The host_name entry of server_name, as sent (lowercased on lookup), or nil.
    var serverName: String?
    /// Whether the client sent ALPN, and what it offered of h2 and http/1.1.
    var hasALPN = false
    var offersHTTP2 = false
    var offersHTTP11 = false

    enum Parse: Equatable {
        /// The record is not all there yet.
        case incomplete
        /// Not a ClientHello this parser reads (malformed, fragmented, not TLS).
        case other
        case hello(TLSClientHello)
    }

    /// The largest TLS record: a 5-byte header and 2^14 bytes of plaintext (RFC 8446 §5.1; a
    /// ClientHello is plaintext). Larger lengths are malformed.
    static let maxRecord = 5 + 16384

    /// Whether the loop can serve this client: no h2 offered, and http/1.1 among what it offers
    /// (or no ALPN at all).
    var staysOnLoop: Bool { !offersHTTP2 && (!hasALPN || offersHTTP11) }

    /// Reads the ClientHello at the start of `bytes`.
    static func parse(_ bytes: UnsafeRawBufferPointer) -> Parse {
        var record = Cursor(bytes)
        guard let type = record.u8() else { return .incomplete }
        // 22: handshake. SSLv2-style hellos and anything else are not read here.
        guard type == 22 else { return .other }
        guard let major = record.u8(), let _ = record.u8(), let length = record.u16() else { return .incomplete }
        guard major == 3, length > 0, length <= 16384 else { return .other }
        guard let body = record.take(Int(length)) else { return .incomplete }
        var message = Cursor(body)
        // Handshake header: type 1 (client_hello) and a 24-bit length within this record.
        guard message.u8() == 1, let high = message.u8(), let low = message.u16() else { return .other }
        let helloLength = Int(high) << 16 | Int(low)
        guard let helloBytes = message.take(helloLength) else { return .other }
        var hello = Cursor(helloBytes)
        guard hello.skip(2 + 32),                                     // legacy_version, random
              let sessionLength = hello.u8(), sessionLength <= 32, hello.skip(Int(sessionLength)),
              let suitesLength = hello.u16(), suitesLength >= 2, suitesLength % 2 == 0, hello.skip(Int(suitesLength)),
              let compressionLength = hello.u8(), compressionLength >= 1, hello.skip(Int(compressionLength)) else {
            return .other
        }
        var result = TLSClientHello()
        // No extensions at all is allowed (a TLS 1.2 client without SNI).
        if hello.isEmpty { return .hello(result) }
        guard let extensionsLength = hello.u16(), let extensionBytes = hello.take(Int(extensionsLength)), hello.isEmpty else {
            return .other
        }
        var extensions = Cursor(extensionBytes)
        while !extensions.isEmpty {
            guard let kind = extensions.u16(), let size = extensions.u16(), let data = extensions.take(Int(size)) else { return .other }
            switch kind {
            case 0:
                guard result.serverName == nil, let name = serverName(data) else { return .other }
                result.serverName = name
            case 16:
                guard !result.hasALPN, readALPN(data, into: &result) else { return .other }
            default:
                break
            }
        }
        return .hello(result)
    }

    /// server_name: a list of (type, name); the host_name (type 0) entry, one at most.
    private static func serverName(_ data: UnsafeRawBufferPointer) -> String? {
        var list = Cursor(data)
        guard let length = list.u16(), let entries = list.take(Int(length)), list.isEmpty else { return nil }
        var cursor = Cursor(entries)
        var name: String?
        while !cursor.isEmpty {
            guard let type = cursor.u8(), let size = cursor.u16(), size > 0, let value = cursor.take(Int(size)) else { return nil }
            if type == 0 {
                // A name with a NUL or non-ASCII byte is refused by BoringSSL too.
                guard name == nil, value.allSatisfy({ $0 > 0x20 && $0 < 0x7f }) else { return nil }
                name = String(decoding: value, as: UTF8.self)
            }
        }
        return name
    }

    /// application_layer_protocol_negotiation: a non-empty list of non-empty names.
    private static func readALPN(_ data: UnsafeRawBufferPointer, into result: inout TLSClientHello) -> Bool {
        var list = Cursor(data)
        guard let length = list.u16(), length > 0, let entries = list.take(Int(length)), list.isEmpty else { return false }
        var cursor = Cursor(entries)
        result.hasALPN = true
        while !cursor.isEmpty {
            guard let size = cursor.u8(), size > 0, let name = cursor.take(Int(size)) else { return false }
            if name.elementsEqual("h2".utf8) { result.offersHTTP2 = true }
            if name.elementsEqual("http/1.1".utf8) { result.offersHTTP11 = true }
        }
        return true
    }

    /// Reads big-endian fields from a byte range; nil when the bytes run out.
    private struct Cursor {
        var bytes: UnsafeRawBufferPointer
        init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

        var isEmpty: Bool { bytes.isEmpty }

        mutating func u8() -> UInt8? {
            guard let first = bytes.first else { return nil }
            bytes = UnsafeRawBufferPointer(rebasing: bytes.dropFirst())
            return first
        }

        mutating func u16() -> UInt16? {
            guard bytes.count >= 2 else { return nil }
            let value = UInt16(bytes[0]) << 8 | UInt16(bytes[1])
            bytes = UnsafeRawBufferPointer(rebasing: bytes.dropFirst(2))
            return value
        }

        mutating func take(_ count: Int) -> UnsafeRawBufferPointer? {
            guard count <= bytes.count else { return nil }
            let taken = UnsafeRawBufferPointer(rebasing: bytes.prefix(count))
            bytes = UnsafeRawBufferPointer(rebasing: bytes.dropFirst(count))
            return taken
        }

        mutating func skip(_ count: Int) -> Bool { take(count) != nil }
    }
}
