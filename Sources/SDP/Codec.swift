/// A media format the local side can send and receive (RFC 3264 §5.1), identified by encoding name,
/// clock rate and channel count as in `a=rtpmap`.
public struct Codec: Hashable, Sendable {
    public var encodingName: String
    public var clockRate: UInt32
    /// Channel count; `nil` means the default (1 for audio).
    public var channels: Int?
    /// `a=fmtp` parameters to announce, if any.
    public var fmtp: String?
    /// Payload type used when this side offers: the static number for static codecs (e.g. 0 for
    /// PCMU), a number in 96…127 for dynamic ones. Answers keep the offerer's number (RFC 3264 §6.1).
    public var preferredPayloadType: UInt8

    public init(encodingName: String, clockRate: UInt32, channels: Int? = nil, fmtp: String? = nil,
                preferredPayloadType: UInt8) {
        self.encodingName = encodingName
        self.clockRate = clockRate
        self.channels = channels
        self.fmtp = fmtp
        self.preferredPayloadType = preferredPayloadType
    }

    public static let pcmu = Codec(encodingName: "PCMU", clockRate: 8000, preferredPayloadType: 0)
    public static let pcma = Codec(encodingName: "PCMA", clockRate: 8000, preferredPayloadType: 8)
    public static let g722 = Codec(encodingName: "G722", clockRate: 8000, preferredPayloadType: 9)
    public static let g729 = Codec(encodingName: "G729", clockRate: 8000, preferredPayloadType: 18)

    /// True when an `a=rtpmap` (or static assignment) names this codec: same encoding name
    /// (case-insensitive, RFC 4855 §3), same clock rate, same channel count (absent means 1).
    public func matches(_ map: RTPMap) -> Bool {
        encodingName.lowercased() == map.encodingName.lowercased()
            && clockRate == map.clockRate
            && (channels ?? 1) == (map.channels ?? 1)
    }

    /// The `a=rtpmap` for this codec under a payload type.
    public func rtpMap(payloadType: UInt8) -> RTPMap {
        RTPMap(payloadType: payloadType, encodingName: encodingName, clockRate: clockRate, channels: channels)
    }
}
