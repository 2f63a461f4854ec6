/// An in-memory `DigestCredentialStore`: secrets by realm and user name.
public struct DigestUserTable: DigestCredentialStore, Hashable, Sendable {
    private var users: [String: [String: DigestSecret]] = [:]

    public init() {}

    /// Adds or replaces a user.
    public mutating func set(_ secret: DigestSecret, username: String, realm: String) {
        users[realm, default: [:]][username] = secret
    }

    public func secret(username: String, realm: String) -> DigestSecret? {
        users[realm]?[username]
    }

    /// Resolves a user hash by hashing every user name of the realm (fine for a router's handful
    /// of lines; a large store would keep an index per algorithm).
    public func username(userhash: String, realm: String, algorithm: DigestAlgorithm) -> String? {
        guard let table = users[realm] else { return nil }
        for name in table.keys.sorted()
        where DigestHex.constantTimeEqual(DigestComputation.userhash(algorithm: algorithm, username: name, realm: realm), userhash) {
            return name
        }
        return nil
    }
}
