import SIPCore

/// The parameters of an outgoing call (`InviteSession(outgoing:)`): the initial INVITE is built from
/// them (RFC 3261 §8.1.1). Identifiers are chosen by the caller (random Call-ID and tag, §8.1.1.4,
/// §19.3), so the machine stays deterministic.
public struct OutgoingCall: Sendable {
    /// The Request-URI (the callee).
    public var target: URI
    /// Our identity; `localTag` is added as its tag.
    public var from: NameAddress
    /// The callee's identity (no tag).
    public var to: NameAddress
    public var callID: String
    public var localTag: String
    /// Our Contact (where the peer sends requests in the dialog).
    public var contact: NameAddress
    /// A preloaded route set (outbound proxy, Service-Route), in order; routed per §8.1.2 / §12.2.1.1
    /// (a strict router first gets the Request-URI).
    public var routeSet: [NameAddress]
    /// The CSeq number of the first INVITE (below 2^31, §8.1.1.5).
    public var sequence: UInt32

    public init(target: URI, from: NameAddress, to: NameAddress, callID: String, localTag: String,
                contact: NameAddress, routeSet: [NameAddress] = [], sequence: UInt32 = 1) {
        self.target = target
        self.from = from
        self.to = to
        self.callID = callID
        self.localTag = localTag
        self.contact = contact
        self.routeSet = routeSet
        self.sequence = min(sequence, 0x7FFF_FFFF)
    }
}
