/// A session description (RFC 4566 §5): the session-level fields followed by the media sections.
///
/// Parse with `init(parsing:limits:)`, write with `serialized()`; fields are serialized in the order
/// RFC 4566 §5 prescribes (`v o s i u e p c b t r z k a`, then each `m=` with `i c b k a`), attributes
/// in their original order, lines ended with CRLF.
public struct SessionDescription: Hashable, Sendable {
    /// `v=`; always 0 (RFC 4566 §5.1).
    public var version: Int
    public var origin: Origin
    /// `s=`; RFC 4566 wants a single space when there is no name, but RFC 4317 prints an empty one,
    /// so both are accepted and kept as written.
    public var sessionName: String
    public var information: String?
    public var uri: String?
    public var emails: [String]
    public var phones: [String]
    /// Session-level `c=`.
    public var connection: Connection?
    public var bandwidths: [Bandwidth]
    public var timings: [Timing]
    /// `z=` value as written (pairs of `<adjustment time> <offset>`), checked by the parser.
    public var timeZones: String?
    public var encryptionKey: String?
    /// Session-level attributes, in order.
    public var attributes: [Attribute]
    public var media: [MediaDescription]

    public init(version: Int = 0, origin: Origin, sessionName: String = "-", information: String? = nil,
                uri: String? = nil, emails: [String] = [], phones: [String] = [],
                connection: Connection? = nil, bandwidths: [Bandwidth] = [],
                timings: [Timing] = [Timing()], timeZones: String? = nil, encryptionKey: String? = nil,
                attributes: [Attribute] = [], media: [MediaDescription] = []) {
        self.version = version
        self.origin = origin
        self.sessionName = sessionName
        self.information = information
        self.uri = uri
        self.emails = emails
        self.phones = phones
        self.connection = connection
        self.bandwidths = bandwidths
        self.timings = timings
        self.timeZones = timeZones
        self.encryptionKey = encryptionKey
        self.attributes = attributes
        self.media = media
    }
}
