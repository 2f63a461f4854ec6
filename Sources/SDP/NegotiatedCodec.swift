/// A codec both sides agreed on, with the payload type each direction uses (RFC 3264 §6.1: each side
/// receives with the numbers in its own description, so it sends with the numbers in the peer's).
public struct NegotiatedCodec: Hashable, Sendable {
    public var encodingName: String
    public var clockRate: UInt32
    public var channels: Int?
    /// Payload type to put in RTP packets we send (the peer's number).
    public var sendPayloadType: UInt8
    /// Payload type we announced and will receive.
    public var receivePayloadType: UInt8
    /// The peer's `a=fmtp` for this codec (how it wants to receive), if any.
    public var remoteFormatParameters: String?

    public init(encodingName: String, clockRate: UInt32, channels: Int? = nil, sendPayloadType: UInt8,
                receivePayloadType: UInt8, remoteFormatParameters: String? = nil) {
        self.encodingName = encodingName
        self.clockRate = clockRate
        self.channels = channels
        self.sendPayloadType = sendPayloadType
        self.receivePayloadType = receivePayloadType
        self.remoteFormatParameters = remoteFormatParameters
    }
}
