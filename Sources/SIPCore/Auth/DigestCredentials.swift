/// The Digest response carried by Authorization and Proxy-Authorization
/// (RFC 3261 §20.7, §20.28, §25.1 `digest-response`; RFC 7616 §3.4; RFC 8760 §2).
///
/// A pure syntactic view: `algorithm` and `qop` are the tokens received; SIPAuth computes and checks
/// `response`. Parameters this type does not know are kept in `extensions`.
public struct DigestCredentials: Hashable, Sendable {
    /// The user name, or the user hash when `userhash` is true (RFC 7616 §3.4.4). When received as
    /// `username*` (RFC 7616 §3.4.4, RFC 5987 ext-value) this is the decoded text.
    public var username: String
    /// Whether the user name is (to be) sent as `username*=UTF-8''…` rather than `username="…"`.
    public var usernameIsExtended: Bool
    /// `realm`.
    public var realm: String
    /// `nonce`, echoed from the challenge.
    public var nonce: String
    /// `uri` (the Request-URI in SIP, RFC 3261 §22.4). Optional in the RFC 3261 §25.1 grammar (the
    /// §20.7 example omits it); a server rejects credentials without it.
    public var uri: String?
    /// `response`: 32 (MD5) or 64 (SHA-256, SHA-512-256) lower-case hex digits (RFC 8760 §2).
    public var response: String
    /// `algorithm` token as received (absent means MD5).
    public var algorithm: String?
    /// `cnonce` (required with qop).
    public var cnonce: String?
    /// `opaque`, echoed from the challenge.
    public var opaque: String?
    /// `qop`: the single quality of protection chosen (`auth` or `auth-int`).
    public var qop: String?
    /// `nc`: exactly 8 hex digits, as received (the response is computed over this exact text).
    public var nc: String?
    /// `userhash=true`: `username` is H(username ":" realm).
    public var userhash: Bool
    /// Parameters not listed above, in received order.
    public var extensions: [AuthParameter]

    public init(
        username: String,
        usernameIsExtended: Bool = false,
        realm: String,
        nonce: String,
        uri: String?,
        response: String,
        algorithm: String? = nil,
        cnonce: String? = nil,
        opaque: String? = nil,
        qop: String? = nil,
        nc: String? = nil,
        userhash: Bool = false,
        extensions: [AuthParameter] = []
    ) {
        self.username = username
        self.usernameIsExtended = usernameIsExtended
        self.realm = realm
        self.nonce = nonce
        self.uri = uri
        self.response = response
        self.algorithm = algorithm
        self.cnonce = cnonce
        self.opaque = opaque
        self.qop = qop
        self.nc = nc
        self.userhash = userhash
        self.extensions = extensions
    }

    /// `nc` as a number, when present and valid.
    public var nonceCount: UInt32? { nc.flatMap { UInt32($0, radix: 16) } }

    /// Parses a header value that must use the Digest scheme.
    public init(parsing value: String, limits: AuthHeaderLimits = .default) throws(AuthHeaderError) {
        let (scheme, parameters) = try AuthHeaderScanner.scan(value, limits: limits)
        guard AuthSyntax.lowercased(scheme) == "digest" else {
            throw AuthHeaderError(code: .expectedScheme, message: "scheme is '\(scheme)', not Digest", offset: 0)
        }
        try self.init(scanned: parameters, endOffset: value.utf8.count)
    }

    init(scanned parameters: [AuthHeaderScanner.Parameter], endOffset: Int) throws(AuthHeaderError) {
        var r = DigestParameterReader(parameters, endOffset: endOffset)
        let plain = r.take("username")
        let extended = r.take("username*")
        switch (plain, extended) {
        case (let p?, nil):
            username = p.parameter.value
            usernameIsExtended = false
        case (nil, let e?):
            username = try DigestCredentials.decodeExtValue(e.parameter.value, offset: e.offset)
            usernameIsExtended = true
        case (let p?, _?):
            throw AuthHeaderError(code: .duplicateParameter, message: "both 'username' and 'username*' are present (RFC 7616 §3.4)", offset: p.offset)
        case (nil, nil):
            throw AuthHeaderError(code: .missingParameter, message: "Digest credentials lack the 'username' parameter", offset: endOffset)
        }
        realm = try r.require("realm", in: "Digest credentials")
        nonce = try r.require("nonce", in: "Digest credentials")
        uri = r.take("uri")?.parameter.value
        response = try r.require("response", in: "Digest credentials")
        algorithm = r.take("algorithm")?.parameter.value
        cnonce = r.take("cnonce")?.parameter.value
        opaque = r.take("opaque")?.parameter.value
        qop = r.take("qop")?.parameter.value
        if let p = r.take("nc") {
            guard AuthSyntax.isHex(p.parameter.value, count: 8) else {
                throw AuthHeaderError(code: .invalidParameterValue, message: "'nc' must be 8 hex digits (RFC 3261 §25.1 nc-value)", offset: p.offset)
            }
            nc = p.parameter.value
        } else {
            nc = nil
        }
        userhash = r.flag("userhash")
        extensions = r.extensions
    }

