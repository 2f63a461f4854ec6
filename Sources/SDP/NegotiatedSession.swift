/// The outcome of one offer/answer exchange (RFC 3264): one entry per `m=` line, in order.
public struct NegotiatedSession: Hashable, Sendable {
    public var media: [NegotiatedMedia]

    public init(media: [NegotiatedMedia]) { self.media = media }

    /// The accepted streams (port not 0).
    public var activeMedia: [NegotiatedMedia] { media.filter { !$0.isRejected } }

    /// True when every accepted stream is held by the peer (and there is at least one).
    public var isHeldByRemote: Bool {
        let active = activeMedia
        return !active.isEmpty && active.allSatisfy(\.isHeldByRemote)
    }
}
