/// A WWW-Authenticate or Proxy-Authenticate header value (RFC 3261 §20.44, §20.27): a Digest
/// challenge, or any other scheme kept as its parameters (RFC 3261 §25.1 `other-challenge`).
public enum AuthChallenge: Hashable, Sendable {
    case digest(DigestChallenge)
    /// A scheme other than Digest, with its auth-params as received.
    case other(scheme: String, parameters: [AuthParameter])

    /// Parses a header value. The scheme name is matched case-insensitively.
    public init(parsing value: String, limits: AuthHeaderLimits = .default) throws(AuthHeaderError) {
        let (scheme, parameters) = try AuthHeaderScanner.scan(value, limits: limits)
        if AuthSyntax.lowercased(scheme) == "digest" {
            self = .digest(try DigestChallenge(scanned: parameters, endOffset: value.utf8.count))
        } else {
            self = .other(scheme: scheme, parameters: parameters.map(\.parameter))
        }
    }

    /// The scheme name (`Digest` for `.digest`).
    public var scheme: String {
        switch self {
        case .digest: return "Digest"
        case .other(let scheme, _): return scheme
        }
    }

    /// The header value, ready to be written after `WWW-Authenticate: `.
    public var headerValue: String {
        switch self {
        case .digest(let c):
            return c.headerValue
        case .other(let scheme, let parameters):
            return parameters.isEmpty ? scheme : scheme + " " + parameters.map(\.serialized).joined(separator: ", ")
        }
    }
}
