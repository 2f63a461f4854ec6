/// The Digest challenge carried by WWW-Authenticate and Proxy-Authenticate
/// (RFC 3261 §20.44, §20.27, §25.1 `digest-cln`; RFC 7616 §3.3; RFC 8760 §2).
///
/// A pure syntactic view: `algorithm` and the qop options are kept as the tokens received; SIPAuth
/// interprets them. Parameters this type does not know are kept in `extensions`.
///
///     let c = try DigestChallenge(parsing: #"Digest realm="atlanta.com", nonce="84a4cc6f", qop="auth""#)
///     c.headerValue   // Digest realm="atlanta.com", nonce="84a4cc6f", qop="auth"
public struct DigestChallenge: Hashable, Sendable {
    /// `realm` (required).
    public var realm: String
    /// `domain`: the space-separated URIs of the protection space (RFC 7616 §3.3).
    public var domain: [String]
    /// `nonce` (required).
    public var nonce: String
    /// `opaque`, echoed unchanged by the client.
    public var opaque: String?
    /// `stale=true`: the previous request's nonce was stale but its digest valid (RFC 7616 §3.3).
    public var stale: Bool
    /// `algorithm` token as received (absent means MD5).
    public var algorithm: String?
    /// `qop` options (`qop="auth,auth-int"`); empty when the parameter is absent (RFC 2069 style).
    public var qopOptions: [String]
    /// `userhash=true` (RFC 7616 §3.4.4).
    public var userhash: Bool
    /// `charset` (RFC 7616 §3.3: only "UTF-8" is defined).
    public var charset: String?
    /// Parameters not listed above, in received order.
    public var extensions: [AuthParameter]

    public init(
        realm: String,
        domain: [String] = [],
        nonce: String,
        opaque: String? = nil,
        stale: Bool = false,
        algorithm: String? = nil,
        qopOptions: [String] = [],
        userhash: Bool = false,
        charset: String? = nil,
        extensions: [AuthParameter] = []
    ) {
        self.realm = realm
        self.domain = domain
        self.nonce = nonce
        self.opaque = opaque
        self.stale = stale
        self.algorithm = algorithm
        self.qopOptions = qopOptions
        self.userhash = userhash
        self.charset = charset
        self.extensions = extensions
    }

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
        realm = try r.require("realm", in: "Digest challenge")
        nonce = try r.require("nonce", in: "Digest challenge")
        domain = r.take("domain").map { DigestChallenge.split($0.parameter.value, on: [0x20, 0x09]) } ?? []
        opaque = r.take("opaque")?.parameter.value
        stale = r.flag("stale")
        algorithm = r.take("algorithm")?.parameter.value
        qopOptions = r.take("qop").map { DigestChallenge.split($0.parameter.value, on: [UInt8(ascii: ",")]) } ?? []
        userhash = r.flag("userhash")
        charset = r.take("charset")?.parameter.value
        extensions = r.extensions
    }

    /// Splits on any of `separators`, trims SP/HT around items, drops empty items.
    static func split(_ s: String, on separators: [UInt8]) -> [String] {
        s.utf8.split(whereSeparator: { separators.contains($0) }).compactMap { part -> String? in
            var slice = part
            while let f = slice.first, f == 0x20 || f == 0x09 { slice = slice.dropFirst() }
            while let l = slice.last, l == 0x20 || l == 0x09 { slice = slice.dropLast() }
            return slice.isEmpty ? nil : String(decoding: slice, as: UTF8.self)
        }
    }

    /// The parameters in canonical order, as they are serialized.
    public var parameters: [AuthParameter] {
        var p: [AuthParameter] = [AuthParameter(name: "realm", value: realm, isQuoted: true)]
        if !domain.isEmpty { p.append(AuthParameter(name: "domain", value: domain.joined(separator: " "), isQuoted: true)) }
        p.append(AuthParameter(name: "nonce", value: nonce, isQuoted: true))
        if let opaque { p.append(AuthParameter(name: "opaque", value: opaque, isQuoted: true)) }
        if stale { p.append(AuthParameter(name: "stale", value: "true", isQuoted: false)) }
        if let algorithm { p.append(AuthParameter(name: "algorithm", value: algorithm, isQuoted: false)) }
        if !qopOptions.isEmpty { p.append(AuthParameter(name: "qop", value: qopOptions.joined(separator: ","), isQuoted: true)) }
        if let charset { p.append(AuthParameter(name: "charset", value: charset, isQuoted: false)) }
        if userhash { p.append(AuthParameter(name: "userhash", value: "true", isQuoted: false)) }
        return p + extensions
    }

    /// The header value: `Digest realm="…", nonce="…", …`.
    public var headerValue: String {
        "Digest " + parameters.map(\.serialized).joined(separator: ", ")
    }
}
