/// An Authorization or Proxy-Authorization header value (RFC 3261 §20.7, §20.28): Digest
/// credentials, or any other scheme kept as its parameters (RFC 3261 §25.1 `other-response`;
/// RFC 4475 §3.3.7 regaut01 requires an unknown scheme to parse).
public enum AuthCredentials: Hashable, Sendable {
    case digest(DigestCredentials)
    /// A scheme other than Digest, with its auth-params as received.
    case other(scheme: String, parameters: [AuthParameter])

    /// Parses a header value. The scheme name is matched case-insensitively.
    public init(parsing value: String, limits: AuthHeaderLimits = .default) throws(AuthHeaderError) {
        let (scheme, parameters) = try AuthHeaderScanner.scan(value, limits: limits)
        if AuthSyntax.lowercased(scheme) == "digest" {
            self = .digest(try DigestCredentials(scanned: parameters, endOffset: value.utf8.count))
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

    /// The header value, ready to be written after `Authorization: `.
    public var headerValue: String {
        switch self {
        case .digest(let c):
            return c.headerValue
        case .other(let scheme, let parameters):
            return parameters.isEmpty ? scheme : scheme + " " + parameters.map(\.serialized).joined(separator: ", ")
        }
    }
}
