/// Where a URI stands, which decides where it ends and what it may contain.
enum URIContext {
    /// The Request-URI: the whole range is the URI.
    case requestURI
    /// Inside `<…>` of a name-addr: the whole range is the URI.
    case bracketed
    /// An addr-spec without brackets in a header value: the URI ends before `;` (a header parameter,
    /// RFC 3261 §20.10), `,` or whitespace, and may not carry `?headers`.
    case addrSpec
}

/// RFC 3261 §19.1 / §25 URI grammar over octets.
enum URIParser {
    /// Parses the URI at the start of `bytes`. For `.requestURI` and `.bracketed` the whole slice must
    /// be the URI; for `.addrSpec` parsing stops where the URI ends, and that index is returned.
    static func parse(_ bytes: ArraySlice<UInt8>, context: URIContext, limits: SIPLimits) throws(SIPParseError) -> URI {
        try parsePrefix(bytes, context: context, limits: limits).uri
    }

    static func parsePrefix(_ bytes: ArraySlice<UInt8>, context: URIContext, limits: SIPLimits) throws(SIPParseError) -> (uri: URI, end: Int) {
        let s = bytes.startIndex
        var e = bytes.endIndex
        func fail(_ message: String, _ at: Int) -> SIPParseError {
            SIPParseError(.badURI, message, offset: at)
        }
        if context == .addrSpec {
            var k = s
            while k < e {
                let c = bytes[k]
                if c == ASCII.comma || c == ASCII.gt || ASCII.isLWS(c) { break }
                k += 1
            }
            e = k
        }
        guard e > s else { throw fail("empty URI", s) }
        guard e - s <= limits.maxURILength else {
            throw SIPParseError(.uriTooLong, "URI of \(e - s) octets exceeds the limit of \(limits.maxURILength)", offset: s)
        }
        // scheme ":"
        guard ByteClass.alpha.contains(bytes[s]) else { throw fail("URI does not start with a scheme", s) }
        var p = s
        while p < e, ByteClass.scheme.contains(bytes[p]) { p += 1 }
        guard p < e, bytes[p] == ASCII.colon else { throw fail("URI scheme is not followed by ':'", p) }
        let scheme = bytes[s..<p]
        let rest = p + 1
        if scheme.equalsLowercased("sip") || scheme.equalsLowercased("sips") {
            let (uri, end) = try parseSIP(bytes, secure: scheme.count == 4, from: rest, end: e, context: context, limits: limits)
            return (.sip(uri), end)
        }
        if scheme.equalsLowercased("tel") {
            let (uri, end) = try parseTel(bytes, from: rest, end: e, context: context, limits: limits)
            return (.tel(uri), end)
        }
        // absoluteURI: keep the opaque rest.
        var end = rest
        while end < e {
            let c = bytes[end]
            if context == .addrSpec && c == ASCII.semicolon { break }
            guard c > 0x20 && c < 0x7F && c != ASCII.lt && c != ASCII.gt && c != ASCII.quote else {
                throw fail("character 0x\(String(c, radix: 16)) not allowed in a URI", end)
            }
            end += 1
        }
        guard end > rest else { throw fail("empty URI after scheme", rest) }
        if context != .addrSpec && end != e { throw fail("unexpected characters after URI", end) }
        return (.other(scheme: String(bytes: scheme), rest: String(bytes: bytes[rest..<end])), end)
    }

