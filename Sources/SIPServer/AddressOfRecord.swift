import SIPCore

/// The key of the location service: an address-of-record in the canonical form of RFC 3261 §10.3
/// step 5 — "all URI parameters MUST be removed (including the user-param), and any escaped
/// characters MUST be converted to their unescaped form".
///
/// What is kept follows the URI comparison rules of §19.1.4: the scheme (`sip` and `sips` are
/// different AORs), the user unescaped and case-sensitive, the host lower-cased (a trailing dot of
/// an absolute name dropped), and the port as written — a URI without a port is not equivalent to
/// one with `:5060` (§19.1.4: "sip:bob@biloxi.com" and "sip:bob@biloxi.com:5060" differ).
public struct AddressOfRecord: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The canonical text, e.g. `sip:101@voice.lan`.
    public let text: String
    /// The user part, unescaped (nil when the URI has none).
    public let user: String?
    /// The host, lower-cased, IPv6 without brackets.
    public let host: String

    /// The AOR of a SIP or SIPS URI; nil for other schemes (a REGISTER's To must be SIP or SIPS,
    /// §10.2; tel: targets are not in the location service).
    public init?(_ uri: URI) {
        guard case .sip(let sip) = uri else { return nil }
        self.init(sip)
    }

    public init(_ uri: SIPURI) {
        let user = uri.userUnescaped.map { String(decoding: $0, as: UTF8.self) }
        var host = uri.host.bare.lowercased()
        if host.count > 1, host.hasSuffix(".") { host.removeLast() }
        var text = uri.isSecure ? "sips:" : "sip:"
        if let user { text += user + "@" }
        if case .ipv6 = uri.host { text += "[" + host + "]" } else { text += host }
        if let port = uri.port { text += ":" + String(port) }
        self.text = text
        self.user = user
        self.host = host
    }

    /// Restores an AOR saved as `text` (the location store file); nil when it is not a SIP URI.
    public init?(text: String) {
        guard let uri = try? URI.parse(text), case .sip(let sip) = uri else { return nil }
        self.init(sip)
    }

    public var description: String { text }

    public static func < (a: AddressOfRecord, b: AddressOfRecord) -> Bool { a.text < b.text }
}
