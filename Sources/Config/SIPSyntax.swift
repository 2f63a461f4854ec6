/// Small, careful syntax checks for the SIP values of the line configuration (RFC 3261 §25), kept
/// in Config so that it needs no other module. They decide only whether a value can be used; the
/// user agent parses the values again with SIPCore.
enum SIPSyntax {
    // MARK: Hosts

    /// Lower-cased host, IPv6 without brackets; nil when `text` is not an RFC 3261 `host`: a host
    /// name (labels of letters, digits and '-', the last starting with a letter, one trailing dot
    /// allowed), an IPv4 address (four decimal numbers 0–255) or an IPv6 address (RFC 4291 §2.2,
    /// with or without brackets, no zone).
    static func canonicalHost(_ text: String) -> String? {
        let bytes = Array(text.utf8)
        guard !bytes.isEmpty else { return nil }
        if bytes.first == UInt8(ascii: "[") {
            guard bytes.count > 2, bytes.last == UInt8(ascii: "]") else { return nil }
            let inner = bytes[1..<(bytes.count - 1)]
            return isIPv6(inner) ? String(decoding: inner, as: UTF8.self).lowercased() : nil
        }
        if bytes.contains(UInt8(ascii: ":")) {
            return isIPv6(bytes[...]) ? text.lowercased() : nil
        }
        if bytes.allSatisfy({ isDigit($0) || $0 == UInt8(ascii: ".") }) {
            return isIPv4(bytes[...]) ? text : nil
        }
        return isHostname(bytes[...]) ? text.lowercased() : nil
    }

    /// `host` as it goes into a URI: IPv6 in brackets.
    static func uriHost(_ host: String) -> String {
        host.contains(":") ? "[\(host)]" : host
    }

    static func isIPv4(_ b: ArraySlice<UInt8>) -> Bool {
        let parts = b.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        guard parts.count == 4 else { return false }
        for part in parts {
            guard (1...3).contains(part.count), part.allSatisfy(isDigit) else { return false }
            var n = 0
            for d in part { n = n * 10 + Int(d - 0x30) }
            guard n <= 255 else { return false }
        }
        return true
    }

    /// RFC 4291 §2.2 text forms: eight groups of 1–4 hex digits, one `::` standing for one or more
    /// zero groups, the last 32 bits optionally as dotted IPv4.
    static func isIPv6(_ b: ArraySlice<UInt8>) -> Bool {
        guard b.count >= 2, b.count <= 45 else { return false }
        let colon = UInt8(ascii: ":")
        var doubleColon: Int? = nil
        var i = b.startIndex
        while i + 1 < b.endIndex {
            if b[i] == colon && b[i + 1] == colon {
                guard doubleColon == nil else { return false }
                doubleColon = i
                i += 2
                // ":::" is not allowed.
                if i < b.endIndex, b[i] == colon { return false }
                continue
            }
            i += 1
        }
        if let dc = doubleColon {
            guard let head = groupCount(b[b.startIndex..<dc], ipv4Tail: false),
                  let tail = groupCount(b[(dc + 2)..<b.endIndex], ipv4Tail: true) else { return false }
            return head + tail <= 7
        }
        return groupCount(b, ipv4Tail: true) == 8
    }

    /// How many 16-bit groups `part` (colon-separated, no `::`) stands for; nil when malformed.
    private static func groupCount(_ part: ArraySlice<UInt8>, ipv4Tail: Bool) -> Int? {
        if part.isEmpty { return 0 }
        let fields = part.split(separator: UInt8(ascii: ":"), omittingEmptySubsequences: false)
        var count = 0
        for (k, field) in fields.enumerated() {
            if ipv4Tail && k == fields.count - 1 && field.contains(UInt8(ascii: ".")) {
                guard isIPv4(field) else { return nil }
                count += 2
                continue
            }
            guard (1...4).contains(field.count), field.allSatisfy(isHex) else { return nil }
            count += 1
        }
        return count
    }

