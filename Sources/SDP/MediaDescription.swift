/// One media section (RFC 4566 §5.14): the `m=` line and the `i=`, `c=`, `b=`, `k=` and `a=` fields
/// that follow it.
///
/// `m=<media> <port>[/<number of ports>] <proto> <fmt> ...`
public struct MediaDescription: Hashable, Sendable {
    /// `audio`, `video`, `text`, `application`, `message`, or an extension.
    public var media: String
    /// Transport port; 0 means the stream is rejected or disabled (RFC 3264 §5.1, §6).
    public var port: UInt16
    /// The optional `/<number of ports>` suffix.
    public var numberOfPorts: Int?
    /// Transport protocol, e.g. `RTP/AVP`, `RTP/SAVP`, `UDP/TLS/RTP/SAVPF`.
    public var proto: String
    /// Media formats; RTP payload type numbers for RTP profiles.
    public var formats: [String]
    /// `i=` media title.
    public var information: String?
    /// `c=` lines (several only for multicast, RFC 4566 §5.7).
    public var connections: [Connection]
    public var bandwidths: [Bandwidth]
    /// `k=` (obsolete, preserved).
    public var encryptionKey: String?
    public var attributes: [Attribute]

    public init(media: String, port: UInt16, numberOfPorts: Int? = nil, proto: String = "RTP/AVP",
                formats: [String], information: String? = nil, connections: [Connection] = [],
                bandwidths: [Bandwidth] = [], encryptionKey: String? = nil, attributes: [Attribute] = []) {
        self.media = media
        self.port = port
        self.numberOfPorts = numberOfPorts
        self.proto = proto
        self.formats = formats
        self.information = information
        self.connections = connections
        self.bandwidths = bandwidths
        self.encryptionKey = encryptionKey
        self.attributes = attributes
    }
}
