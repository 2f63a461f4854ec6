import SIPCore

/// The Digest algorithms of the IANA "Hash Algorithms for HTTP Digest Authentication" registry
/// (RFC 7616 §3.2, §6.1) that SIP uses (RFC 8760 §2).
///
/// Ordered by strength (`<` means weaker): the hash first (MD5 < SHA-256 < SHA-512/256), then the
/// plain variant ranks above its `-sess` variant, so `.sorted(by: >)` gives a server's preference
/// order and `max()` a client's choice.
public enum DigestAlgorithm: CaseIterable, Hashable, Sendable, Comparable, CustomStringConvertible {
    case md5
    case md5Sess
    case sha256
    case sha256Sess
    case sha512_256
    case sha512_256Sess

    /// Parses an `algorithm` token case-insensitively; nil for unknown algorithms. A missing
    /// `algorithm` parameter means MD5 (RFC 7616 §3.3) — see `init(parameter:)`.
    public init?(token: String) {
        switch AuthTokenCase.lower(token) {
        case "md5": self = .md5
        case "md5-sess": self = .md5Sess
        case "sha-256": self = .sha256
        case "sha-256-sess": self = .sha256Sess
        case "sha-512-256": self = .sha512_256
        case "sha-512-256-sess": self = .sha512_256Sess
        default: return nil
        }
    }

    /// The algorithm named by an optional `algorithm` parameter: absent means MD5.
    public init?(parameter: String?) {
        guard let parameter else { self = .md5; return }
        self.init(token: parameter)
    }

    /// The registry token, e.g. `SHA-256-sess`.
    public var token: String {
        switch self {
        case .md5: return "MD5"
        case .md5Sess: return "MD5-sess"
        case .sha256: return "SHA-256"
        case .sha256Sess: return "SHA-256-sess"
        case .sha512_256: return "SHA-512-256"
        case .sha512_256Sess: return "SHA-512-256-sess"
        }
    }

    public var description: String { token }

    /// The underlying hash function.
    public var hashFunction: DigestHashFunction {
        switch self {
        case .md5, .md5Sess: return .md5
        case .sha256, .sha256Sess: return .sha256
        case .sha512_256, .sha512_256Sess: return .sha512_256
        }
    }

    /// Whether HA1 is the session variant H(H(user:realm:pw):nonce:cnonce) (RFC 7616 §3.4.2).
    public var isSession: Bool {
        switch self {
        case .md5Sess, .sha256Sess, .sha512_256Sess: return true
        case .md5, .sha256, .sha512_256: return false
        }
    }

    /// Strength rank used for ordering (higher is stronger).
    public var strength: Int { hashFunction.strength * 2 + (isSession ? 0 : 1) }

    public static func < (a: DigestAlgorithm, b: DigestAlgorithm) -> Bool { a.strength < b.strength }
}
