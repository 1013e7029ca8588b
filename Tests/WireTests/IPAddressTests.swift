import Testing
import Wire

@Suite("IPAddress")
struct IPAddressTests {
    @Test(arguments: [
        ("192.0.2.1", "192.0.2.1"), ("0.0.0.0", "0.0.0.0"), ("255.255.255.255", "255.255.255.255"),
        ("::", "::"), ("::1", "::1"), ("fd00::2", "fd00::2"),
        ("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"),  // RFC 5952 §4.2.3: first longest run
        ("2001:0db8:0000:0000:0000:0000:0002:0001", "2001:db8::2:1"),
        ("2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"),  // §4.2.2: a lone zero is not "::"
        ("::ffff:192.0.2.1", "::ffff:c000:201"),
        ("1::", "1::"), ("FE80::A", "fe80::a"),
    ])
    func parsesAndPrints(text: String, canonical: String) {
        #expect(IPAddress(text)?.description == canonical)
    }

    @Test(arguments: [
        "", "1.2.3", "1.2.3.4.5", "256.0.0.1", "1..2.3", "01234.1.1.1", "1.2.3.4 ",
        ":", ":::", "1:::2", "1::2::3", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7", "12345::",
        "g::1", "::1%eth0", "1:2:3:4:5:6:7::8", "::1.2.3",
    ])
    func refusesNonAddresses(text: String) {
        #expect(IPAddress(text) == nil)
    }

    @Test func hashableAndFamiliesDiffer() {
        let set: Set<IPAddress> = [.v4(IPv4Address(10, 0, 0, 1)), IPAddress("10.0.0.1")!, IPAddress("::a00:1")!]
        #expect(set.count == 2)
        #expect(IPv4Address(10, 0, 0, 1).bytes == [10, 0, 0, 1])
        #expect(IPv6Address.loopback.bytes == Array(repeating: 0, count: 15) + [1])
    }
}
