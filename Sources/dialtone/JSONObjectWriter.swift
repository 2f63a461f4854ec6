/// Writes one flat JSON object (RFC 8259) with its members in the order added.
struct JSONObjectWriter {
    private var text = "{"
    private var first = true

    mutating func add(_ key: String, string value: String) {
        member(key)
        Self.appendString(value, to: &text)
    }

    mutating func add(_ key: String, integer value: Int) {
        member(key)
        text += String(value)
    }

    mutating func addNull(_ key: String) {
        member(key)
        text += "null"
    }

    func finish() -> String { text + "}" }

    private mutating func member(_ key: String) {
        if !first { text += "," }
        first = false
        Self.appendString(key, to: &text)
        text += ":"
    }

    /// A JSON string literal: quotes, backslashes and control characters escaped. Swift strings are
    /// always valid Unicode (invalid UTF-8 was repaired to U+FFFD when they were made), so the output
    /// is valid UTF-8. U+2028 and U+2029 are escaped too, for readers that treat them as line ends.
    static func appendString(_ value: String, to out: inout String) {
        out += "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F || scalar.value == 0x2028 || scalar.value == 0x2029 {
                    out += "\\u" + hex4(scalar.value)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        out += "\""
    }

    private static func hex4(_ value: UInt32) -> String {
        let digits = Array("0123456789abcdef")
        var s = ""
        for shift in stride(from: 12, through: 0, by: -4) {
            s.append(digits[Int((value >> UInt32(shift)) & 0xF)])
        }
        return s
    }
}
