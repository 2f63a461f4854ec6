/// The `o=` field (RFC 4566 §5.2): `o=<username> <sess-id> <sess-version> <nettype> <addrtype> <unicast-address>`.
public struct Origin: Hashable, Sendable {
    /// The user's login on the originating host, or `-`.
    public var username: String
    /// Numeric session identifier, kept as text (RFC 4566 only requires digits; values may exceed 64 bits).
    public var sessionID: String
    /// Session version; RFC 3264 §8 requires it to grow by one each time the description changes.
    public var sessionVersion: UInt64
    /// `IN` for the Internet.
    public var networkType: String
    /// `IP4` or `IP6`.
    public var addressType: String
    /// Address (or FQDN) of the originating host.
    public var unicastAddress: String

    public init(username: String = "-", sessionID: String, sessionVersion: UInt64,
                networkType: String = "IN", addressType: String = "IP4", unicastAddress: String) {
        self.username = username
        self.sessionID = sessionID
        self.sessionVersion = sessionVersion
        self.networkType = networkType
        self.addressType = addressType
        self.unicastAddress = unicastAddress
    }
}
