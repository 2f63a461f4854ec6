/// One media stream the local side can run: what an `m=` line of its offers contains and what it
/// accepts in an offered `m=` line of the same media type (RFC 3264 §5.1, §6.1).
///
/// Each capability backs at most one `m=` line of a session, so two audio streams need two audio
/// capabilities (RFC 4317 §2.4). The capability's index in `LocalCapabilities.media` identifies it
/// across offers and answers.
public struct MediaCapability: Hashable, Sendable {
    /// The media type: `audio`, `video`…
    public var kind: String
    /// Transport protocol; offered streams with another protocol are rejected.
    public var proto: String
    /// Local RTP port for this stream (RTCP on port + 1 unless rtcp-mux is negotiated).
    public var port: UInt16
    /// Address for this stream when it differs from the session address (a media-level `c=`).
    public var address: String?
    /// Codecs in order of preference.
    public var codecs: [Codec]
    public var telephoneEvent: TelephoneEventCapability?
    /// `a=ptime` to announce, milliseconds.
    public var ptime: Int?
    /// `a=maxptime` to announce, milliseconds.
    public var maxptime: Int?
    /// The directions this side wants; answers intersect it with the offer's reversed direction.
    public var direction: MediaDirection
    /// Offer and accept `a=rtcp-mux` (RFC 5761).
    public var rtcpMux: Bool

    public init(kind: String, proto: String = "RTP/AVP", port: UInt16, address: String? = nil,
                codecs: [Codec], telephoneEvent: TelephoneEventCapability? = nil, ptime: Int? = nil,
                maxptime: Int? = nil, direction: MediaDirection = .sendrecv, rtcpMux: Bool = false) {
        self.kind = kind
        self.proto = proto
        self.port = port
        self.address = address
        self.codecs = codecs
        self.telephoneEvent = telephoneEvent
        self.ptime = ptime
        self.maxptime = maxptime
        self.direction = direction
        self.rtcpMux = rtcpMux
    }
}
