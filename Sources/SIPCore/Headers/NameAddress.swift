/// `( name-addr / addr-spec ) *( SEMI param )`: the value of From, To, Contact, Route, Record-Route,
/// Refer-To, P-Asserted-Identity and similar headers (RFC 3261 §20.10, §25).
///
/// Without angle brackets, parameters after the URI belong to the header, not the URI (RFC 3261 §20.10;
/// RFC 4475 cparam01 versus cparam02).
public struct NameAddress: Sendable, Hashable, CustomStringConvertible {
    /// The display name without quotes (quoted-pairs resolved), or the tokens as written.
    public var displayName: String?
    public var uri: URI
    /// Header parameters (`tag`, `q`, `expires`, …), values as written (quoted values keep quotes).
    public var parameters: [Parameter]
    /// Whether the URI was written in `<…>`; serialization always uses brackets when a display name
    /// or a URI parameter/header makes them necessary.
    public var bracketed: Bool

    public init(displayName: String? = nil, uri: URI, parameters: [Parameter] = [], bracketed: Bool = true) {
        self.displayName = displayName
        self.uri = uri
        self.parameters = parameters
        self.bracketed = bracketed
    }

    /// The `tag` parameter (From/To, RFC 3261 §19.3).
    public var tag: String? {
        get { parameters.parameter("tag").flatMap { $0 } }
        set {
            if let newValue { parameters.set("tag", newValue) } else { parameters.remove("tag") }
        }
    }

    public var description: String {
        var s = ""
        var needsBrackets = bracketed || displayName != nil
        // Without <…> an addr-spec ends at ',' (list), ';' (header parameter) and, in the userinfo of a
        // SIP URI, '?' (RFC 3261 §20.10): any URI that holds one must be bracketed to read back the same.
        let special: (Character) -> Bool = { $0 == "," || $0 == ";" || $0 == "?" }
        switch uri {
        case .sip(let u):
            if !u.parameters.isEmpty || !u.headers.isEmpty || u.user?.contains(where: special) == true
                || u.password?.contains(where: special) == true {
                needsBrackets = true
            }
        case .tel(let t):
            if !t.parameters.isEmpty { needsBrackets = true }
        case .other(_, let rest):
            if rest.contains(where: special) { needsBrackets = true }
        }
        if let displayName {
            s += "\""
            for ch in displayName.unicodeScalars {
                if ch == "\"" || ch == "\\" { s += "\\" }
                s.unicodeScalars.append(ch)
            }
            s += "\" "
        }
        s += needsBrackets ? "<\(uri)>" : uri.description
        s += parameters.serialized
        return s
    }

    /// Parses one name-addr or addr-spec with its parameters (one element of a list header).
    public init(parsing text: String, header: String = "name-addr", limits: SIPLimits = .default) throws(SIPParseError) {
        let bytes = Array(text.utf8)
        self = try NameAddress.parse(bytes[...], header: header, limits: limits)
    }

    static func parse(_ bytes: ArraySlice<UInt8>, header: String, limits: SIPLimits) throws(SIPParseError) -> NameAddress {
        var sc = ValueScanner(bytes, header: header)
        sc.skipLWS()
        // Is there a '<' outside quotes? Then it is a name-addr.
        var angle: Int? = nil
        var k = sc.i
        var inQuote = false
        while k < bytes.endIndex {
            let c = bytes[k]
            if inQuote {
                if c == ASCII.backslash { k += 2; continue }
                if c == ASCII.quote { inQuote = false }
            } else if c == ASCII.quote {
                inQuote = true
            } else if c == ASCII.lt {
                angle = k
                break
            } else if c == ASCII.semicolon {
                break
            }
            k += 1
        }
        var displayName: String? = nil
        let uri: URI
        var bracketed = false
        if let angle {
            bracketed = true
            if sc.peek == ASCII.quote {
                displayName = try sc.quotedString().text
                sc.skipLWS()
                guard sc.i == angle else { throw sc.error("text between the quoted display name and '<'") }
            } else if sc.i < angle {
                // *(token LWS): only tokens and whitespace (RFC 4475 baddn: "Bell, Alexander" is not).
                let words = bytes[sc.i..<angle]
                if let bad = words.firstIndex(where: { !ByteClass.token.contains($0) && !ASCII.isLWS($0) }) {
                    sc.i = bad
                    throw sc.error("display name must be tokens or a quoted string")
                }
                displayName = SIPHeaders.unfold(words)
            }
            sc.i = angle + 1
            guard let close = bytes[sc.i...].firstIndex(of: ASCII.gt) else { throw sc.error("'<' without '>'") }
            do {
                uri = try URIParser.parse(bytes[sc.i..<close], context: .bracketed, limits: limits)
            } catch {
                var e = error
                e.header = header
                throw e
            }
            sc.i = close + 1
        } else {
            if sc.peek == ASCII.quote { throw sc.error("quoted display name without '<…>'") }
            do {
                let (u, end) = try URIParser.parsePrefix(bytes[sc.i...], context: .addrSpec, limits: limits)
                uri = u
                sc.i = end
            } catch {
                var e = error
                e.header = header
                throw e
            }
        }
        let parameters = try sc.parameters(limit: limits.maxParameters)
        try sc.expectEnd()
        return NameAddress(displayName: displayName, uri: uri, parameters: parameters, bracketed: bracketed)
    }

    /// Parses every element of a comma-separated list of name-addr/addr-spec values.
    static func parseList(_ bytes: ArraySlice<UInt8>, header: String, limits: SIPLimits) throws(SIPParseError) -> [NameAddress] {
        var result: [NameAddress] = []
        for element in try listElements(bytes, header: header, limits: limits) {
            result.append(try parse(element, header: header, limits: limits))
        }
        return result
    }
}
