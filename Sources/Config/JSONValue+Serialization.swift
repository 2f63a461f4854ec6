extension JSONValue {
    /// The JSON text of this value (RFC 8259), UTF-8, members in order; `JSONValue.parse` reads it
    /// back to an equal value.
    ///
    /// - Parameter indent: nil for compact output; otherwise spaces per nesting level, one member or
    ///   element per line and a final newline (for files people read).
    /// - Numbers: whole numbers below 2^53 print without a fraction (`3600`, not `3600.0`); others
    ///   with the shortest text that reads back the same Double; NaN and infinities (which JSON
    ///   cannot represent) print as `null`.
    /// - Strings: `"` `\` and control characters are escaped, everything else is written as UTF-8.
    public func serialized(indent: Int? = nil) -> [UInt8] {
        var out: [UInt8] = []
        write(to: &out, indent: indent, level: 0)
        if indent != nil { out.append(0x0A) }
        return out
    }

    /// `serialized(indent:)` as a String.
    public func text(indent: Int? = nil) -> String {
        String(decoding: serialized(indent: indent), as: UTF8.self)
    }

    private func write(to out: inout [UInt8], indent: Int?, level: Int) {
        switch self {
        case .null: out += Array("null".utf8)
        case .bool(let b): out += Array((b ? "true" : "false").utf8)
        case .number(let d): out += Array(JSONValue.numberText(d).utf8)
        case .string(let s): JSONValue.writeString(s, to: &out)
        case .array(let items):
            out.append(UInt8(ascii: "["))
            for (i, item) in items.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                JSONValue.newline(&out, indent: indent, level: level + 1)
                item.write(to: &out, indent: indent, level: level + 1)
            }
            if !items.isEmpty { JSONValue.newline(&out, indent: indent, level: level) }
            out.append(UInt8(ascii: "]"))
        case .object(let members):
            out.append(UInt8(ascii: "{"))
            for (i, member) in members.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                JSONValue.newline(&out, indent: indent, level: level + 1)
                JSONValue.writeString(member.key, to: &out)
                out.append(UInt8(ascii: ":"))
                if indent != nil { out.append(0x20) }
                member.value.write(to: &out, indent: indent, level: level + 1)
            }
            if !members.isEmpty { JSONValue.newline(&out, indent: indent, level: level) }
            out.append(UInt8(ascii: "}"))
        }
    }

    private static func newline(_ out: inout [UInt8], indent: Int?, level: Int) {
        guard let indent else { return }
        out.append(0x0A)
        out += [UInt8](repeating: 0x20, count: max(0, indent) * level)
    }

    static func numberText(_ d: Double) -> String {
        guard d.isFinite else { return "null" }
        if d.rounded() == d, abs(d) < 9_007_199_254_740_992 { return String(Int64(d)) }
        // Swift prints the shortest round-tripping form: "0.5", "1e-07", "1.5e+300" (all valid JSON).
        return String(d)
    }

    private static func hexDigit(_ v: UInt8) -> UInt8 { v < 10 ? 0x30 + v : 0x57 + v }

    private static func writeString(_ s: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "\""): out += [0x5C, 0x22]
            case UInt8(ascii: "\\"): out += [0x5C, 0x5C]
            case 0x0A: out += [0x5C, UInt8(ascii: "n")]
            case 0x0D: out += [0x5C, UInt8(ascii: "r")]
            case 0x09: out += [0x5C, UInt8(ascii: "t")]
            case 0x00..<0x20, 0x7F:
                out += [0x5C, UInt8(ascii: "u"), 0x30, 0x30]
                out.append(hexDigit(b >> 4))
                out.append(hexDigit(b & 0x0F))
            default: out.append(b)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}
