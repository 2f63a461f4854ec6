/// `a=rtpmap:<payload type> <encoding name>/<clock rate>[/<encoding parameters>]` (RFC 4566 §6).
public struct RTPMap: Hashable, Sendable {
    public var payloadType: UInt8
    public var encodingName: String
    public var clockRate: UInt32
    /// Number of audio channels (the encoding parameters); `nil` when absent, which means 1 for audio.
    public var channels: Int?

    public init(payloadType: UInt8, encodingName: String, clockRate: UInt32, channels: Int? = nil) {
        self.payloadType = payloadType
        self.encodingName = encodingName
        self.clockRate = clockRate
        self.channels = channels
    }

    /// Parses an `rtpmap` attribute value; `nil` when malformed.
    public init?(value: String) {
        let parts = value.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, let pt = parseUInt64(parts[0]), pt <= 127 else { return nil }
        let encoding = parts[1].split(separator: "/", omittingEmptySubsequences: false)
        guard encoding.count == 2 || encoding.count == 3, isToken(encoding[0]),
              let rate = parseUInt64(encoding[1]), rate > 0, rate <= UInt64(UInt32.max) else { return nil }
        var channels: Int?
        if encoding.count == 3 {
            guard let n = parseUInt64(encoding[2]), n >= 1, n <= 255 else { return nil }
            channels = Int(n)
        }
        self.init(payloadType: UInt8(pt), encodingName: String(encoding[0]), clockRate: UInt32(rate), channels: channels)
    }

    /// Parses an attribute named `rtpmap`; `nil` for any other attribute or a malformed value.
    public init?(attribute: Attribute) {
        guard attribute.name == "rtpmap", let value = attribute.value else { return nil }
        self.init(value: value)
    }

    public var value: String {
        var text = "\(payloadType) \(encodingName)/\(clockRate)"
        if let channels { text += "/\(channels)" }
        return text
    }

    public var attribute: Attribute { Attribute("rtpmap", value) }

    /// True for `telephone-event` (RFC 4733).
    public var isTelephoneEvent: Bool { encodingName.lowercased() == "telephone-event" }

    /// The static payload types of RFC 3551 §6 table 4 and 5 that are still in use.
    public static func staticPayloadType(_ pt: UInt8) -> RTPMap? {
        switch pt {
        case 0: RTPMap(payloadType: 0, encodingName: "PCMU", clockRate: 8000)
        case 3: RTPMap(payloadType: 3, encodingName: "GSM", clockRate: 8000)
        case 4: RTPMap(payloadType: 4, encodingName: "G723", clockRate: 8000)
        case 5: RTPMap(payloadType: 5, encodingName: "DVI4", clockRate: 8000)
        case 6: RTPMap(payloadType: 6, encodingName: "DVI4", clockRate: 16000)
        case 7: RTPMap(payloadType: 7, encodingName: "LPC", clockRate: 8000)
        case 8: RTPMap(payloadType: 8, encodingName: "PCMA", clockRate: 8000)
        case 9: RTPMap(payloadType: 9, encodingName: "G722", clockRate: 8000)
        case 10: RTPMap(payloadType: 10, encodingName: "L16", clockRate: 44100, channels: 2)
        case 11: RTPMap(payloadType: 11, encodingName: "L16", clockRate: 44100)
        case 12: RTPMap(payloadType: 12, encodingName: "QCELP", clockRate: 8000)
        case 13: RTPMap(payloadType: 13, encodingName: "CN", clockRate: 8000)
        case 14: RTPMap(payloadType: 14, encodingName: "MPA", clockRate: 90000)
        case 15: RTPMap(payloadType: 15, encodingName: "G728", clockRate: 8000)
        case 16: RTPMap(payloadType: 16, encodingName: "DVI4", clockRate: 11025)
        case 17: RTPMap(payloadType: 17, encodingName: "DVI4", clockRate: 22050)
        case 18: RTPMap(payloadType: 18, encodingName: "G729", clockRate: 8000)
        case 25: RTPMap(payloadType: 25, encodingName: "CelB", clockRate: 90000)
        case 26: RTPMap(payloadType: 26, encodingName: "JPEG", clockRate: 90000)
        case 28: RTPMap(payloadType: 28, encodingName: "nv", clockRate: 90000)
        case 31: RTPMap(payloadType: 31, encodingName: "H261", clockRate: 90000)
        case 32: RTPMap(payloadType: 32, encodingName: "MPV", clockRate: 90000)
        case 33: RTPMap(payloadType: 33, encodingName: "MP2T", clockRate: 90000)
        case 34: RTPMap(payloadType: 34, encodingName: "H263", clockRate: 90000)
        default: nil
        }
    }
}
