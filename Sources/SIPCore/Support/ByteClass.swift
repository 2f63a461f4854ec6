/// Character classes of the RFC 3261 §25.1 grammar, as bit tests on octets.
///
/// Each class is two 64-bit masks over the ASCII range; octets ≥ 0x80 belong to no class except where a
/// caller says so (UTF8-NONASCII in quoted strings, reason phrases and display names).

struct ByteClass: Sendable {
    let low: UInt64
    let high: UInt64

    
    init(_ chars: String) {
        var low: UInt64 = 0, high: UInt64 = 0
        for c in chars.utf8 {
            if c < 64 { low |= 1 << UInt64(c) } else if c < 128 { high |= 1 << UInt64(c - 64) }
        }
        self.low = low
        self.high = high
    }

    
    init(low: UInt64, high: UInt64) { self.low = low; self.high = high }

    
    func contains(_ c: UInt8) -> Bool {
        if c < 64 { return low & (1 << UInt64(c)) != 0 }
        if c < 128 { return high & (1 << UInt64(c &- 64)) != 0 }
        return false
    }

    
    func union(_ other: ByteClass) -> ByteClass { ByteClass(low: low | other.low, high: high | other.high) }

    static let alpha = ByteClass("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
    static let digit = ByteClass("0123456789")
    static let alphanum = alpha.union(digit)
    static let hex = ByteClass("0123456789abcdefABCDEF")
    /// token = 1*(alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~")
    static let token = alphanum.union(ByteClass("-.!%*_+`'~"))
    /// mark = "-" / "_" / "." / "!" / "~" / "*" / "'" / "(" / ")"; unreserved = alphanum / mark
    static let unreserved = alphanum.union(ByteClass("-_.!~*'()"))
    /// user = 1*( unreserved / escaped / user-unreserved ); user-unreserved = & = + $ , ; ? /
    static let user = unreserved.union(ByteClass("&=+$,;?/%"))
    /// password = *( unreserved / escaped / & = + $ , )
    static let password = unreserved.union(ByteClass("&=+$,%"))
    /// paramchar = param-unreserved / unreserved / escaped; param-unreserved = [ ] / : & + $
    static let paramchar = unreserved.union(ByteClass("[]/:&+$%"))
    /// hnv-unreserved = [ ] / ? : + $ (plus unreserved and escaped)
    static let hnvchar = unreserved.union(ByteClass("[]/?:+$%"))
    /// Characters that may appear in a hostname, IPv4 address or (bracketed) IPv6 reference.
    static let hostchar = alphanum.union(ByteClass("-._"))
    static let ipv6char = hex.union(ByteClass(":."))
    /// word (Call-ID) = 1*(alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~" /
    /// "(" / ")" / "<" / ">" / ":" / "\" / DQUOTE / "/" / "[" / "]" / "?" / "{" / "}" )
    static let word = token.union(ByteClass("()<>:\\\"/[]?{}"))
    /// scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )
    static let scheme = alphanum.union(ByteClass("+-."))
    /// Generic parameter value characters accepted beyond token (IPv6 in received/maddr, RFC 5118 §4.5).
    static let paramValue = token.union(ByteClass(":[]/@"))
    /// Characters allowed in the opaque part of a non-SIP absolute URI (RFC 2396 uric plus # for fragments).
    static let uric = unreserved.union(ByteClass(";/?:@&=+$,%[]#"))
}

enum ASCII {
    static let cr: UInt8 = 0x0D
    static let lf: UInt8 = 0x0A
    static let sp: UInt8 = 0x20
    static let ht: UInt8 = 0x09
    static let colon: UInt8 = 0x3A
    static let semicolon: UInt8 = 0x3B
    static let comma: UInt8 = 0x2C
    static let equals: UInt8 = 0x3D
    static let quote: UInt8 = 0x22
    static let backslash: UInt8 = 0x5C
    static let lt: UInt8 = 0x3C
    static let gt: UInt8 = 0x3E
    static let at: UInt8 = 0x40
    static let question: UInt8 = 0x3F
    static let ampersand: UInt8 = 0x26
    static let slash: UInt8 = 0x2F
    static let percent: UInt8 = 0x25
    static let lbracket: UInt8 = 0x5B
    static let rbracket: UInt8 = 0x5D
    static let star: UInt8 = 0x2A

    static func isWhitespace(_ c: UInt8) -> Bool { c == sp || c == ht }
    /// Whitespace inside a header value, where a fold (CRLF followed by SP/HT) counts as LWS.
    static func isLWS(_ c: UInt8) -> Bool { c == sp || c == ht || c == cr || c == lf }
    static func lower(_ c: UInt8) -> UInt8 { (c >= 0x41 && c <= 0x5A) ? c | 0x20 : c }
    static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case 0x30...0x39: return c - 0x30
        case 0x41...0x46: return c - 0x41 + 10
        case 0x61...0x66: return c - 0x61 + 10
        default: return nil
        }
    }
}

extension Collection where Element == UInt8 {
    /// Case-insensitive ASCII comparison with a lower-case ASCII string.
    
    func equalsLowercased(_ lowercase: StaticString) -> Bool {
        guard count == lowercase.utf8CodeUnitCount else { return false }
        return lowercase.withUTF8Buffer { other in
            var j = 0
            for c in self {
                if ASCII.lower(c) != other[j] { return false }
                j += 1
            }
            return true
        }
    }
}

extension String {
    /// Builds a String from octets, repairing invalid UTF-8.
    
    init<C: Collection>(bytes: C) where C.Element == UInt8 {
        self = String(decoding: bytes, as: UTF8.self)
    }

    /// Case-insensitive ASCII equality.
    
    func asciiCaseInsensitiveEquals(_ other: String) -> Bool {
        guard utf8.count == other.utf8.count else { return false }
        // Over contiguous UTF-8 (no copy for native strings; small ones are copied to the stack):
        // this runs for every parameter lookup, where zipping the two UTF8Views cost more than the rest.
        var a = self, b = other
        return a.withUTF8 { pa in
            b.withUTF8 { pb in
                for k in 0..<pa.count where ASCII.lower(pa[k]) != ASCII.lower(pb[k]) { return false }
                return true
            }
        }
    }

    /// ASCII lower-casing (SIP tokens are ASCII; non-ASCII bytes are left alone).
    
    var asciiLowercased: String {
        var copy = self
        let hasUpper = copy.withUTF8 { p in p.contains(where: { $0 >= 0x41 && $0 <= 0x5A }) }
        if !hasUpper { return self }
        return String(decoding: utf8.map { ASCII.lower($0) }, as: UTF8.self)
    }
}
