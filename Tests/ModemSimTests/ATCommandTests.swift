import Testing
@testable import ModemSim

@Suite struct ATCommandTests {
    @Test func forms() throws {
        let set = try ATCommand.parse(Array("AT+QIOPEN=1,0,\"TCP LISTENER\",\"127.0.0.1\",0,2020,0".utf8))
        #expect(set.name == "+QIOPEN" && set.form == .set)
        #expect(set.arguments == [.bare("1"), .bare("0"), .quoted("TCP LISTENER"), .quoted("127.0.0.1"), .bare("0"), .bare("2020"), .bare("0")])
        #expect(try ATCommand.parse(Array("at+qiact?".utf8)).form == .read)
        #expect(try ATCommand.parse(Array("AT+QIACT=?".utf8)).form == .test)
        #expect(try ATCommand.parse(Array("AT+QIGETERROR".utf8)).form == .execute)
        let e0 = try ATCommand.parse(Array("ATE0".utf8))
        #expect(e0.name == "E" && e0.basicValue == 0)
        #expect(try ATCommand.parse(Array("AT".utf8)).name == "")
    }

    @Test func omittedAndQuotedCommas() throws {
        let c = try ATCommand.parse(Array("AT+X=1,,\"a,b\", 7 ".utf8))
        #expect(c.arguments == [.bare("1"), .bare(""), .quoted("a,b"), .bare("7")])
        #expect(c.arguments[1].isOmitted)
        #expect(c.arguments[3].integer == 7)
    }

    @Test(arguments: ["AT+X=\"open", "AT+X=1\"2\"", "AT+", "AT#", "AT+X=\"a\"b"])
    func malformed(_ line: String) {
        #expect(throws: ATCommandParseError.malformed) { try ATCommand.parse(Array(line.utf8)) }
    }

    @Test func notACommand() {
        #expect(throws: ATCommandParseError.notACommand) { try ATCommand.parse(Array("hello".utf8)) }
    }

    @Test func integersAreBareDecimalsOnly() {
        #expect(ATArgument.quoted("1").integer == nil)
        #expect(ATArgument.bare("1x").integer == nil)
        #expect(ATArgument.bare("99999999999999999999").integer == nil)
        #expect(ATArgument.bare("-5").integer == -5)
    }
}
