import Testing
import Buffers

@Suite struct ByteCursorTests {
    @Test func readsBigEndianFieldsInOrder() {
        let bytes: [UInt8] = [0x45, 0x00, 0x05, 0xDC, 0xC0, 0x00, 0x02, 0x01, 1, 2, 3, 4, 5, 6, 7, 8, 0xAA]
        bytes.withUnsafeBytes { raw in
            var cursor = ByteCursor(raw)
            #expect(cursor.peekUInt8() == 0x45)
            #expect(cursor.readUInt8() == 0x45)
            #expect(cursor.readUInt8() == 0x00)
            #expect(cursor.readUInt16() == 1500)
            #expect(cursor.readUInt32() == 0xC000_0201)
            #expect(cursor.readUInt64() == 0x0102_0304_0506_0708)
            #expect(cursor.remaining == 1)
            #expect(cursor.readRemaining().first == 0xAA)
            #expect(cursor.isAtEnd)
            #expect(cursor.readUInt8() == nil)
            #expect(cursor.peekUInt8() == nil)
        }
    }

    /// Every truncation of a 2+4+2-byte record fails at the field that does not fit, and
    /// a failed read leaves the cursor where it was.
    @Test(arguments: 0...8)
    func truncatedInputAnswersNilWithoutMoving(length: Int) {
        let bytes: [UInt8] = Array(1...8)
        bytes.withUnsafeBytes { raw in
            var cursor = ByteCursor(UnsafeRawBufferPointer(rebasing: raw[0..<length]))
            let a = cursor.readUInt16()
            #expect((a != nil) == (length >= 2))
            if a == nil { #expect(cursor.offset == 0); return }
            let b = cursor.readUInt32()
            #expect((b != nil) == (length >= 6))
            if b == nil { #expect(cursor.offset == 2); return }
            let c = cursor.readUInt16()
            #expect((c != nil) == (length >= 8))
            if c == nil { #expect(cursor.offset == 6); return }
            #expect(c == 0x0708)
        }
    }

    @Test func bytesSkipAndSeekStayInside() {
        let bytes: [UInt8] = [9, 8, 7, 6, 5]
        bytes.withUnsafeBytes { raw in
            var cursor = ByteCursor(raw)
            #expect(cursor.readBytes(-1) == nil)
            #expect(cursor.readBytes(6) == nil)
            #expect(cursor.readBytes(2).map(Array.init) == [9, 8])
            #expect(cursor.skip(4) == false)
            #expect(cursor.skip(-1) == false)
            #expect(cursor.offset == 2)
            #expect(cursor.skip(1) == true)
            #expect(cursor.readUInt8() == 6)
            #expect(cursor.seek(to: 6) == false)
            #expect(cursor.seek(to: -1) == false)
            #expect(cursor.seek(to: 5) == true)
            #expect(cursor.isAtEnd)
            #expect(cursor.seek(to: 0) == true)
            #expect(cursor.readUInt8() == 9)
        }
    }

    @Test func emptyBufferIsSafe() {
        var cursor = ByteCursor(UnsafeRawBufferPointer(start: nil, count: 0))
        #expect(cursor.readUInt32() == nil)
        #expect(cursor.readBytes(0)?.count == 0)
        #expect(cursor.readRemaining().count == 0)
        #expect(cursor.isAtEnd)
    }
}