    /// Decodes an RFC 5987 §3.2 ext-value: `charset "'" [ language ] "'" value-chars`, with
    /// charset UTF-8 or ISO-8859-1 and `%XX` escapes.
    static func decodeExtValue(_ s: String, offset: Int) throws(AuthHeaderError) -> String {
        func bad(_ why: String) -> AuthHeaderError {
            AuthHeaderError(code: .invalidParameterValue, message: "username*: \(why) (RFC 5987 ext-value)", offset: offset)
        }
        let parts = s.utf8.split(separator: UInt8(ascii: "'"), maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3 else { throw bad("expected charset'language'value") }
        let charset = AuthSyntax.lowercased(String(decoding: parts[0], as: UTF8.self))
        var bytes: [UInt8] = []
        var it = parts[2].makeIterator()
        while let b = it.next() {
            if b == UInt8(ascii: "%") {
                guard let h = it.next(), let l = it.next(), let hv = hexValue(h), let lv = hexValue(l) else {
                    throw bad("'%' not followed by two hex digits")
                }
                bytes.append(hv << 4 | lv)
            } else if b < 0x80 {
                bytes.append(b)
            } else {
                throw bad("non-ASCII character must be percent-encoded")
            }
        }
        switch charset {
        case "utf-8":
            var codec = UTF8()
            var input = bytes.makeIterator()
            var text = ""
            decoding: while true {
                switch codec.decode(&input) {
                case .scalarValue(let scalar): text.unicodeScalars.append(scalar)
                case .emptyInput: break decoding
                case .error: throw bad("invalid UTF-8")
                }
            }
            return text
        case "iso-8859-1":
            var text = ""
            text.unicodeScalars.append(contentsOf: bytes.map { Unicode.Scalar($0) })
            return text
        default:
            throw bad("unsupported charset '\(charset)'")
        }
    }

    private static func hexValue(_ b: UInt8) -> UInt8? {
        switch b {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return b - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return b - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return b - UInt8(ascii: "A") + 10
        default: return nil
        }
    }

    /// Encodes `s` as `UTF-8''…`, percent-encoding everything but ALPHA, DIGIT, "-", ".", "_", "~"
    /// (a subset of both RFC 5987 attr-char and the SIP token characters).
    static func encodeExtValue(_ s: String) -> String {
        let hex = Array("0123456789ABCDEF".utf8)
        var out = Array("UTF-8''".utf8)
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."),
                 UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.append(b)
            default:
                out += [UInt8(ascii: "%"), hex[Int(b >> 4)], hex[Int(b & 0xF)]]
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The parameters in canonical order, as they are serialized.
    public var parameters: [AuthParameter] {
        var p: [AuthParameter] = []
        if usernameIsExtended {
            p.append(AuthParameter(name: "username*", value: DigestCredentials.encodeExtValue(username), isQuoted: false))
        } else {
            p.append(AuthParameter(name: "username", value: username, isQuoted: true))
        }
        p.append(AuthParameter(name: "realm", value: realm, isQuoted: true))
        p.append(AuthParameter(name: "nonce", value: nonce, isQuoted: true))
        if let uri { p.append(AuthParameter(name: "uri", value: uri, isQuoted: true)) }
        p.append(AuthParameter(name: "response", value: response, isQuoted: true))
        if let algorithm { p.append(AuthParameter(name: "algorithm", value: algorithm, isQuoted: false)) }
        if let cnonce { p.append(AuthParameter(name: "cnonce", value: cnonce, isQuoted: true)) }
        if let opaque { p.append(AuthParameter(name: "opaque", value: opaque, isQuoted: true)) }
        if let qop { p.append(AuthParameter(name: "qop", value: qop, isQuoted: false)) }
        if let nc { p.append(AuthParameter(name: "nc", value: nc, isQuoted: false)) }
        if userhash { p.append(AuthParameter(name: "userhash", value: "true", isQuoted: false)) }
        return p + extensions
    }

    /// The header value: `Digest username="…", realm="…", …`.
    public var headerValue: String {
        "Digest " + parameters.map(\.serialized).joined(separator: ", ")
    }
}
