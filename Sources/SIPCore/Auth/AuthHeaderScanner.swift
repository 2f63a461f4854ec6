/// Splits an auth header value into its scheme and its auth-params (RFC 3261 §25.1):
///
///     challenge   = ("Digest" LWS digest-cln *(COMMA digest-cln)) / other-challenge
///     credentials = ("Digest" LWS digest-response) / other-response
///     other-challenge = auth-scheme LWS auth-param *(COMMA auth-param)
///     auth-param  = auth-param-name EQUAL ( token / quoted-string )
///
/// LWS (SP, HT, CRLF followed by SP or HT) is allowed around `=` and `,`. Parameter names must be
/// unique (case-insensitively). Nothing here is specific to Digest.
struct AuthHeaderScanner {
    /// A scanned parameter and the offset of its name, for error reporting in typed views.
    struct Parameter {
        var parameter: AuthParameter
        var offset: Int
        var lowercasedName: String
    }

    private let bytes: [UInt8]
    private var index = 0
    private let limits: AuthHeaderLimits

    private init(_ value: String, limits: AuthHeaderLimits) {
        self.bytes = Array(value.utf8)
        self.limits = limits
    }

    /// Scans `value` into a scheme and its parameters.
    static func scan(
        _ value: String, limits: AuthHeaderLimits
    ) throws(AuthHeaderError) -> (scheme: String, parameters: [Parameter]) {
        var scanner = AuthHeaderScanner(value, limits: limits)
        return try scanner.run()
    }

    private func fail(_ code: AuthHeaderError.Code, _ message: String, at offset: Int? = nil) -> AuthHeaderError {
        AuthHeaderError(code: code, message: message, offset: offset ?? index)
    }

    private var atEnd: Bool { index >= bytes.count }

    /// Skips LWS; returns whether anything was skipped. A CR or LF not part of a fold is an error.
    @discardableResult
    private mutating func skipLWS() throws(AuthHeaderError) -> Bool {
        let start = index
        while index < bytes.count {
            let b = bytes[index]
            if b == 0x20 || b == 0x09 {
                index += 1
            } else if b == 0x0D || b == 0x0A {
                try skipFold()
            } else {
                break
            }
        }
        return index > start
    }

    /// Skips `CRLF 1*WSP` (also accepts a bare LF before the WSP). Anything else is an error.
    private mutating func skipFold() throws(AuthHeaderError) {
        var i = index
        if bytes[i] == 0x0D { i += 1 }
        guard i < bytes.count, bytes[i] == 0x0A else {
            throw fail(.invalidCharacter, "CR not followed by LF")
        }
        i += 1
        guard i < bytes.count, bytes[i] == 0x20 || bytes[i] == 0x09 else {
            throw fail(.invalidCharacter, "line break not followed by whitespace (not a header fold)")
        }
        index = i
    }

    private mutating func token() -> String? {
        let start = index
        while index < bytes.count, AuthSyntax.isTokenByte(bytes[index]) { index += 1 }
        guard index > start else { return nil }
        return String(decoding: bytes[start..<index], as: UTF8.self)
    }

    /// Parses a quoted-string starting at the opening quote; returns the unescaped content.
    private mutating func quotedString() throws(AuthHeaderError) -> String {
        let open = index
        index += 1  // opening quote
        var out: [UInt8] = []
        while true {
            guard index < bytes.count else {
                throw fail(.unterminatedQuotedString, "quoted-string has no closing quote", at: open)
            }
            let b = bytes[index]
            switch b {
            case UInt8(ascii: "\""):
                index += 1
                return String(decoding: out, as: UTF8.self)
            case UInt8(ascii: "\\"):
                guard index + 1 < bytes.count else {
                    throw fail(.unterminatedQuotedString, "quoted-string ends inside a quoted-pair", at: open)
                }
                let escaped = bytes[index + 1]
                guard escaped <= 0x7F, escaped != 0x0A, escaped != 0x0D else {
                    throw fail(.invalidCharacter, "invalid character after backslash in quoted-pair", at: index + 1)
                }
                out.append(escaped)
                index += 2
            case 0x0D, 0x0A:
                // A header fold: its line break is dropped, the whitespace after it is kept.
                try skipFold()
            case 0x09:
                out.append(b)
                index += 1
            case 0x00...0x1F, 0x7F:
                throw fail(.invalidCharacter, "control character in quoted-string")
            default:
                out.append(b)
                index += 1
            }
        }
    }

    private mutating func run() throws(AuthHeaderError) -> (scheme: String, parameters: [Parameter]) {
        guard bytes.count <= limits.maxLength else {
            throw fail(.tooLong, "header value is \(bytes.count) bytes, limit is \(limits.maxLength)", at: limits.maxLength)
        }
        try skipLWS()
        guard !atEnd else { throw fail(.empty, "empty header value") }
        guard let scheme = token() else {
            throw fail(.expectedScheme, "expected an auth-scheme token")
        }
        var parameters: [Parameter] = []
        let separated = try skipLWS()
        if atEnd { return (scheme, parameters) }
        guard separated else {
            throw fail(.invalidCharacter, "expected whitespace after the auth-scheme")
        }
        var seen = Set<String>()
        while true {
            let nameOffset = index
            guard let name = token() else {
                throw fail(.expectedParameterName, "expected a parameter name")
            }
            try skipLWS()
            guard !atEnd, bytes[index] == UInt8(ascii: "=") else {
                throw fail(.expectedEquals, "expected '=' after parameter '\(name)'")
            }
            index += 1
            try skipLWS()
            let value: String
            let quoted: Bool
            if !atEnd, bytes[index] == UInt8(ascii: "\"") {
                value = try quotedString()
                quoted = true
            } else if let t = token() {
                value = t
                quoted = false
            } else {
                throw fail(.expectedValue, "expected a token or quoted-string value for '\(name)'")
            }
            let lower = AuthSyntax.lowercased(name)
            guard seen.insert(lower).inserted else {
                throw fail(.duplicateParameter, "parameter '\(name)' appears more than once", at: nameOffset)
            }
            guard parameters.count < limits.maxParameters else {
                throw fail(.tooManyParameters, "more than \(limits.maxParameters) parameters", at: nameOffset)
            }
            parameters.append(Parameter(
                parameter: AuthParameter(name: name, value: value, isQuoted: quoted),
                offset: nameOffset,
                lowercasedName: lower
            ))
            try skipLWS()
            if atEnd { return (scheme, parameters) }
            guard bytes[index] == UInt8(ascii: ",") else {
                if bytes[index] >= 0x80 || bytes[index] < 0x20 || bytes[index] == 0x7F {
                    throw fail(.invalidCharacter, "unexpected character after parameter '\(name)'")
                }
                throw fail(.expectedComma, "expected ',' or the end after parameter '\(name)'")
            }
            index += 1
            try skipLWS()
        }
    }
}
