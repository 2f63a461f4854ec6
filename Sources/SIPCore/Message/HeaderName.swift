/// A header field name: compared case-insensitively, with RFC 3261 §7.3.3 compact forms folded onto
/// their long names (`v` is `Via`, `m` is `Contact`, …).
///
/// Known names get a small integer id so that lookups in a parsed message compare integers, not text.
/// Unknown names keep their text (as written) and are compared case-insensitively.
public struct HeaderName: Hashable, Sendable, CustomStringConvertible, ExpressibleByStringLiteral {
    /// 1-based index into `HeaderName.known` for known names; 0 for an extension header.
    let id: UInt8
    /// The canonical spelling for known names, or the name as given for unknown ones.
    public let canonical: String


    init(id: UInt8, canonical: String) {
        self.id = id
        self.canonical = canonical
    }

    /// A name from text; compact forms and any letter case map to the known name.
    public init(_ text: String) {
        let bytes = Array(text.utf8)
        if let id = HeaderName.lookup(bytes[...]) {
            self = HeaderName.knownNames[Int(id) - 1]
        } else {
            self.init(id: 0, canonical: text)
        }
    }

    public init(stringLiteral value: String) { self.init(value) }

    public var description: String { canonical }

    /// Whether this is one of the names SIPCore knows (and has a compact form table entry for).
    public var isKnown: Bool { id != 0 }

    /// The compact form (RFC 3261 §7.3.3 and the extensions that define one), if the name has one.
    public var compactForm: Character? {
        guard id != 0 else { return nil }
        return HeaderName.table[Int(id) - 1].compact.map { Character(Unicode.Scalar($0)) }
    }

    public static func == (a: HeaderName, b: HeaderName) -> Bool {
        if a.id != 0 || b.id != 0 { return a.id == b.id }
        return a.canonical.asciiCaseInsensitiveEquals(b.canonical)
    }

    public func hash(into hasher: inout Hasher) {
        if id != 0 { hasher.combine(id) } else { hasher.combine(canonical.asciiLowercased) }
    }

    // MARK: Known names


    struct Entry: Sendable {
        let canonical: String
        let compact: UInt8?
        let lower: [UInt8]
    }


    static let table: [Entry] = {
        let list: [(String, Character?)] = [
            ("Via", "v"), ("From", "f"), ("To", "t"), ("Call-ID", "i"), ("CSeq", nil),
            ("Max-Forwards", nil), ("Contact", "m"), ("Content-Length", "l"), ("Content-Type", "c"),
            ("Route", nil), ("Record-Route", nil), ("Expires", nil), ("Min-Expires", nil),
            ("Authorization", nil), ("WWW-Authenticate", nil), ("Proxy-Authenticate", nil),
            ("Proxy-Authorization", nil), ("Supported", "k"), ("Require", nil), ("Proxy-Require", nil),
            ("Unsupported", nil), ("Allow", nil), ("Event", "o"), ("Subscription-State", nil),
            ("Refer-To", "r"), ("Referred-By", "b"), ("Replaces", nil), ("Reason", nil),
            ("P-Asserted-Identity", nil), ("P-Preferred-Identity", nil), ("Privacy", nil),
            ("Session-Expires", "x"), ("Min-SE", nil), ("RSeq", nil), ("RAck", nil),
            ("Accept", nil), ("Accept-Encoding", nil), ("Accept-Language", nil), ("Alert-Info", nil),
            ("Allow-Events", "u"), ("Authentication-Info", nil), ("Call-Info", nil),
            ("Content-Disposition", nil), ("Content-Encoding", "e"), ("Content-Language", nil),
            ("Date", nil), ("Error-Info", nil), ("In-Reply-To", nil), ("MIME-Version", nil),
            ("Organization", nil), ("Priority", nil), ("Reply-To", nil), ("Retry-After", nil),
            ("Server", nil), ("Subject", "s"), ("Timestamp", nil), ("User-Agent", nil), ("Warning", nil),
            ("Path", nil), ("Service-Route", nil), ("Accept-Contact", "a"), ("Reject-Contact", "j"),
            ("Request-Disposition", "d"), ("Identity", "y"), ("Identity-Info", "n"),
        ]
        return list.map { name, compact in
            Entry(
                canonical: name,
                compact: compact.map { $0.asciiValue! | 0x20 },
                lower: name.utf8.map { ASCII.lower($0) }
            )
        }
    }()


