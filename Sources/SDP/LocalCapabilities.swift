/// What the local side can do, used by `OfferAnswerEngine` to build offers and answers.
public struct LocalCapabilities: Hashable, Sendable {
    /// `o=` username (RFC 4566 §5.2), `-` when there is none.
    public var username: String
    /// `s=` value; RFC 4566 asks for `-` or a single space when there is no name.
    public var sessionName: String
    /// Address of the session-level `c=` (RFC 4566 §5.7), an IP literal or FQDN.
    public var address: String
    /// Address in `o=`; defaults to `address`.
    public var originAddress: String
    /// `IP4` or `IP6`.
    public var addressType: String
    /// The streams this side can run, in the order of the `m=` lines of its first offer. Media types
    /// absent here are rejected with port 0 (RFC 3264 §6).
    public var media: [MediaCapability]
    /// Write `a=rtpmap` for static payload types too (RFC 4317 does; RFC 3264 §5.1 recommends it).
    public var includeStaticRTPMap: Bool

    public init(username: String = "-", sessionName: String = "-", address: String,
                originAddress: String? = nil, addressType: String = "IP4", media: [MediaCapability],
                includeStaticRTPMap: Bool = true) {
        self.username = username
        self.sessionName = sessionName
        self.address = address
        self.originAddress = originAddress ?? address
        self.addressType = addressType
        self.media = media
        self.includeStaticRTPMap = includeStaticRTPMap
    }
}
