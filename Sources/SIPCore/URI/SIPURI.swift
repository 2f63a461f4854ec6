/// A `sip:` or `sips:` URI (RFC 3261 §19.1).
///
/// The user, password, parameters and headers are kept as written, escapes included, so that a URI
/// serializes to the text it was parsed from. `userUnescaped` decodes the user part (RFC 4475 esc01,
/// escnull: `%00` is a real NUL octet and must not truncate anything, hence octets, not a String).
public struct SIPURI: Sendable, Hashable, CustomStringConvertible {
    /// `sips:` rather than `sip:`.
    public var isSecure: Bool
    public var user: String?
    public var password: String?
    public var host: Host
    public var port: UInt16?
    public var parameters: [Parameter]
    /// `?name=value&…` headers (not allowed in a Request-URI, RFC 3261 §19.1.1).
    public var headers: [Parameter]

    public init(
        isSecure: Bool = false,
        user: String? = nil,
        password: String? = nil,
        host: Host,
        port: UInt16? = nil,
        parameters: [Parameter] = [],
        headers: [Parameter] = []
    ) {
        self.isSecure = isSecure
        self.user = user
        self.password = password
        self.host = host
        self.port = port
        self.parameters = parameters
        self.headers = headers
    }

    public var scheme: String { isSecure ? "sips" : "sip" }

    public var description: String {
        var s = isSecure ? "sips:" : "sip:"
        if let user {
            s += user
            if let password { s += ":" + password }
            s += "@"
        }
        s += host.description
        if let port { s += ":" + String(port) }
        s += parameters.serialized
        if !headers.isEmpty {
            s += "?"
            s += headers.map(\.description).joined(separator: "&")
        }
        return s
    }

    /// The user part with `%HH` escapes decoded, as octets.
    public var userUnescaped: [UInt8]? { user.map { Percent.decode(Array($0.utf8)[...]) } }

    /// The `transport` parameter, lower-cased.
    public var transport: String? { parameters.parameter("transport").flatMap { $0 }?.asciiLowercased }
    /// The `maddr` parameter.
    public var maddr: String? { parameters.parameter("maddr").flatMap { $0 } }
    /// Whether the `lr` parameter is present (RFC 3261 §19.1.1: loose routing).
    public var isLooseRouter: Bool { parameters.has("lr") }
    /// The `user` parameter (e.g. `phone`).
    public var userParameter: String? { parameters.parameter("user").flatMap { $0 } }

    /// The URI without parameters and headers that RFC 3261 §10.3 step 5 and §19.1.4 leave out of an
    /// address-of-record: scheme, user and host (and port), as used for location-service keys.
    public var addressOfRecord: String {
        var s = isSecure ? "sips:" : "sip:"
        if let user { s += String(bytes: Percent.decode(Array(user.utf8)[...])) + "@" }
        s += host.description.asciiLowercased
        if let port { s += ":" + String(port) }
        return s
    }

    /// URI comparison per RFC 3261 §19.1.4: user and password case-sensitive after unescaping, host
    /// case-insensitive, ports compared literally (absent ≠ 5060), parameters that appear in both must
    /// match, and `user`, `ttl`, `method`, `maddr`, `transport` must match when either has them, headers
    /// must all match.
    public func isEquivalent(to other: SIPURI) -> Bool {
        guard isSecure == other.isSecure, port == other.port else { return false }
        guard userUnescaped == other.userUnescaped else { return false }
        guard password.map({ Percent.decode(Array($0.utf8)[...]) }) == other.password.map({ Percent.decode(Array($0.utf8)[...]) }) else { return false }
        guard host.bare.asciiLowercased == other.host.bare.asciiLowercased else { return false }
        for p in parameters {
            if let v = other.parameters.parameter(p.name) {
                let a = p.value.map { String(bytes: Percent.decode(Array($0.utf8)[...])).asciiLowercased }
                let b = v.map { String(bytes: Percent.decode(Array($0.utf8)[...])).asciiLowercased }
                if a != b { return false }
            }
        }
        for name in ["user", "ttl", "method", "maddr", "transport"] {
            if parameters.has(name) != other.parameters.has(name) { return false }
        }
        guard headers.count == other.headers.count else { return false }
        for h in headers {
            guard let v = other.headers.parameter(h.name), v == h.value else { return false }
        }
        return true
    }
}

/// A `tel:` URI (RFC 3966): a global (`+…`) or local number with parameters.
public struct TelURI: Sendable, Hashable, CustomStringConvertible {
    public var number: String
    public var parameters: [Parameter]

    public init(number: String, parameters: [Parameter] = []) {
        self.number = number
        self.parameters = parameters
    }

    public var isGlobal: Bool { number.hasPrefix("+") }
    public var description: String { "tel:" + number + parameters.serialized }
}

/// Any URI a SIP message can carry: SIP/SIPS, tel, or another absolute URI kept as text (RFC 3261
/// §25 `absoluteURI`; RFC 4475 unkscm, novelsc, unksm2).
public enum URI: Sendable, Hashable, CustomStringConvertible {
    case sip(SIPURI)
    case tel(TelURI)
    /// Another scheme: the scheme and everything after its colon.
    case other(scheme: String, rest: String)

    public var description: String {
        switch self {
        case .sip(let u): return u.description
        case .tel(let t): return t.description
        case .other(let scheme, let rest): return scheme + ":" + rest
        }
    }

    /// The scheme, lower-cased.
    public var scheme: String {
        switch self {
        case .sip(let u): return u.scheme
        case .tel: return "tel"
        case .other(let scheme, _): return scheme.asciiLowercased
        }
    }

    public var sipURI: SIPURI? {
        if case .sip(let u) = self { return u }
        return nil
    }

    /// Parses a URI from text. `context` decides what may follow it (see `URIContext`).
    public static func parse(_ text: String, limits: SIPLimits = .default) throws(SIPParseError) -> URI {
        let bytes = Array(text.utf8)
        return try URIParser.parse(bytes[...], context: .bracketed, limits: limits)
    }
}

/// Percent-escape decoding (RFC 3261 §25.1 `escaped`).
public enum Percent {
    /// Decodes `%HH`; a `%` not followed by two hex digits is kept literally (RFC 4475 esc02).
    public static func decode(_ bytes: ArraySlice<UInt8>) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var i = bytes.startIndex
        while i < bytes.endIndex {
            let c = bytes[i]
            if c == ASCII.percent, i + 2 < bytes.endIndex,
               let h = ASCII.hexValue(bytes[i + 1]), let l = ASCII.hexValue(bytes[i + 2]) {
                out.append(h << 4 | l)
                i += 3
            } else {
                out.append(c)
                i += 1
            }
        }
        return out
    }

    /// Whether every `%` in `bytes` starts a valid `%HH` escape.
    static func isWellFormed(_ bytes: ArraySlice<UInt8>) -> Bool {
        var i = bytes.startIndex
        while i < bytes.endIndex {
            if bytes[i] == ASCII.percent {
                guard i + 2 < bytes.endIndex, ASCII.hexValue(bytes[i + 1]) != nil, ASCII.hexValue(bytes[i + 2]) != nil else { return false }
                i += 3
            } else {
                i += 1
            }
        }
        return true
    }
}
