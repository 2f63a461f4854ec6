import SIPCore

/// A message body offered or answered in a session (RFC 3264 offer/answer): normally SDP. This
/// layer does not parse it: the caller (with the SDP module) computes offers and answers, and the
/// session machine decides which message carries them.
public struct SessionBody: Sendable, Hashable, CustomStringConvertible {
    /// The Content-Type value, e.g. `application/sdp`.
    public var contentType: String
    public var bytes: [UInt8]

    public init(contentType: String = "application/sdp", bytes: [UInt8]) {
        self.contentType = contentType
        self.bytes = bytes
    }

    /// An SDP body from text.
    public init(sdp: String) { self.init(bytes: Array(sdp.utf8)) }

    /// The body as text (invalid UTF-8 repaired).
    public var text: String { String(decoding: bytes, as: UTF8.self) }

    public var description: String { contentType + " (" + String(bytes.count) + " octets)" }

    /// The body of `message`, nil when it has none. Without Content-Type it is taken as SDP.
    static func of(_ message: SIPMessage) -> SessionBody? {
        guard !message.body.isEmpty else { return nil }
        return SessionBody(contentType: message.headers[.contentType] ?? "application/sdp", bytes: Array(message.body))
    }

    /// Whether the body is SDP (`application/sdp`, any case, parameters ignored).
    var isSDP: Bool {
        let type = contentType.split(separator: ";", maxSplits: 1).first.map(String.init) ?? ""
        return lowercasedASCII(type.filter { $0 != " " && $0 != "\t" }) == "application/sdp"
    }
}

/// ASCII lower-casing (header tokens are ASCII).
func lowercasedASCII(_ s: String) -> String {
    String(decoding: s.utf8.map { ($0 >= 0x41 && $0 <= 0x5A) ? $0 + 0x20 : $0 }, as: UTF8.self)
}