    /// RFC 3261 `hostname`: `*( domainlabel "." ) toplabel [ "." ]`, at most 253 octets.
    static func isHostname(_ b: ArraySlice<UInt8>) -> Bool {
        var body = b
        if body.last == UInt8(ascii: ".") { body = body.dropLast() }
        guard !body.isEmpty, body.count <= 253 else { return false }
        let labels = body.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        for label in labels {
            guard (1...63).contains(label.count),
                  label.allSatisfy({ isAlnum($0) || $0 == UInt8(ascii: "-") }),
                  let first = label.first, let last = label.last,
                  isAlnum(first), isAlnum(last) else { return false }
        }
        guard let top = labels.last?.first, isAlpha(top) else { return false }
        return true
    }

    // MARK: Address-of-record URIs

    /// The parts of a `sip:`/`sips:` address-of-record that decide which registration it is.
    struct AddressOfRecord: Equatable {
        var secure: Bool
        /// The user part with escapes resolved (RFC 3261 §19.1.4: compared after unescaping).
        var user: String
        /// Lower-cased, IPv6 without brackets.
        var host: String
        var port: UInt16?

        /// What two lines must not share: user, host and port (the scheme aside: `sip:` and
        /// `sips:` of one user at one registrar are still one account).
        var key: String {
            "\(user)@\(SIPSyntax.uriHost(host))" + (port.map { ":\($0)" } ?? "")
        }
    }

    /// Why a text is not a usable address-of-record; `echo` says whether the message may quote the
    /// value (not when it carries a password).
    struct URIProblem: Error {
        var reason: String
        var echo: Bool = true
    }

