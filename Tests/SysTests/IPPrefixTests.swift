import Testing
import Sys

@Suite struct IPPrefixTests {
    @Test(arguments: [
        ("10.64.0.1/24", "10.64.0.1/24", "10.64.0.0/24"),
        ("192.0.2.7", "192.0.2.7/32", "192.0.2.7/32"),
        ("default", "0.0.0.0/0", "0.0.0.0/0"),
        ("::/0", "::/0", "::/0"),
        ("fd00:0:0:0::1/64", "fd00::1/64", "fd00::/64"),
        ("2001:db8::ff/121", "2001:db8::ff/121", "2001:db8::80/121"),
        ("10.1.2.3/0", "10.1.2.3/0", "0.0.0.0/0"),
        ("10.255.255.255/9", "10.255.255.255/9", "10.128.0.0/9"),
    ])
    func parsesAndPrintsCanonically(text: String, canonical: String, network: String) throws {
        let prefix = try IPPrefix(parsing: text)
        #expect(prefix.description == canonical)
        #expect(prefix.network.description == network)
    }

    @Test(arguments: ["", "/", "10.0.0.1/", "10.0.0.1/33", "10.0.0.1/-1", "10.0.0.1/+8", "fd00::1/129",
                      "10.0.0.256/8", "10.0.0/8", "eth0", "10.0.0.1/24/1", "10.0.0.1/0008", " 10.0.0.1/8"])
    func rejectsWhatIsNotAPrefix(text: String) {
        #expect(throws: SysError.invalidAddress(text)) { try IPPrefix(parsing: text) }
    }

    @Test func addressFamilies() throws {
        #expect(IPAddress("127.0.0.1")?.bytes == [127, 0, 0, 1])
        #expect(IPAddress("::1")?.isIPv6 == true)
        #expect(IPAddress(bytes: [1, 2, 3]) == nil)
        #expect(IPPrefix(address: IPAddress("::1")!, length: 129) == nil)
        #expect(IPPrefix.defaultIPv6.description == "::/0")
    }
}
