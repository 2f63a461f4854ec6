/// What a client knows, or a server stores, to compute a Digest response for one user and realm.
public enum DigestSecret: Hashable, Sendable {
    /// The clear-text password.
    case password(String)
    /// Precomputed H(username ":" realm ":" password) in lower-case hex, per hash function
    /// (RFC 7616 §3.4.2: "A1" without the -sess part). A hash function missing from the table
    /// makes the algorithms using it unavailable for this user.
    case ha1([DigestHashFunction: String])

    /// H(username ":" realm ":" password) for `hash`, or nil when this secret cannot provide it.
    public func baseHA1(username: String, realm: String, hash: DigestHashFunction) -> String? {
        switch self {
        case .password(let password):
            return DigestComputation.baseHA1(hash: hash, username: username, realm: realm, password: password)
        case .ha1(let table):
            return table[hash].map(AuthTokenCase.lower)
        }
    }

    /// Whether this secret can be used with `algorithm`.
    public func supports(_ algorithm: DigestAlgorithm) -> Bool {
        switch self {
        case .password: return true
        case .ha1(let table): return table[algorithm.hashFunction] != nil
        }
    }
}