    /// Checks `sip:user@host[:port][;params]` (RFC 3261 §19.1.1, §25): scheme `sip` or `sips`
    /// (any case), a non-empty user part of `user` characters and `%HH` escapes, no password, a host
    /// as `canonicalHost` takes it (IPv6 in brackets), a port 1–65535, parameters of `paramchar`s,
    /// and no headers (`?…`): a REGISTER's To URI carries none.
    static func addressOfRecord(_ text: String) -> Result<AddressOfRecord, URIProblem> {
        let b = Array(text.utf8)
        // The scheme, ASCII case-insensitively (RFC 3261 §19.1.4).
        let lower = b.prefix(5).map { isAlpha($0) ? $0 | 0x20 : $0 }
        let secure: Bool
        var i: Int
        if lower == Array("sips:".utf8) {
            secure = true
            i = 5
        } else if lower.starts(with: Array("sip:".utf8)) {
            secure = false
            i = 4
        } else {
            return .failure(URIProblem(reason: "must start with sip: or sips:"))
        }
        guard let at = b[i...].firstIndex(of: UInt8(ascii: "@")) else {
            return .failure(URIProblem(reason: "needs a user part (sip:user@host)"))
        }
        let userInfo = b[i..<at]
        if userInfo.contains(UInt8(ascii: ":")) {
            return .failure(URIProblem(reason: "must not carry a password (sip:user:password@host); put it in AuthPassword", echo: false))
        }
        guard !userInfo.isEmpty else { return .failure(URIProblem(reason: "has an empty user part")) }
        guard let user = unescape(userInfo, allowed: isUserChar) else {
            return .failure(URIProblem(reason: "has a user part with characters a SIP URI does not allow unescaped"))
        }
        i = at + 1
        // host
        var hostEnd = i
        var hostText: String
        if i < b.count, b[i] == UInt8(ascii: "[") {
            guard let close = b[i...].firstIndex(of: UInt8(ascii: "]")) else {
                return .failure(URIProblem(reason: "has an unterminated IPv6 reference"))
            }
            hostEnd = close + 1
            hostText = String(decoding: b[i..<hostEnd], as: UTF8.self)
        } else {
            while hostEnd < b.count, b[hostEnd] != UInt8(ascii: ":"), b[hostEnd] != UInt8(ascii: ";"),
                  b[hostEnd] != UInt8(ascii: "?") {
                hostEnd += 1
            }
            hostText = String(decoding: b[i..<hostEnd], as: UTF8.self)
            if hostText.isEmpty { return .failure(URIProblem(reason: "has no host")) }
        }
        guard let host = canonicalHost(hostText) else {
            return .failure(URIProblem(reason: "has a host that is not a host name or IP address"))
        }
        i = hostEnd
        // port
        var port: UInt16? = nil
        if i < b.count, b[i] == UInt8(ascii: ":") {
            i += 1
            let start = i
            while i < b.count, isDigit(b[i]) { i += 1 }
            let digits = b[start..<i]
            guard (1...5).contains(digits.count), let n = Int(String(decoding: digits, as: UTF8.self)),
                  (1...65535).contains(n) else {
                return .failure(URIProblem(reason: "has a port that is not 1-65535"))
            }
            port = UInt16(n)
        }
        // parameters
        while i < b.count, b[i] == UInt8(ascii: ";") {
            i += 1
            let start = i
            while i < b.count, b[i] != UInt8(ascii: ";"), b[i] != UInt8(ascii: "?") { i += 1 }
            let parameter = b[start..<i]
            let parts = parameter.split(separator: UInt8(ascii: "="), maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = parts.first, !name.isEmpty, unescape(name, allowed: isParamChar) != nil,
                  parts.count == 1 || (!parts[1].isEmpty && unescape(parts[1], allowed: isParamChar) != nil) else {
                return .failure(URIProblem(reason: "has a malformed parameter"))
            }
        }
        if i < b.count {
            if b[i] == UInt8(ascii: "?") {
                return .failure(URIProblem(reason: "must not have headers (?…): an address-of-record has none"))
            }
            return .failure(URIProblem(reason: "has unexpected characters after the host"))
        }
        return .success(AddressOfRecord(secure: secure, user: user, host: host, port: port))
    }

    /// The text with `%HH` escapes resolved, when every other octet satisfies `allowed`.
    private static func unescape(_ b: ArraySlice<UInt8>, allowed: (UInt8) -> Bool) -> String? {
        var out: [UInt8] = []
        var i = b.startIndex
        while i < b.endIndex {
            let c = b[i]
            if c == UInt8(ascii: "%") {
                guard i + 2 < b.endIndex, let hi = hexValue(b[i + 1]), let lo = hexValue(b[i + 2]) else { return nil }
                out.append(hi << 4 | lo)
                i += 3
                continue
            }
            guard allowed(c) else { return nil }
            out.append(c)
            i += 1
        }
        return String(decoding: out, as: UTF8.self)
    }

    // MARK: Character classes

    /// RFC 3261 `unreserved` / `user-unreserved`: what a URI user part may hold unescaped.
    static func isUserChar(_ c: UInt8) -> Bool {
        isUnreserved(c) || Array("&=+$,;?/".utf8).contains(c)
    }

    /// RFC 3261 `paramchar` without escapes: `param-unreserved` / `unreserved`.
    static func isParamChar(_ c: UInt8) -> Bool {
        isUnreserved(c) || Array("[]/:&+$".utf8).contains(c)
    }

    /// RFC 3261 `unreserved`: alphanumerics and `mark`.
    static func isUnreserved(_ c: UInt8) -> Bool {
        isAlnum(c) || Array("-_.!~*'()".utf8).contains(c)
    }

    static func isDigit(_ c: UInt8) -> Bool { c >= 0x30 && c <= 0x39 }
    static func isAlpha(_ c: UInt8) -> Bool { (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) }
    static func isAlnum(_ c: UInt8) -> Bool { isDigit(c) || isAlpha(c) }
    static func isHex(_ c: UInt8) -> Bool { hexValue(c) != nil }

    static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case 0x30...0x39: return c - 0x30
        case 0x41...0x46: return c - 0x41 + 10
        case 0x61...0x66: return c - 0x61 + 10
        default: return nil
        }
    }

    /// A value quoted for an error message: control characters shown as `?`, long values cut.
    static func quoted(_ text: String, limit: Int = 80) -> String {
        var out = ""
        var n = 0
        for scalar in text.unicodeScalars {
            if n == limit { out += "…"; break }
            out.unicodeScalars.append(scalar.value < 0x20 || scalar.value == 0x7F ? "?" : scalar)
            n += 1
        }
        return "'\(out)'"
    }

    /// Characters as TR-106 counts a `string(N)`'s length.
    static func length(_ text: String) -> Int { text.unicodeScalars.count }

    static func hasControlCharacters(_ text: String) -> Bool {
        text.unicodeScalars.contains { $0.value < 0x20 || ($0.value >= 0x7F && $0.value < 0xA0) }
    }
}