    static let knownNames: [HeaderName] = table.indices.map { HeaderName(id: UInt8($0 + 1), canonical: table[$0].canonical) }

    /// Known-name ids bucketed by length, for lookup from raw octets without allocating.

    static let byLength: [[UInt8]] = {
        var buckets = [[UInt8]](repeating: [], count: 24)
        for (i, e) in table.enumerated() where e.lower.count < 24 { buckets[e.lower.count].append(UInt8(i + 1)) }
        return buckets
    }()

    /// Compact form letter → id.

    static let byCompact: [UInt8] = {
        var map = [UInt8](repeating: 0, count: 128)
        for (i, e) in table.enumerated() { if let c = e.compact { map[Int(c)] = UInt8(i + 1) } }
        return map
    }()

    /// The id of a known name written in `bytes` (any case, long or compact form), or nil.
    
    static func lookup(_ bytes: ArraySlice<UInt8>) -> UInt8? {
        let n = bytes.count
        if n == 1 {
            let c = ASCII.lower(bytes[bytes.startIndex])
            guard c < 128 else { return nil }
            let id = byCompact[Int(c)]
            return id == 0 ? nil : id
        }
        guard n < 24 else { return nil }
        let first = ASCII.lower(bytes[bytes.startIndex])
        outer: for id in byLength[n] {
            let lower = table[Int(id) - 1].lower
            if lower[0] != first { continue }
            var j = 1
            var i = bytes.index(after: bytes.startIndex)
            while i < bytes.endIndex {
                if ASCII.lower(bytes[i]) != lower[j] { continue outer }
                i += 1
                j += 1
            }
            return id
        }
        return nil
    }

    static func known(_ index: Int) -> HeaderName { knownNames[index] }

    public static let via = known(0)
    public static let from = known(1)
    public static let to = known(2)
    public static let callID = known(3)
    public static let cseq = known(4)
    public static let maxForwards = known(5)
    public static let contact = known(6)
    public static let contentLength = known(7)
    public static let contentType = known(8)
    public static let route = known(9)
    public static let recordRoute = known(10)
    public static let expires = known(11)
    public static let minExpires = known(12)
    public static let authorization = known(13)
    public static let wwwAuthenticate = known(14)
    public static let proxyAuthenticate = known(15)
    public static let proxyAuthorization = known(16)
    public static let supported = known(17)
    public static let require = known(18)
    public static let proxyRequire = known(19)
    public static let unsupported = known(20)
    public static let allow = known(21)
    public static let event = known(22)
    public static let subscriptionState = known(23)
    public static let referTo = known(24)
    public static let referredBy = known(25)
    public static let replaces = known(26)
    public static let reason = known(27)
    public static let pAssertedIdentity = known(28)
    public static let pPreferredIdentity = known(29)
    public static let privacy = known(30)
    public static let sessionExpires = known(31)
    public static let minSE = known(32)
    public static let rseq = known(33)
    public static let rack = known(34)
    public static let accept = known(35)
    public static let acceptEncoding = known(36)
    public static let acceptLanguage = known(37)
    public static let alertInfo = known(38)
    public static let allowEvents = known(39)
    public static let authenticationInfo = known(40)
    public static let callInfo = known(41)
    public static let contentDisposition = known(42)
    public static let contentEncoding = known(43)
    public static let contentLanguage = known(44)
    public static let date = known(45)
    public static let errorInfo = known(46)
    public static let inReplyTo = known(47)
    public static let mimeVersion = known(48)
    public static let organization = known(49)
    public static let priority = known(50)
    public static let replyTo = known(51)
    public static let retryAfter = known(52)
    public static let server = known(53)
    public static let subject = known(54)
    public static let timestamp = known(55)
    public static let userAgent = known(56)
    public static let warning = known(57)
    public static let path = known(58)
    public static let serviceRoute = known(59)
}
