@testable import APIMachinery
import Testing

/// `IPv4Text`: the service and cluster CIDR flags and the addresses validated against them.
@Suite struct IPv4TextTests {
    @Test(arguments: [
        ("10.43.0.1", UInt32(0x0A2B_0001) as UInt32?),
        ("0.0.0.0", 0),
        ("255.255.255.255", 0xFFFF_FFFF),
        ("256.0.0.1", nil),
        ("10.43.0", nil),
        ("10.43.0.1.2", nil),
        ("10..0.1", nil),
        ("+1.+2.+3.+4", nil),
        ("-0.1.2.3", nil),
        ("1.2.3.4 ", nil),
        ("1.2.3.0x1", nil),
        ("١.٢.٣.٤", nil),
        ("", nil),
    ])
    func addressesAreDottedQuadsOfDigits(text: String, value: UInt32?) {
        #expect(IPv4Text.parseIPv4(text) == value)
    }

    @Test func networksClearTheirHostBitsAndRefuseSignedLengths() {
        #expect(IPv4Text.parseCIDR("10.43.7.9/16").map { [$0.0, UInt32($0.1)] } == [0x0A2B_0000, 16])
        #expect(IPv4Text.parseCIDR("0.0.0.0/0").map { [$0.0, UInt32($0.1)] } == [0, 0])
        for text in ["10.43.0.0/+16", "10.43.0.0/33", "10.43.0.0/-1", "10.43.0.0", "10.43.0.0/", "10.43.0.0/16/1"] {
            #expect(IPv4Text.parseCIDR(text) == nil, "\(text)")
        }
        #expect(IPv4Text.format(0x0A2B_000A) == "10.43.0.10")
    }
}
