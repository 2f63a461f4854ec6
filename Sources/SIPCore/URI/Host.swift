/// The host part of a SIP URI or Via sent-by (RFC 3261 §25: `host = hostname / IPv4address /
/// IPv6reference`).
public enum Host: Sendable, Hashable, CustomStringConvertible {
    case name(String)
    case ipv4(String)
    /// The address without brackets, e.g. `2001:db8::10`.
    case ipv6(String)

    /// The host as written in a URI (IPv6 in brackets).
    public var description: String {
        switch self {
        case .name(let s), .ipv4(let s): return s
        case .ipv6(let s): return "[\(s)]"
        }
    }

    /// The address or name without IPv6 brackets.
    public var bare: String {
        switch self {
        case .name(let s), .ipv4(let s), .ipv6(let s): return s
        }
    }

    /// Whether this is a numeric address (RFC 3263 §4: no DNS lookups for it).
    public var isNumeric: Bool {
        if case .name = self { return false }
        return true
    }

    /// Parses a host from text (`[v6]`, dotted IPv4 or a hostname).
    public static func parse(_ text: String) -> Host? {
        let bytes = Array(text.utf8)
        return parse(bytes[...], allowBareIPv6: false)
    }

    /// Parses `bytes` as a host. `allowBareIPv6` accepts an IPv6 address without brackets, as the Via
    /// `received` and `maddr` parameters carry them (RFC 3261 §25 `via-received`, RFC 5118 §4.5).
    static func parse(_ bytes: ArraySlice<UInt8>, allowBareIPv6: Bool) -> Host? {
        guard let first = bytes.first else { return nil }
        if first == ASCII.lbracket {
            guard bytes.count > 2, bytes.last == ASCII.rbracket else { return nil }
            let inner = bytes.dropFirst().dropLast()
            return isIPv6(inner) ? .ipv6(String(bytes: inner)) : nil
        }
        if isIPv4(bytes) { return .ipv4(String(bytes: bytes)) }
        if bytes.contains(ASCII.colon) {
            return allowBareIPv6 && isIPv6(bytes) ? .ipv6(String(bytes: bytes)) : nil
        }
        guard bytes.allSatisfy({ ByteClass.hostchar.contains($0) }) else { return nil }
        // A hostname's labels are not empty, except for one trailing dot (RFC 1034 absolute names).
        var previousDot = true
        for c in bytes {
            if c == 0x2E {
                if previousDot { return nil }
                previousDot = true
            } else {
                previousDot = false
            }
        }
        return .name(String(bytes: bytes))
    }

    /// Dotted-quad IPv4 (each part 0–255, 1–3 digits).
    static func isIPv4(_ bytes: ArraySlice<UInt8>) -> Bool {
        var parts = 0, digits = 0, value = 0
        for c in bytes {
            if c == 0x2E {
                if digits == 0 { return false }
                parts += 1
                digits = 0
                value = 0
            } else if ByteClass.digit.contains(c) {
                digits += 1
                value = value * 10 + Int(c - 0x30)
                if digits > 3 || value > 255 { return false }
            } else {
                return false
            }
        }
        return parts == 3 && digits > 0
    }

    /// IPv6 address text (RFC 4291 §2.2), tolerating the three-colon form RFC 5118 §4.10 says robust
    /// implementations accept (`2001:db8:::192.0.2.1`).
    static func isIPv6(_ bytes: ArraySlice<UInt8>) -> Bool {
        guard bytes.count >= 2, bytes.count <= 64, bytes.allSatisfy({ ByteClass.ipv6char.contains($0) }) else { return false }
        var groups = 0, hexDigits = 0, colonsRun = 0, doubleColons = 0
        var i = bytes.startIndex
        while i < bytes.endIndex {
            let c = bytes[i]
            if c == ASCII.colon {
                if hexDigits > 0 { groups += 1 }
                hexDigits = 0
                colonsRun += 1
                if colonsRun == 2 { doubleColons += 1 }
                if colonsRun > 3 { return false }
            } else if c == 0x2E {
                // Trailing dotted IPv4: the rest must be IPv4 and counts as two groups.
                var start = i
                while start > bytes.startIndex, bytes[start - 1] != ASCII.colon { start -= 1 }
                guard isIPv4(bytes[start...]) else { return false }
                groups += 2
                hexDigits = 0
                break
            } else {
                colonsRun = 0
                hexDigits += 1
                if hexDigits > 4 { return false }
            }
            i += 1
        }
        if hexDigits > 0 { groups += 1 }
        // A lone colon cannot start or end an address; only "::" can (`1:2:3:4:5:6:7:8:` is not one).
        if colonsRun == 1 { return false }
        if bytes.first == ASCII.colon && bytes[bytes.startIndex + 1] != ASCII.colon { return false }
        if doubleColons > 1 { return false }
        if doubleColons == 1 { return groups <= 7 }
        return groups == 8
    }
}
