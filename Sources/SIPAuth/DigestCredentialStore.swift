/// Where a `DigestServer` finds users' secrets (kept apart from nonce handling, as Kamailio keeps
/// `auth` apart from `auth_db`).
public protocol DigestCredentialStore {
    /// The secret of `username` in `realm`, or nil for an unknown user.
    func secret(username: String, realm: String) -> DigestSecret?

    /// The user whose H(username ":" realm) under `algorithm` is `userhash` (RFC 7616 §3.4.4), or nil.
    func username(userhash: String, realm: String, algorithm: DigestAlgorithm) -> String?
}

extension DigestCredentialStore {
    /// Default: user hashes are not resolvable.
    public func username(userhash: String, realm: String, algorithm: DigestAlgorithm) -> String? { nil }
}
