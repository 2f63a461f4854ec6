/// Quality of protection (RFC 7616 §3.3, §3.4.3): `auth` protects the method and URI, `auth-int`
/// also the message body.
public enum DigestQop: String, CaseIterable, Hashable, Sendable {
    case auth = "auth"
    case authInt = "auth-int"

    /// Parses a qop token case-insensitively; nil for unknown values.
    public init?(token: String) {
        switch AuthTokenCase.lower(token) {
        case "auth": self = .auth
        case "auth-int": self = .authInt
        default: return nil
        }
    }

    /// The token as written in headers.
    public var token: String { rawValue }
}
