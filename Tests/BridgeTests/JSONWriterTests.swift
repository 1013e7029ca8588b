import Testing
import Foundation
@testable import Bridge

@Suite struct JSONWriterTests {
    @Test func nestedContainersHaveCommasOnlyBetweenMembers() {
        var w = JSONWriter()
        w.beginObject()
        w.field("model", "EC600E")
        w.field("sockets", 12)
        w.key("list"); w.beginArray(); w.int(1); w.int(2); w.beginObject(); w.endObject(); w.endArray()
        w.field("ip", nil as String?)
        w.field("up", true)
        w.endObject()
        #expect(w.output == #"{"model":"EC600E","sockets":12,"list":[1,2,{}],"ip":null,"up":true}"#)
    }

    @Test(arguments: ["plain", "quote\"back\\slash", "ctl\u{01}\u{1f}\n\r\t", "ünïcødé 中文 🚀", ""])
    func stringsRoundTripThroughAStrictParser(_ s: String) throws {
        var w = JSONWriter()
        w.beginObject(); w.field("k", s); w.endObject()
        let parsed = try JSONSerialization.jsonObject(with: Data(w.output.utf8)) as? [String: String]
        #expect(parsed == ["k": s])
    }

    @Test func nonFiniteDoublesBecomeNull() {
        var w = JSONWriter()
        w.beginArray(); w.double(.nan); w.double(1.5); w.double(.infinity); w.endArray()
        #expect(w.output == "[null,1.5,null]")
    }
}
