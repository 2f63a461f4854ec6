import DialtoneTestKit
import SIPCore
import Testing

/// Access to the RFC 4475 torture messages by their RFC name (`wsinv`, `badinv01`, …), through the
/// fixture index so that a renamed or missing file fails loudly.
enum RFC4475 {
    static let index: [[String: String]] = Fixtures.tsv("rfc4475/index.tsv")

    /// The names of the messages of one class (`valid`, `invalid`, `semantic`), in index order.
    static func names(_ messageClass: String) -> [String] {
        index.filter { $0["class"] == messageClass }.compactMap { $0["name"] }
    }

    /// The octets of the message `name`.
    static func bytes(_ name: String) -> [UInt8] {
        guard let row = index.first(where: { $0["name"] == name }), let file = row["file"] else {
            preconditionFailure("RFC 4475 message \(name) is not in index.tsv")
        }
        return Fixtures.bytes("rfc4475/" + file)
    }

    /// The message `name` parsed as a datagram.
    static func message(_ name: String) throws -> SIPMessage {
        try SIPMessage.parse(datagram: bytes(name))
    }
}

/// RFC 5118 messages by name: the CRLF wire form or the bare-LF archive form.
enum RFC5118 {
    static let index: [[String: String]] = Fixtures.tsv("rfc5118/index.tsv")

    static var names: [String] { index.compactMap { $0["name"] } }

    /// Every message but ipv6-bad, the one that must not parse. (A named list, not a closure in
    /// `@Test(arguments:)`: Swift 6.0.3 crashes on those.)
    static var parseable: [String] { names.filter { $0 != "ipv6-bad" } }

    static func wire(_ name: String) -> [UInt8] { Fixtures.bytes("rfc5118/wire/\(name).sip") }
    static func archive(_ name: String) -> [UInt8] { Fixtures.bytes("rfc5118/archive/\(name).dat") }
}

/// A verdict as a short comparable text: `accept`, `drop`, or the rejection status (`400`, `505`, …).
func outcome(_ verdict: SIPVerdict) -> String {
    switch verdict {
    case .accept: return "accept"
    case .drop: return "drop"
    case .reject(let r): return String(r.status)
    }
}

/// The rejection carried by a verdict, if any.
func rejection(_ verdict: SIPVerdict) -> SIPRejection? {
    if case .reject(let r) = verdict { return r }
    return nil
}

/// Inspects a datagram with the default policy for `role`.
func inspect(_ bytes: [UInt8], as role: SIPElementRole) -> (message: SIPMessage?, verdict: SIPVerdict) {
    SIPValidator.inspect(datagram: bytes, policy: SIPValidationPolicy(role: role))
}

/// Parses text as a datagram, with CRLF line ends (write the text with `\n`).
func parseText(_ text: String, limits: SIPLimits = .default) throws(SIPParseError) -> SIPMessage {
    try SIPMessage.parse(datagram: crlf(text), limits: limits)
}

/// Text with every `\n` turned into CRLF.
func crlf(_ text: String) -> [UInt8] {
    var out: [UInt8] = []
    for c in text.utf8 {
        if c == 0x0A { out.append(0x0D) }
        out.append(c)
    }
    return out
}

/// The parse error for a datagram, or nil when it parsed.
func parseError(_ bytes: [UInt8], limits: SIPLimits = .default) -> SIPParseError? {
    do {
        _ = try SIPMessage.parse(datagram: bytes, limits: limits)
        return nil
    } catch {
        return error
    }
}

/// The error a throwing view raises, or nil when it did not throw.
func viewError<T>(_ body: () throws -> T) -> SIPParseError? {
    do {
        _ = try body()
        return nil
    } catch let error as SIPParseError {
        return error
    } catch {
        return SIPParseError(SIPParseError.Code("unexpected-error-type"), "\(error)")
    }
}

/// A small well-formed request to build variations on: `extra` header lines go after the mandatory ones.
func request(_ method: String = "OPTIONS", uri: String = "sip:bob@example.com", extra: [String] = [], body: String = "") -> [UInt8] {
    var lines = [
        "\(method) \(uri) SIP/2.0",
        "Via: SIP/2.0/UDP pc33.example.com;branch=z9hG4bK776asdhds",
        "Max-Forwards: 70",
        "To: Bob <sip:bob@example.com>",
        "From: Alice <sip:alice@example.com>;tag=1928301774",
        "Call-ID: a84b4c76e66710@pc33.example.com",
        "CSeq: 314159 \(method)",
    ]
    lines += extra
    lines.append("Content-Length: \(body.utf8.count)")
    return crlf(lines.joined(separator: "\n") + "\n\n") + Array(body.utf8)
}

extension Array where Element == UInt8 {
    /// Whether `needle` occurs in the array.
    func containsSequence(_ needle: [UInt8]) -> Bool {
        guard !needle.isEmpty, needle.count <= count else { return needle.isEmpty }
        for i in 0...(count - needle.count) where self[i] == needle[0] {
            if Array(self[i..<(i + needle.count)]) == needle { return true }
        }
        return false
    }

    /// Offset of the first empty line's end (start of the body), or nil.
    var headerSectionEnd: Int? {
        guard count >= 4 else { return nil }
        for i in 0...(count - 4) where self[i] == 0x0D && self[i + 1] == 0x0A && self[i + 2] == 0x0D && self[i + 3] == 0x0A {
            return i + 4
        }
        return nil
    }
}

/// What a framer event is: `message`, `malformed`, `ping` or `pong` (events are not Equatable).
func kind(_ event: SIPStreamFramer.Event?) -> String? {
    switch event {
    case .message?: return "message"
    case .malformed?: return "malformed"
    case .ping?: return "ping"
    case .pong?: return "pong"
    case nil: return nil
    }
}
