/// Character classes and helpers of the RFC 3261 §25.1 grammar used by the auth headers.
enum AuthSyntax {
    /// `token` characters: alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~".
    static func isTokenByte(_ b: UInt8) -> Bool {
        switch b {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        case UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "!"), UInt8(ascii: "%"), UInt8(ascii: "*"),
             UInt8(ascii: "_"), UInt8(ascii: "+"), UInt8(ascii: "`"), UInt8(ascii: "'"), UInt8(ascii: "~"):
            return true
        default:
            return false
        }
    }

    /// Whether `s` is a non-empty token.
    static func isToken(_ s: String) -> Bool {
        var any = false
        for b in s.utf8 {
            guard isTokenByte(b) else { return false }
            any = true
        }
        return any
    }

    /// `s` as a quoted-string: `"` and `\` and control characters other than HT are escaped as
    /// quoted-pairs (CR and LF cannot be escaped in SIP and cannot occur in a parsed value).
    static func quoted(_ s: String) -> String {
        var out: [UInt8] = [UInt8(ascii: "\"")]
        out.reserveCapacity(s.utf8.count + 2)
        for b in s.utf8 {
            if b == UInt8(ascii: "\"") || b == UInt8(ascii: "\\") || (b < 0x20 && b != 0x09) || b == 0x7F {
                out.append(UInt8(ascii: "\\"))
            }
            out.append(b)
        }
        out.append(UInt8(ascii: "\""))
        return String(decoding: out, as: UTF8.self)
    }

    /// ASCII lower-casing (parameter names, scheme names, tokens).
    static func lowercased(_ s: String) -> String {
        String(decoding: s.utf8.map { (0x41...0x5A).contains($0) ? $0 | 0x20 : $0 }, as: UTF8.self)
    }

    /// Whether `s` is exactly `count` hex digits (either case).
    static func isHex(_ s: String, count: Int) -> Bool {
        var n = 0
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "a")...UInt8(ascii: "f"),
                 UInt8(ascii: "A")...UInt8(ascii: "F"):
                n += 1
            default:
                return false
            }
        }
        return n == count
    }
}