    private static func parseSIP(
        _ b: ArraySlice<UInt8>, secure: Bool, from r: Int, end e: Int, context: URIContext, limits: SIPLimits
    ) throws(SIPParseError) -> (SIPURI, Int) {
        func fail(_ message: String, _ at: Int) -> SIPParseError { SIPParseError(.badURI, message, offset: at) }
        // Where the user part may end: in an addr-spec the user cannot hold ';' or '?' (they would need
        // brackets, RFC 3261 §20.10), so the '@' is looked for before them.
        var searchEnd = e
        if context == .addrSpec {
            var k = r
            while k < e, b[k] != ASCII.semicolon, b[k] != ASCII.question { k += 1 }
            searchEnd = k
        }
        var at: Int? = nil
        var k = r
        while k < searchEnd {
            if b[k] == ASCII.at { at = k; break }
            k += 1
        }
        var user: String? = nil
        var password: String? = nil
        var h = r
        if let at {
            var colon = at
            var j = r
            while j < at { if b[j] == ASCII.colon { colon = j; break }; j += 1 }
            let userBytes = b[r..<colon]
            guard !userBytes.isEmpty else { throw fail("empty user part", r) }
            guard userBytes.allSatisfy({ ByteClass.user.contains($0) }) else {
                throw fail("character not allowed in the user part", r + (userBytes.firstIndex { !ByteClass.user.contains($0) }! - userBytes.startIndex))
            }
            guard Percent.isWellFormed(userBytes) else { throw fail("bad %-escape in the user part", r) }
            user = String(bytes: userBytes)
            if colon < at {
                let pw = b[(colon + 1)..<at]
                guard pw.allSatisfy({ ByteClass.password.contains($0) }), Percent.isWellFormed(pw) else {
                    throw fail("character not allowed in the password", colon + 1)
                }
                password = String(bytes: pw)
            }
            h = at + 1
        }
        // host
        var p = h
        if p < e, b[p] == ASCII.lbracket {
            while p < e, b[p] != ASCII.rbracket { p += 1 }
            guard p < e else { throw fail("unterminated IPv6 reference", h) }
            p += 1
        } else {
            while p < e, ByteClass.hostchar.contains(b[p]) { p += 1 }
        }
        guard p > h, let host = Host.parse(b[h..<p], allowBareIPv6: false) else { throw fail("bad host", h) }
        var port: UInt16? = nil
        if p < e, b[p] == ASCII.colon {
            p += 1
            let ps = p
            var value = 0
            while p < e, ByteClass.digit.contains(b[p]) {
                value = value * 10 + Int(b[p] - 0x30)
                if value > 65535 { throw fail("port out of range", ps) }
                p += 1
            }
            guard p > ps else { throw fail("empty port", ps) }
            port = UInt16(value)
        }
        if context == .addrSpec {
            if p < e, b[p] == ASCII.question { throw fail("URI headers in a Contact/To/From not enclosed in <>", p) }
            if p < e, b[p] != ASCII.semicolon { throw fail("unexpected character after host", p) }
            return (SIPURI(isSecure: secure, user: user, password: password, host: host, port: port), p)
        }
        var parameters: [Parameter] = []
        while p < e, b[p] == ASCII.semicolon {
            p += 1
            let ns = p
            while p < e, ByteClass.paramchar.contains(b[p]) { p += 1 }
            guard p > ns else { throw fail("empty URI parameter", ns) }
            let name = String(bytes: b[ns..<p])
            var value: String? = nil
            if p < e, b[p] == ASCII.equals {
                p += 1
                let vs = p
                while p < e, ByteClass.paramchar.contains(b[p]) { p += 1 }
                guard p > vs else { throw fail("empty value of URI parameter '\(name)'", vs) }
                value = String(bytes: b[vs..<p])
            }
            parameters.append(Parameter(name, value))
            guard parameters.count <= limits.maxParameters else { throw fail("too many URI parameters", ns) }
        }
        var headers: [Parameter] = []
        if p < e, b[p] == ASCII.question {
            repeat {
                p += 1
                let ns = p
                while p < e, ByteClass.hnvchar.contains(b[p]) { p += 1 }
                guard p > ns, p < e, b[p] == ASCII.equals else { throw fail("bad URI header", ns) }
                let name = String(bytes: b[ns..<p])
                p += 1
                let vs = p
                while p < e, ByteClass.hnvchar.contains(b[p]) { p += 1 }
                headers.append(Parameter(name, String(bytes: b[vs..<p])))
                guard headers.count <= limits.maxParameters else { throw fail("too many URI headers", ns) }
            } while p < e && b[p] == ASCII.ampersand
        }
        guard p == e else { throw fail("unexpected character 0x\(String(b[p], radix: 16)) in URI", p) }
        return (SIPURI(isSecure: secure, user: user, password: password, host: host, port: port,
                       parameters: parameters, headers: headers), p)
    }

    private static func parseTel(
        _ b: ArraySlice<UInt8>, from r: Int, end e: Int, context: URIContext, limits: SIPLimits
    ) throws(SIPParseError) -> (TelURI, Int) {
        func fail(_ message: String, _ at: Int) -> SIPParseError { SIPParseError(.badURI, message, offset: at) }
        let numberChars = ByteClass("0123456789abcdefABCDEF*#+-.()pPwW")
        var p = r
        while p < e, numberChars.contains(b[p]) { p += 1 }
        guard p > r else { throw fail("empty telephone number", r) }
        let number = String(bytes: b[r..<p])
        if context == .addrSpec { return (TelURI(number: number), p) }
        var parameters: [Parameter] = []
        while p < e, b[p] == ASCII.semicolon {
            p += 1
            let ns = p
            while p < e, ByteClass.paramchar.contains(b[p]) { p += 1 }
            guard p > ns else { throw fail("empty tel parameter", ns) }
            var value: String? = nil
            let name = String(bytes: b[ns..<p])
            if p < e, b[p] == ASCII.equals {
                p += 1
                let vs = p
                while p < e, ByteClass.paramchar.contains(b[p]) { p += 1 }
                value = String(bytes: b[vs..<p])
            }
            parameters.append(Parameter(name, value))
            guard parameters.count <= limits.maxParameters else { throw fail("too many tel parameters", ns) }
        }
        guard p == e else { throw fail("unexpected character in tel URI", p) }
        return (TelURI(number: number, parameters: parameters), p)
    }
}
