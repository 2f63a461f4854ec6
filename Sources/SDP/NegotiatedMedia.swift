/// The outcome of offer/answer for one `m=` line, what the media engine needs to run the stream.
public struct NegotiatedMedia: Hashable, Sendable {
    /// Position of the `m=` line (0-based).
    public var index: Int
    /// Media type (`audio`, `video`…).
    public var kind: String
    /// True when the stream is rejected or disabled (port 0 in offer or answer, RFC 3264 §6).
    public var isRejected: Bool
    /// Our RTP port (0 when rejected).
    public var localPort: UInt16
    /// Where to send RTP: the peer's effective `c=` address.
    public var remoteAddress: String?
    public var remotePort: UInt16
    /// Where to send RTCP: `a=rtcp` (RFC 3605), the RTP port under rtcp-mux, else RTP port + 1.
    public var remoteRTCPPort: UInt16?
    /// Both sides agreed on `a=rtcp-mux` (RFC 5761).
    public var rtcpMux: Bool
    /// Agreed codecs (telephone-event excluded) in the answer's order; the first is the one to send.
    public var codecs: [NegotiatedCodec]
    /// Agreed RFC 4733 telephone-event mapping.
    public var telephoneEvent: NegotiatedCodec?
    /// Packet time to send with: the peer's `a=ptime`, else ours.
    public var ptime: Int?
    /// What we may do on this stream, from our side: our direction intersected with the peer's
    /// reversed, with sending removed when the peer gave `c=0.0.0.0`.
    public var direction: MediaDirection
    /// The peer does not accept media on this stream: it marked it `sendonly` or `inactive`, or used
    /// the legacy `c=0.0.0.0` (RFC 3264 §8.4). The usual sign of being put on hold.
    public var isHeldByRemote: Bool

    public init(index: Int, kind: String, isRejected: Bool, localPort: UInt16, remoteAddress: String?,
                remotePort: UInt16, remoteRTCPPort: UInt16?, rtcpMux: Bool, codecs: [NegotiatedCodec],
                telephoneEvent: NegotiatedCodec?, ptime: Int?, direction: MediaDirection, isHeldByRemote: Bool) {
        self.index = index
        self.kind = kind
        self.isRejected = isRejected
        self.localPort = localPort
        self.remoteAddress = remoteAddress
        self.remotePort = remotePort
        self.remoteRTCPPort = remoteRTCPPort
        self.rtcpMux = rtcpMux
        self.codecs = codecs
        self.telephoneEvent = telephoneEvent
        self.ptime = ptime
        self.direction = direction
        self.isHeldByRemote = isHeldByRemote
    }

    /// The codec to send with (the first agreed one), `nil` when none.
    public var sendCodec: NegotiatedCodec? { codecs.first }
    /// The payload type to send with, `nil` when none.
    public var sendPayloadType: UInt8? { codecs.first?.sendPayloadType }
    /// The telephone-event payload type to send DTMF with.
    public var telephoneEventPayloadType: UInt8? { telephoneEvent?.sendPayloadType }

    static func rejected(index: Int, kind: String) -> NegotiatedMedia {
        NegotiatedMedia(index: index, kind: kind, isRejected: true, localPort: 0, remoteAddress: nil,
                        remotePort: 0, remoteRTCPPort: nil, rtcpMux: false, codecs: [], telephoneEvent: nil,
                        ptime: nil, direction: .inactive, isHeldByRemote: false)
    }
}
