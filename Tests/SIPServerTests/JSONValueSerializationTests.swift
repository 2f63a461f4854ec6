import Testing
import Config

@Suite struct JSONValueSerializationTests {
    @Test func roundTripsThroughTheParser() throws {
        let value: JSONValue = .object([
            ("s", .string("quote \" backslash \\ newline \n tab \t nul \u{0} del \u{7F} é 😀")),
            ("n", .array([.number(0), .number(-12), .number(3600), .number(0.5), .number(1e-7), .number(1.5e300),
                          .number(1_700_000_000_123)])),
            ("b", .array([.bool(true), .bool(false), .null])),
            ("empty", .object([])),
            ("nested", .array([.array([]), .object([("k", .string(""))])])),
        ])
        for indent: Int? in [nil, 2] {
            let bytes = value.serialized(indent: indent)
            #expect(JSONValue.parse(bytes) == value)
        }
    }

    @Test func compactAndIndentedText() {
        let value: JSONValue = .object([("a", .number(1)), ("b", .array([.string("x"), .null]))])
        #expect(value.text() == #"{"a":1,"b":["x",null]}"#)
        #expect(value.text(indent: 2) == "{\n  \"a\": 1,\n  \"b\": [\n    \"x\",\n    null\n  ]\n}\n")
        #expect(JSONValue.number(.nan).text() == "null")
        #expect(JSONValue.number(-.infinity).text() == "null")
        #expect(JSONValue.string("\u{1}").text() == #""\u0001""#)
    }
}
