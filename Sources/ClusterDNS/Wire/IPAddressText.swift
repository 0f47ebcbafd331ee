import Glibc

/// IPv4 and IPv6 addresses between text and network-order octets (inet_pton/inet_ntop).
public enum IPAddressText {
    /// 4 octets for an IPv4 address, 16 for IPv6, nil for anything else (no zones, no prefixes).
    public static func parse(_ text: String) -> [UInt8]? {
        if text.contains(":") {
            var address = in6_addr()
            guard inet_pton(AF_INET6, text, &address) == 1 else { return nil }
            return withUnsafeBytes(of: &address) { Array($0) }
        }
        var address = in_addr()
        guard inet_pton(AF_INET, text, &address) == 1 else { return nil }
        return withUnsafeBytes(of: &address) { Array($0) }
    }

    /// The conventional text form ("10.43.0.10", "2001:db8::1").
    public static func format(_ bytes: [UInt8]) -> String {
        var buffer = [CChar](repeating: 0, count: 64)
        let family = bytes.count == 16 ? AF_INET6 : AF_INET
        guard bytes.count == 4 || bytes.count == 16 else { return "<\(bytes.count)-octet address>" }
        let ok = bytes.withUnsafeBytes { raw in
            inet_ntop(family, raw.baseAddress, &buffer, socklen_t(buffer.count)) != nil
        }
        guard ok else { return "<bad address>" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
