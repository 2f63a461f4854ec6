import DialtoneTestKit
import Testing

/// The test kit's JSON reader must tell valid lines from invalid ones, or the CLI tests prove nothing.
@Suite struct JSONValueTests {
    @Test func readsValidJSON() throws {
        let value = try #require(JSONValue.parse(#"{"a":"x\"\\\n\u00e9\ud83d\ude00","b":-12.5e1,"c":[true,false,null],"d":{}}"#))
        #expect(value.keys == ["a", "b", "c", "d"])
        #expect(value["a"]?.stringValue == "x\"\\\né😀")
        #expect(value["b"] == .number(-125))
        #expect(value["c"] == .array([.bool(true), .bool(false), .null]))
        #expect(value["d"] == .object([]))
        #expect(JSONValue.parse(" 42 ")?.intValue == 42)
    }

    @Test(arguments: [
        "", "{", "{\"a\":1,}", "{\"a\" 1}", "[1,]", "01", "1.", "-", "+1", "\"a", "\"\u{01}\"", "\"\\x\"",
        "\"\\ud800\"", "\"\\udc00x\"", "nul", "{} {}", "{'a':1}", "[1 2]",
    ])
    func rejectsInvalidJSON(text: String) {
        #expect(JSONValue.parse(text) == nil, "accepted \(text)")
    }

    @Test func rejectsInvalidUTF8AndDeepNesting() {
        #expect(JSONValue.parse([0x22, 0xFF, 0x22]) == nil)
        #expect(JSONValue.parse([0x22, 0xC3, 0xA9, 0x22]) == .string("é"))
        let deep = String(repeating: "[", count: 100) + String(repeating: "]", count: 100)
        #expect(JSONValue.parse(deep) == nil)
    }

    @Test func splitsLines() {
        let lines = JSONValue.parseLines(Array("{\"a\":1}\nnope\n[]\n".utf8))
        #expect(lines.count == 3)
        #expect(lines[0]?["a"]?.intValue == 1)
        #expect(lines[1] == nil)
        #expect(lines[2] == .array([]))
    }
}
