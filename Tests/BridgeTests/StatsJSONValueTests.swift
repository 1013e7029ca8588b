import Testing
@testable import Bridge

@Suite struct StatsJSONValueTests {
    @Test func parsesEveryKindAndKeepsBigNumbersExact() throws {
        let j = try JSONValue.parse(#" {"a":[1,-2.5e3,0.25,true,false,null],"b":{"c":"x\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00"},"n":18446744073709551615} "#)
        #expect(j["a"]?.array?.count == 6)
        #expect(j["a"]?.array?[1].double == -2500)
        #expect(j["b"]?["c"]?.string == "x\"\\/\u{8}\u{c}\n\r\té😀")
        #expect(j["n"]?.uint64 == UInt64.max)
        #expect(j["missing"] == nil)
    }

    @Test(arguments: [
        "", "{", "[1,]", "{\"a\":1,}", "01", "1.", "-", "1e", "\"\\x\"", "\"a\nb\"", "{\"a\" 1}", "[1 2]",
        "{\"a\":1,\"a\":2}", "\"\\ud800\"", "\"\\udc00\"", "tru", "nul", "1 2", "{\"a\":1}x", "'a'", "NaN",
        String(repeating: "[", count: 65) + String(repeating: "]", count: 65),
    ])
    func refusesWhatRFC8259Refuses(text: String) {
        #expect(throws: JSONValue.ParseError.self) { try JSONValue.parse(text) }
    }

    @Test func writerOutputRoundTrips() throws {
        var w = JSONWriter()
        w.beginObject()
        w.field("s", "ctl\u{1}\u{1f} \"q\" \\ é")
        w.field("n", Int64.min)
        w.field("d", 0.1)
        w.key("e"); w.beginArray(); w.endArray()
        w.endObject()
        let j = try JSONValue.parse(w.output)
        #expect(j["s"]?.string == "ctl\u{1}\u{1f} \"q\" \\ é")
        #expect(j["n"]?.int == Int.min)
        #expect(j["d"]?.double == 0.1)
        #expect(j["e"]?.array?.isEmpty == true)
    }
}
