/// The outcome of `DigestServer.verify` (RFC 7616 §3.4, §3.3 `stale`; RFC 3261 §22.4).
public enum DigestVerification: Hashable, Sendable {
    /// The credentials are valid: `username` is the authenticated user (resolved from the user
    /// hash when `userhash` was used).
    case ok(username: String)
    /// The digest is right but the nonce expired (or its history was evicted): challenge again
    /// with `stale=true` so the client retries without asking its user.
    case stale
    /// The nonce was seen with this nonce count already: challenge again with `stale=true`.
    case replay
    /// The response does not match: wrong password (or wrong method, URI or body).
    case wrongPassword(username: String)
    /// No such user in this realm (or the user's stored HA1s do not cover the algorithm).
    case unknownUser(String)
    /// The credentials are for another realm.
    case realmMismatch(String)
    /// The algorithm is not one this server offers.
    case unsupportedAlgorithm(String)
    /// The nonce was not issued by this server (bad format or authenticator).
    case invalidNonce
    /// `uri` differs from the Request-URI (RFC 7616 §3.4.6).
    case uriMismatch
    /// A required parameter is missing or inconsistent (qop without nc/cnonce, qop not offered,
    /// opaque mismatch…).
    case malformed(String)

    /// Whether the request is authenticated.
    public var isOK: Bool {
        if case .ok = self { return true }
        return false
    }

    /// Whether the fresh challenge to send should carry `stale=true`.
    public var challengeIsStale: Bool {
        switch self {
        case .stale, .replay: return true
        default: return false
        }
    }
}
